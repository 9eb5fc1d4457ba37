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
  /** Hosts that mean the cloud deployment when given as `host` / `baseUrl` (e.g. `github.com`). */
  cloudHosts: readonly string[];
  /** Host suffixes of the vendor's cloud sites, which are not self-hosted instances (e.g. `.atlassian.net`). */
  cloudSiteSuffixes: readonly string[];
  /** Where the provider documents its OAuth endpoints. */
  docsUrl: string;
  /** Quirks worth knowing when calling the provider. */
  notes: readonly string[];
}

const ENTRA_SETTINGS = 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade';
const ATLASSIAN_CONSOLE = 'https://developer.atlassian.com/console/myapps/';
const MS_AUTHORITY = 'https://login.microsoftonline.com/{tenant}';

/** Atlassian Data Center (Jira, Confluence, Bitbucket) as an OAuth 2.0 provider ("incoming application links"). */
function atlassianDataCenter(
  displayName: string,
  userinfoUrl: string | undefined,
  scope: string,
): ProviderProfile {
  return {
    displayName,
    baseUrl: '{base}',
    authorizationUrl: '{base}/rest/oauth2/latest/authorize',
    tokenUrl: '{base}/rest/oauth2/latest/token',
    ...(userinfoUrl ? { userinfoUrl } : {}),
    revocation: { kind: 'none' },
    defaultScopes: [scope],
    extraAuthorizationParams: {},
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_post',
    rotatesRefreshTokens: true,
    scopeSeparator: ' ',
    settingsUrl: '{base}/plugins/servlet/applinks/listApplicationLinks',
  };
}

/** Atlassian Cloud OAuth 2.0 (3LO), shared by Jira and Confluence Cloud. */
function atlassianCloud(displayName: string, productScope: string): ProviderProfile {
  return {
    displayName,
    baseUrl: 'https://auth.atlassian.com',
    authorizationUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    userinfoUrl: 'https://api.atlassian.com/me',
    revocation: { kind: 'none' },
    defaultScopes: [productScope, 'read:me', 'offline_access'],
    extraAuthorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    rotatesRefreshTokens: true,
    scopeSeparator: ' ',
    settingsUrl: ATLASSIAN_CONSOLE,
  };
}

const ATLASSIAN_CLOUD_NOTES = [
  'Cloud tokens only work through the gateway https://api.atlassian.com/ex/{product}/{cloudId}/...; list the sites a token can reach with GET https://api.atlassian.com/oauth/token/accessible-resources.',
  'Cloud refresh tokens rotate: every refresh returns a new one and disables the one used; unused ones expire after 90 days.',
  'Cloud 3LO has no token revocation endpoint and no PKCE; the token request body may be JSON or form encoded.',
  'Data Center instances (host / baseUrl) are OAuth 2.0 providers through "incoming application links", with PKCE and their own scopes (READ, WRITE, ADMIN, SYSTEM_ADMIN).',
];

