/** Provider types of the reference API (seed 000). */
export const SEED_PROVIDER_TYPES = ['github', 'gitlab', 'bitbucket', 'google', 'box', 'microsoft', 'sharepoint', 'jira', 'confluence'] as const;

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
