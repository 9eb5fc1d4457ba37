import type { BrokerEvent, GitHubAppSettings, OAuthProvider } from '@broker/contracts';
import type { ResolvedProvider } from '@broker/provider-adapters';

/** What a call to a provider needs: the provider, what the catalogue resolved, the client secret. */
export interface ProviderCredentials {
  provider: OAuthProvider;
  resolved: ResolvedProvider;
  clientSecret: string;
  /** The GitHub App settings the org gave (github only). */
  githubApp?: GitHubAppSettings;
}

/** The ids of an org's providers, whatever their status (the external-auth list offers the active ones). */
export type ProviderDirectory = (orgId: string) => Promise<string[]>;

/**
 * How the tokens domain reaches the registry's providers (it never reads their tables): over the
 * bus in the token-broker, through the registry lib in the worker. Null for an unknown provider.
 * `fresh` bypasses any cache (a user action must see the provider's current status).
 */
export type ProviderAccess = (
  orgId: string,
  providerId: string,
  options?: { fresh?: boolean },
) => Promise<ProviderCredentials | null>;

/**
 * A provider's fields for display (a token answer, the authorized-providers list), without its
 * client secret: reading it never decrypts the secret. Null for an unknown provider.
 */
export type ProviderSummary = (orgId: string, providerId: string) => Promise<OAuthProvider | null>;

/**
 * Publishes a signed event on the bus (ids and statuses only). Fire and forget; the promise, never
 * rejected, lets a caller wait until Redis has taken it.
 */
export type EventSink = (event: BrokerEvent) => void | Promise<void>;
