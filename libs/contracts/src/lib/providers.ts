/** Provider types of the reference API (seed 000). */
export const SEED_PROVIDER_TYPES = [
  'github',
  'gitlab',
  'bitbucket',
  'google',
  'box',
  'microsoft',
  'sharepoint',
  'jira',
  'confluence',
] as const;

/**
 * Every provider type: the seed's nine plus two generic ones, `oidc` (endpoints from the issuer's
 * discovery document) and `oauth2` (endpoints given explicitly).
 */
export const PROVIDER_TYPES = [...SEED_PROVIDER_TYPES, 'oidc', 'oauth2'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Provider lifecycle statuses of the reference API. */
export const PROVIDER_STATUSES = ['active', 'invalid', 'deleting', 'deletion_failed'] as const;
export type ProviderStatus = (typeof PROVIDER_STATUSES)[number];

export interface OAuthProviderMetadata {
  baseUrl?: string;
  host?: string;
  settingsUrl?: string;
}

/** `models.OAuthProvider` of seed 000: never carries the client secret. */
export interface OAuthProvider {
  id: string;
  orgId: string;
  name: string;
  type: ProviderType;
  status: ProviderStatus;
  clientId: string;
  customScopes: string[];
  skipConsent: boolean;
  secureConfigId: string;
  metadata: OAuthProviderMetadata;
  createdAt: string;
  updatedAt: string;
}

export const PROVIDER_ORDER_BY = ['createdAt', '-createdAt'] as const;
export type ProviderOrderBy = (typeof PROVIDER_ORDER_BY)[number];

/** Query of `GET /api/v2/externalOAuth/providers/`. */
export interface ListProvidersQuery {
  ids?: string[];
  types?: ProviderType[];
  host?: string[];
  orderBy?: ProviderOrderBy;
}

export interface ProviderList {
  data: OAuthProvider[];
}

/** Explicit endpoints of an `oauth2` provider (or the resolved endpoints of any provider). */
export interface ProviderEndpointsInput {
  authorizationUrl?: string;
  tokenUrl?: string;
  userinfoUrl?: string;
  revocationUrl?: string;
  deviceAuthorizationUrl?: string;
}

/**
 * `provider.CreateProviderRequest` of seed 000, plus the instance settings a self-hosted or generic
 * provider needs: `host` or `baseUrl` (GitHub Enterprise Server, GitLab self-managed, Bitbucket /
 * Jira / Confluence Data Center, the SharePoint host), `tenant` (Microsoft, SharePoint), `issuer`
 * (`oidc`) and `endpoints` (`oauth2`).
 */
export interface CreateProviderRequest {
  clientId: string;
  clientSecret: string;
  name: string;
  type: ProviderType;
  scopes?: string[];
  skipConsent?: boolean;
  host?: string;
  baseUrl?: string;
  tenant?: string;
  issuer?: string;
  endpoints?: ProviderEndpointsInput;
  /** `github` only: the GitHub App's slug and/or install URL. */
  appSlug?: string;
  appInstallUrl?: string;
}

/** `provider.UpdateProviderRequest` of seed 000 (plus the GitHub App settings; `null` clears one). */
export interface UpdateProviderRequest {
  clientSecret?: string;
  name?: string;
  skipConsent?: boolean;
  status?: ProviderStatus;
  appSlug?: string | null;
  appInstallUrl?: string | null;
}

/** Job types: the seed's two, and key rotation (a system job, not visible to orgs). */
export const JOB_TYPES = ['DELETE_PROVIDER', 'STATS', 'ROTATE_KEYS'] as const;
export type JobType = (typeof JOB_TYPES)[number];
export const JOB_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'ERROR'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** One `handler.keyValue` of a job's details (values are strings, as in the seed's schema). */
export interface JobDetail {
  name: string;
  value: string;
}

/** `handler.jobStatusResponse` of seed 000. */
export interface OAuthProviderJob {
  id: string;
  orgId: string;
  name: string;
  type: JobType;
  status: JobStatus;
  details: JobDetail[];
  /** Null until the job starts (and until it ends). */
  startedAt: string | null;
  finishedAt: string | null;
}

/** `handler.DeleteOAuthProviderResponse` (and the answer to a job creation): where to follow the job. */
export interface JobLocation {
  location: string;
}

/** `models.AuthzStatus` of seed 000. */
export const AUTHORIZATION_STATUSES = [
  'active',
  'expired',
  'invalidOAuthClient',
  'invalidProviderState',
] as const;
export type AuthorizationStatus = (typeof AUTHORIZATION_STATUSES)[number];

/**
 * What the token-broker needs to call a provider's token endpoint, from the registry: the provider,
 * what the catalogue resolved for it (opaque here: the provider-adapters lib reads it) and the
 * client secret in clear. Internal: only over the bus (replies are sealed to the caller).
 */
export interface InternalProviderCredentials {
  provider: OAuthProvider;
  resolved: Record<string, unknown>;
  clientSecret: string;
  /** Bumped by every provider change: caches keyed by it never serve stale credentials. */
  version: number;
  /** The GitHub App settings the org gave (github only). */
  githubApp?: GitHubAppSettings;
}

/**
 * A GitHub App's public settings, so its install page is known before anyone installed it: the
 * app's slug (`{web}/apps/{slug}/installations/new`) or the install URL itself (which wins).
 */
export interface GitHubAppSettings {
  slug?: string;
  installUrl?: string;
}

/**
 * Published on the broker's events channel (`<BUS_PREFIX>:events`) when a provider's status or
 * credentials change. A hint only: whoever caches providers reads the provider again over the bus.
 */
export interface ProviderChangedEvent {
  type: 'provider.changed';
  orgId: string;
  providerId: string;
  at: string;
}
