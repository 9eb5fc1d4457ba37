import type { ProviderType } from '@broker/contracts';

/** How the client authenticates at the token endpoint (RFC 6749 §2.3.1 / OIDC Core §9 names). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

/**
 * How a provider's tokens are revoked.
 * - `rfc7009`: POST `token=...` (form) to `url`, client authenticated as at the token endpoint.
 * - `github-grant`: GitHub's own API: `DELETE url` with `{client_id}` filled in, HTTP Basic
 *   `client_id:client_secret`, JSON body `{"access_token": "..."}`; removes the user's whole
 *   authorization of the app (every token), not just one token.
 * - `none`: no revocation API; the user revokes the app in the provider's account settings.
 */
export type RevocationDescriptor =
  | { kind: 'rfc7009'; url: string }
  | { kind: 'github-grant'; url: string }
  | { kind: 'none' };

/** Instance settings a provider type may take (the request field names). */
export type InstanceField = 'host' | 'baseUrl' | 'tenant' | 'issuer' | 'endpoints';

/**
 * The fixed facts of one deployment of a provider (cloud or self-hosted). URL strings are templates:
 * `{base}` is the instance's web base URL (no trailing slash, may carry a path prefix), `{host}` its
 * host (with port if any), `{api}` its REST API base, `{tenant}` the Microsoft tenant. `{client_id}`
 * in a revocation URL is left for the caller.
 */
export interface ProviderProfile {
  displayName: string;
  baseUrl: string;
  authorizationUrl: string;
  tokenUrl: string;
  userinfoUrl?: string;
  deviceAuthorizationUrl?: string;
  /** The OpenID issuer identifier, where the provider is also an OpenID provider with a fixed one. */
  issuer?: string;
  revocation: RevocationDescriptor;
  /** Scopes requested when the org configured none: identity plus offline access where needed. */
  defaultScopes: readonly string[];
  /** Extra parameters every authorization request carries (offline access, audience, consent). */
  extraAuthorizationParams: Readonly<Record<string, string>>;
  /** Whether the authorization code flow accepts PKCE with S256. */
  pkce: boolean;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Whether a refresh may return a new refresh token that replaces (and may invalidate) the old one. */
  rotatesRefreshTokens: boolean;
  scopeSeparator: string;
  /** Where an org admin registers / manages the OAuth app. */
  settingsUrl: string;
}

/**
 * How instances of a type are located:
 * - `cloud`: one fixed deployment, no settings;
 * - `cloud-or-self-hosted`: cloud unless `host` / `baseUrl` name a self-hosted instance;
 * - `tenant`: Microsoft identity platform, optional `tenant` (sharepoint also needs its `host`);
 * - `discovery`: OpenID Connect, endpoints from `{issuer}/.well-known/openid-configuration`;
 * - `explicit`: generic OAuth 2.0, endpoints given.
 */
export type Addressing = 'cloud' | 'cloud-or-self-hosted' | 'tenant' | 'discovery' | 'explicit';

export interface CatalogueEntry {
  type: ProviderType;
  displayName: string;
  addressing: Addressing;
  /** Instance settings accepted for this type; any other one is rejected. */
  accepts: readonly InstanceField[];
  /** Instance settings that must be given. */
  requires: readonly InstanceField[];
  cloud?: ProviderProfile;
  selfHosted?: ProviderProfile;
  /**
   * A self-hosted instance's REST API base (`{api}` in its templates): `template` (`{base}` when
   * absent), or the template of the first host suffix the instance's host name ends with.
   */
  selfHostedApi?: { template: string; byHostSuffix?: Readonly<Record<string, string>> };
  /** Hosts that mean the cloud deployment when given as `host` / `baseUrl` (e.g. `github.com`). */
  cloudHosts: readonly string[];
  /** Host suffixes of the vendor's cloud sites, which are not self-hosted instances (e.g. `.atlassian.net`). */
  cloudSiteSuffixes: readonly string[];
  /** Where the provider documents its OAuth endpoints. */
  docsUrl: string;
  /** Quirks worth knowing when calling the provider. */
  notes: readonly string[];
}
