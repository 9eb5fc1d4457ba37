import type { GitHubAppSettings, OAuthProvider } from '@broker/contracts';
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
export type ProviderAccess = (orgId: string, providerId: string, options?: { fresh?: boolean }) => Promise<ProviderCredentials | null>;

/**
 * Publishes a signed event on the bus (ids and statuses only). Fire and forget; the promise, never
 * rejected, lets a caller wait until Redis has taken it.
 */
export type EventSink = (event: import('@broker/contracts').BrokerEvent) => void | Promise<void>;

/**
 * Asks for a refresh ahead of expiry (the worker's `token-refresh` queue). `tokenKey` names the
 * token set written (credential id and generation), so each written token is refreshed at most
 * once, and a re-authorization gets its own refresh. Fire and forget.
 */
export type RefreshScheduler = (orgId: string, authorizationId: string, expiresAt: Date, tokenKey: string) => void;

/** When to refresh ahead: a fifth of the lifetime before expiry (10 s to 10 min), minus up to 10 % jitter. */
export function refreshAheadDelayMs(expiresAt: Date, now = Date.now(), random = Math.random): number {
  const lifetime = expiresAt.getTime() - now;
  const margin = refreshAheadMarginMs(lifetime);
  return Math.max(0, lifetime - margin - margin * 0.1 * random());
}

/** How long before expiry a token of this lifetime is refreshed ahead: a fifth of it, 10 s to 10 min. */
export function refreshAheadMarginMs(lifetimeMs: number): number {
  return Math.min(Math.max(lifetimeMs * 0.2, 10_000), 600_000);
}

/**
 * Whether a token written at `writtenAt` and expiring at `expiresAt` is due for its refresh ahead
 * now (the planned moment, its jitter and 2 s of slack). A refresh job is untrusted data from Redis:
 * it refreshes only what this says is due, so a job forged early does nothing.
 */
export function refreshAheadDue(writtenAt: Date, expiresAt: Date, now = Date.now()): boolean {
  const margin = refreshAheadMarginMs(expiresAt.getTime() - writtenAt.getTime());
  return expiresAt.getTime() - now <= margin * 1.1 + 2_000;
}

/** A failure of the tokens domain, with the bus error code it maps to. */
export class TokensError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'GONE' | 'CONFLICT' | 'BAD_REQUEST' | 'UNPROCESSABLE' | 'UNAVAILABLE' | 'FORBIDDEN',
    message: string,
    /** Machine-readable detail (e.g. `status` of a dead authorization, `providerStatus` of a blocked one). */
    readonly fields?: { name: string; message: string }[],
  ) {
    super(message);
    this.name = 'TokensError';
  }
}