/** Every provider type's catalogue entry. */
export const PROVIDER_CATALOGUE: Readonly<Record<ProviderType, CatalogueEntry>> = {
  github: {
    type: 'github',
    displayName: 'GitHub',
    addressing: 'cloud-or-self-hosted',
    accepts: ['host', 'baseUrl'],
    requires: [],
    cloudHosts: ['github.com'],
    cloudSiteSuffixes: [],
    cloud: {
      displayName: 'GitHub',
      baseUrl: 'https://github.com',
      authorizationUrl: 'https://github.com/login/oauth/authorize',
      tokenUrl: 'https://github.com/login/oauth/access_token',
      userinfoUrl: 'https://api.github.com/user',
      deviceAuthorizationUrl: 'https://github.com/login/device/code',
      revocation: { kind: 'github-grant', url: 'https://api.github.com/applications/{client_id}/grant' },
      defaultScopes: ['read:user', 'user:email'],
      extraAuthorizationParams: {},
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: 'https://github.com/settings/developers',
    },
    selfHosted: {
      displayName: 'GitHub Enterprise Server',
      baseUrl: '{base}',
      authorizationUrl: '{base}/login/oauth/authorize',
      tokenUrl: '{base}/login/oauth/access_token',
      userinfoUrl: '{api}/user',
      deviceAuthorizationUrl: '{base}/login/device/code',
      revocation: { kind: 'github-grant', url: '{api}/applications/{client_id}/grant' },
      defaultScopes: ['read:user', 'user:email'],
      extraAuthorizationParams: {},
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: '{base}/settings/developers',
    },
    docsUrl: 'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps',
    notes: [
      'The token endpoint answers application/x-www-form-urlencoded unless the request sends Accept: application/json, and reports errors (bad_verification_code, ...) with HTTP 200.',
      'OAuth App tokens do not expire and come without a refresh token; GitHub App user tokens expire (8 h) and their refresh tokens rotate on use.',
      'Revocation is not RFC 7009: DELETE {api}/applications/{client_id}/grant with Basic client credentials removes the whole grant.',
      'Enterprise Server serves its REST API under {base}/api/v3; GHE.com data-residency hosts ({sub}.ghe.com) serve it at https://api.{sub}.ghe.com.',
      'PKCE (S256 only) is accepted since July 2025; the device flow does not use it.',
    ],
  },

  gitlab: {
    type: 'gitlab',
    displayName: 'GitLab',
    addressing: 'cloud-or-self-hosted',
    accepts: ['host', 'baseUrl'],
    requires: [],
    cloudHosts: ['gitlab.com'],
    cloudSiteSuffixes: [],
    cloud: {
      displayName: 'GitLab',
      baseUrl: 'https://gitlab.com',
      authorizationUrl: 'https://gitlab.com/oauth/authorize',
      tokenUrl: 'https://gitlab.com/oauth/token',
      userinfoUrl: 'https://gitlab.com/api/v4/user',
      deviceAuthorizationUrl: 'https://gitlab.com/oauth/authorize_device',
      issuer: 'https://gitlab.com',
      revocation: { kind: 'rfc7009', url: 'https://gitlab.com/oauth/revoke' },
      defaultScopes: ['read_user'],
      extraAuthorizationParams: {},
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: 'https://gitlab.com/-/user_settings/applications',
    },
    selfHosted: {
      displayName: 'GitLab Self-Managed',
      baseUrl: '{base}',
      authorizationUrl: '{base}/oauth/authorize',
      tokenUrl: '{base}/oauth/token',
      userinfoUrl: '{base}/api/v4/user',
      deviceAuthorizationUrl: '{base}/oauth/authorize_device',
      issuer: '{base}',
      revocation: { kind: 'rfc7009', url: '{base}/oauth/revoke' },
      defaultScopes: ['read_user'],
      extraAuthorizationParams: {},
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: '{base}/admin/applications',
    },
    docsUrl: 'https://docs.gitlab.com/api/oauth2/',
    notes: [
      'Access tokens expire after 2 hours; every refresh returns a new refresh token and revokes the old one.',
      'The device authorization grant needs GitLab 17.x or later on self-managed instances.',
      'Self-managed instance-wide applications live under Admin > Applications; users and groups can also own applications.',
    ],
  },

  bitbucket: {
    type: 'bitbucket',
    displayName: 'Bitbucket',
    addressing: 'cloud-or-self-hosted',
    accepts: ['host', 'baseUrl'],
    requires: [],
    cloudHosts: ['bitbucket.org'],
    cloudSiteSuffixes: [],
    cloud: {
      displayName: 'Bitbucket Cloud',
      baseUrl: 'https://bitbucket.org',
      authorizationUrl: 'https://bitbucket.org/site/oauth2/authorize',
      tokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
      userinfoUrl: 'https://api.bitbucket.org/2.0/user',
      revocation: { kind: 'none' },
      defaultScopes: ['account'],
      extraAuthorizationParams: {},
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_basic',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: 'https://bitbucket.org/account/workspaces/',
    },
    selfHosted: atlassianDataCenter('Bitbucket Data Center', undefined, 'PUBLIC_REPOS'),
    docsUrl: 'https://developer.atlassian.com/cloud/bitbucket/oauth-2/',
    notes: [
      'Cloud: the token endpoint expects HTTP Basic client authentication; permissions are ticked on the OAuth consumer, which lives in a workspace (Workspace settings > OAuth consumers, https://bitbucket.org/{workspace}/workspace/settings/oauth-consumers).',
      'Cloud: access tokens last 2 hours; refresh tokens rotate on use (enforced from May 2026) and expire after 3 months unused. No revocation endpoint, no PKCE.',
      'Data Center has no JSON "current user" endpoint: the user slug comes back in the X-AUSERNAME header of any REST response.',
    ],
  },

  google: {
    type: 'google',
    displayName: 'Google',
    addressing: 'cloud',
    accepts: [],
    requires: [],
    cloudHosts: [],
    cloudSiteSuffixes: [],
    cloud: {
      displayName: 'Google',
      baseUrl: 'https://accounts.google.com',
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
      deviceAuthorizationUrl: 'https://oauth2.googleapis.com/device/code',
      issuer: 'https://accounts.google.com',
      revocation: { kind: 'rfc7009', url: 'https://oauth2.googleapis.com/revoke' },
      defaultScopes: ['openid', 'email', 'profile'],
      extraAuthorizationParams: { access_type: 'offline', prompt: 'consent' },
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: false,
      scopeSeparator: ' ',
      settingsUrl: 'https://console.cloud.google.com/apis/credentials',
    },
    docsUrl: 'https://developers.google.com/identity/protocols/oauth2/web-server',
    notes: [
      'A refresh token is issued only with access_type=offline, and again on later consents only with prompt=consent.',
      'Refresh tokens do not rotate; apps in "testing" publishing status get refresh tokens that expire after 7 days.',
      'The device flow only accepts a limited set of scopes.',
    ],
  },

  box: {
    type: 'box',
    displayName: 'Box',
    addressing: 'cloud',
    accepts: [],
    requires: [],
    cloudHosts: [],
    cloudSiteSuffixes: [],
    cloud: {
      displayName: 'Box',
      baseUrl: 'https://app.box.com',
      authorizationUrl: 'https://account.box.com/api/oauth2/authorize',
      tokenUrl: 'https://api.box.com/oauth2/token',
      userinfoUrl: 'https://api.box.com/2.0/users/me',
      revocation: { kind: 'rfc7009', url: 'https://api.box.com/oauth2/revoke' },
      defaultScopes: [],
      extraAuthorizationParams: {},
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: 'https://app.box.com/developers/console',
    },
    docsUrl: 'https://developer.box.com/guides/authentication/oauth2/',
    notes: [
      'Scopes are configured on the app in the developer console; the scope parameter is optional and may only narrow them.',
      'Refresh tokens are single use (each refresh returns a new one) and last 60 days.',
    ],
  },

  microsoft: {
    type: 'microsoft',
    displayName: 'Microsoft',
    addressing: 'tenant',
    accepts: ['tenant'],
    requires: [],
    cloudHosts: [],
    cloudSiteSuffixes: [],
    cloud: {
      displayName: 'Microsoft',
      baseUrl: MS_AUTHORITY,
      authorizationUrl: `${MS_AUTHORITY}/oauth2/v2.0/authorize`,
      tokenUrl: `${MS_AUTHORITY}/oauth2/v2.0/token`,
      userinfoUrl: 'https://graph.microsoft.com/v1.0/me',
      deviceAuthorizationUrl: `${MS_AUTHORITY}/oauth2/v2.0/devicecode`,
      revocation: { kind: 'none' },
      defaultScopes: ['openid', 'profile', 'email', 'offline_access', 'User.Read'],
      extraAuthorizationParams: {},
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: ENTRA_SETTINGS,
    },
    docsUrl: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
    notes: [
      'tenant defaults to "common" (work, school and personal accounts); "organizations", "consumers", a tenant id or a verified domain narrow it.',
      'A refresh returns a new refresh token which should replace the stored one; there is no per-token revocation endpoint (Graph revokeSignInSessions signs the user out everywhere).',
      "One access token is for one resource: Graph scopes and another resource's scopes cannot be mixed in one request.",
    ],
  },

  sharepoint: {
    type: 'sharepoint',
    displayName: 'SharePoint',
    addressing: 'tenant',
    accepts: ['host', 'tenant'],
    requires: ['host'],
    cloudHosts: [],
    cloudSiteSuffixes: [],
    cloud: {
      displayName: 'SharePoint Online',
      baseUrl: '{base}',
      authorizationUrl: `${MS_AUTHORITY}/oauth2/v2.0/authorize`,
      tokenUrl: `${MS_AUTHORITY}/oauth2/v2.0/token`,
      userinfoUrl: '{base}/_api/web/currentuser',
      deviceAuthorizationUrl: `${MS_AUTHORITY}/oauth2/v2.0/devicecode`,
      revocation: { kind: 'none' },
      defaultScopes: ['{base}/AllSites.Read', 'offline_access'],
      extraAuthorizationParams: {},
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      settingsUrl: ENTRA_SETTINGS,
    },
    docsUrl: 'https://learn.microsoft.com/en-us/sharepoint/dev/sp-add-ins-modernize/from-acs-to-aad-apps',
    notes: [
      "host is the tenant's SharePoint Online host (contoso.sharepoint.com); scopes are that resource's (https://contoso.sharepoint.com/AllSites.Read, ...).",
      'tenant defaults to "organizations": SharePoint Online has no personal accounts.',
      "The token's audience is SharePoint, not Graph: the current user comes from {base}/_api/web/currentuser (send Accept: application/json).",
    ],
  },

  jira: {
    type: 'jira',
    displayName: 'Jira',
    addressing: 'cloud-or-self-hosted',
    accepts: ['host', 'baseUrl'],
    requires: [],
    cloudHosts: [],
    cloudSiteSuffixes: ['.atlassian.net', '.jira.com'],
    cloud: atlassianCloud('Jira Cloud', 'read:jira-user'),
    selfHosted: atlassianDataCenter('Jira Data Center', '{base}/rest/api/2/myself', 'READ'),
    docsUrl: 'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
    notes: ATLASSIAN_CLOUD_NOTES,
  },

  confluence: {
    type: 'confluence',
    displayName: 'Confluence',
    addressing: 'cloud-or-self-hosted',
    accepts: ['host', 'baseUrl'],
    requires: [],
    cloudHosts: [],
    cloudSiteSuffixes: ['.atlassian.net', '.jira.com'],
    cloud: atlassianCloud('Confluence Cloud', 'read:confluence-user'),
    selfHosted: atlassianDataCenter('Confluence Data Center', '{base}/rest/api/user/current', 'READ'),
    docsUrl: 'https://developer.atlassian.com/cloud/confluence/oauth-2-3lo-apps/',
    notes: ATLASSIAN_CLOUD_NOTES,
  },

  oidc: {
    type: 'oidc',
    displayName: 'OpenID Connect',
    addressing: 'discovery',
    accepts: ['issuer'],
    requires: ['issuer'],
    cloudHosts: [],
    cloudSiteSuffixes: [],
    docsUrl: 'https://openid.net/specs/openid-connect-discovery-1_0.html',
    notes: [
      'Endpoints, PKCE support and the token endpoint authentication method come from {issuer}/.well-known/openid-configuration, whose issuer must equal the configured one exactly.',
      'Default scopes: openid plus profile, email and offline_access where the provider lists them (all three but offline_access when it lists none).',
      'Refresh tokens are assumed to rotate (the safe assumption: always store a returned refresh token).',
    ],
  },

  oauth2: {
    type: 'oauth2',
    displayName: 'OAuth 2.0',
    addressing: 'explicit',
    accepts: ['endpoints'],
    requires: ['endpoints'],
    cloudHosts: [],
    cloudSiteSuffixes: [],
    docsUrl: 'https://www.rfc-editor.org/rfc/rfc6749',
    notes: [
      'endpoints.authorizationUrl and endpoints.tokenUrl are required; userinfoUrl, revocationUrl (RFC 7009), deviceAuthorizationUrl (RFC 8628) and issuer (RFC 9207) are optional.',
      'No default scopes; client_secret_basic (which RFC 6749 requires servers to support) and PKCE S256 (ignored by servers without it) are used.',
      'Refresh tokens are assumed to rotate (the safe assumption: always store a returned refresh token).',
    ],
  },
};
