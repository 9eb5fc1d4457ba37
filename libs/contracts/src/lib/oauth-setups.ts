/**
 * Seed 002 "provider OAuth setups": a setup is a hosted link that takes one user through one
 * provider's consent; completing it creates (or renews) that user's authorization. Field names are
 * the seed's (snake_case). How the seed's nouns map onto this product: docs/oauth-setups.md.
 */
export const OAUTH_SETUP_STATUSES = ['unused', 'opened', 'completed', 'failed', 'expired'] as const;
export type OAuthSetupStatus = (typeof OAUTH_SETUP_STATUSES)[number];

/** The auth config a completed setup created: the user's authorization (seed 000 authorized provider). */
export interface OAuthSetupAuthConfig {
  id: string;
  status: string;
  type: 'oauth2';
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  provider_id: string;
  provider_deployment_id: string;
  provider_auth_method_id: string;
  created_at: string;
  updated_at: string;
}

/** The deployment's OAuth client (its client id; the secret is never shown). */
export interface OAuthSetupCredentials {
  id: string;
  type: 'oauth2';
  name: string;
  description: string | null;
  metadata: Record<string, string>;
  provider_id: string;
  client_id: string;
  created_at: string;
  updated_at: string;
}

/** One access a provider grants, described in words for the person consenting. */
export interface OAuthAuthMethodScope {
  object: 'provider.auth_method.scope';
  id: string;
  scope: string;
  name: string;
  description: string;
}

/** The catalogue's OAuth method of a provider type, with what `config` accepts and the scopes it asks for. */
export interface OAuthAuthMethod {
  object: 'provider.auth_method';
  id: string;
  type: 'oauth';
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  scopes: OAuthAuthMethodScope[];
  provider_id: string;
  provider_specification_id: string;
  created_at: string;
  updated_at: string;
}

export interface OAuthSetupDeployment {
  id: string;
  name: string;
  provider_id: string;
}

/** `provider.oauth_setup` of seed 002, every field present (null where there is no value). */
export interface OAuthSetup {
  object: 'provider.oauth_setup';
  id: string;
  status: OAuthSetupStatus;
  is_ephemeral: boolean;
  provider_id: string;
  name: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  redirect_url: string | null;
  /** The hosted link while it can still be used (unused or opened, not expired); null after. */
  url: string | null;
  auth_config: OAuthSetupAuthConfig | null;
  credentials: OAuthSetupCredentials | null;
  auth_method: OAuthAuthMethod | null;
  deployment: OAuthSetupDeployment | null;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  /** Extension: the user whose account the setup links (the creator, or the user a service named). */
  user_id: string;
}

/** Body of `POST …/oauth-setups` (plus `user_id` and `expires_at`, documented extensions). */
export interface CreateOAuthSetupRequest {
  name: string;
  description?: string;
  metadata?: Record<string, string>;
  redirect_url?: string;
  is_ephemeral?: boolean;
  provider_auth_credentials_id?: string;
  provider_auth_method_id?: string;
  config: Record<string, unknown>;
  /** Extension: a service account names the user of its org whose account the setup links. */
  user_id?: string;
  /** Extension: when the link stops working (default 24 h; at most 7 days). */
  expires_at?: string;
}

export interface UpdateOAuthSetupRequest {
  name?: string;
  description?: string;
  metadata?: Record<string, string>;
}

export const LIST_ORDERS = ['asc', 'desc'] as const;
export type ListOrder = (typeof LIST_ORDERS)[number];

/** Query of `GET …/oauth-setups`: at most one of `after`, `before`, `cursor`. */
export interface ListOAuthSetupsQuery {
  limit?: number;
  after?: string;
  before?: string;
  cursor?: string;
  order?: ListOrder;
}

/** A page of a cursor-paginated list (the seed documents the parameters, not the body: ours). */
export interface Page<T> {
  items: T[];
  pagination: {
    has_more_before: boolean;
    has_more_after: boolean;
    /** Opaque cursor for the page after this one (null when there is none yet). */
    next_cursor: string | null;
    /** Opaque cursor for the page before this one (null when there is none). */
    previous_cursor: string | null;
  };
}

/** The error body of the seed 002 surface (the seed shows none: ours, stable). */
export interface OAuthSetupsErrorBody {
  object: 'error';
  status: number;
  code: string;
  message: string;
  errors: { field: string; message: string }[];
}

/** What the hosted setup page shows about the setup before consent (no secrets, no ids of others). */
export interface SetupPageInfo {
  setupId: string;
  name: string | null;
  description: string | null;
  redirectUrl: string | null;
  scopes: { scope: string; name: string; description: string }[];
}

/**
 * The registry's view of a hosted link opened by a browser (internal: token-broker ← registry):
 * whose account, at which deployment, with which scopes.
 */
export interface OpenedSetup extends SetupPageInfo {
  orgId: string;
  userId: string;
  providerId: string;
  /** The scopes to ask the provider for (config.scopes, else the deployment's). */
  requestScopes: string[];
}

/** How a hosted setup ended, as the token-broker reports it to the registry. */
export type SetupOutcome =
  | { outcome: 'completed'; authorizationId: string }
  | { outcome: 'failed'; error: string };
