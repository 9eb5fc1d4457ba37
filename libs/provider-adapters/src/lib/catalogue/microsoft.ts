import type { CatalogueEntry, ProviderProfile } from './types';

const ENTRA_SETTINGS = 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade';
const MS_AUTHORITY = 'https://login.microsoftonline.com/{tenant}';

/** The Microsoft identity platform's OAuth facts, whichever resource the token is for (Graph, SharePoint). */
const IDENTITY_PLATFORM = {
  authorizationUrl: `${MS_AUTHORITY}/oauth2/v2.0/authorize`,
  tokenUrl: `${MS_AUTHORITY}/oauth2/v2.0/token`,
  deviceAuthorizationUrl: `${MS_AUTHORITY}/oauth2/v2.0/devicecode`,
  revocation: { kind: 'none' },
  extraAuthorizationParams: {},
  pkce: true,
  tokenEndpointAuthMethod: 'client_secret_post',
  rotatesRefreshTokens: true,
  scopeSeparator: ' ',
  settingsUrl: ENTRA_SETTINGS,
} as const satisfies Partial<ProviderProfile>;

/** Microsoft identity platform (Entra ID, personal accounts): Graph as the user endpoint. */
export const MICROSOFT_ENTRY: CatalogueEntry = {
  type: 'microsoft',
  displayName: 'Microsoft',
  addressing: 'tenant',
  accepts: ['tenant'],
  requires: [],
  cloudHosts: [],
  cloudSiteSuffixes: [],
  cloud: {
    ...IDENTITY_PLATFORM,
    displayName: 'Microsoft',
    baseUrl: MS_AUTHORITY,
    userinfoUrl: 'https://graph.microsoft.com/v1.0/me',
    defaultScopes: ['openid', 'profile', 'email', 'offline_access', 'User.Read'],
  },
  docsUrl: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
  notes: [
    'tenant defaults to "common" (work, school and personal accounts); "organizations", "consumers", a tenant id or a verified domain narrow it.',
    'A refresh returns a new refresh token which should replace the stored one; there is no per-token revocation endpoint (Graph revokeSignInSessions signs the user out everywhere).',
    "One access token is for one resource: Graph scopes and another resource's scopes cannot be mixed in one request.",
  ],
};

/** SharePoint Online through the Microsoft identity platform: the tenant's SharePoint host is the resource. */
export const SHAREPOINT_ENTRY: CatalogueEntry = {
  type: 'sharepoint',
  displayName: 'SharePoint',
  addressing: 'tenant',
  accepts: ['host', 'tenant'],
  requires: ['host'],
  cloudHosts: [],
  cloudSiteSuffixes: [],
  cloud: {
    ...IDENTITY_PLATFORM,
    displayName: 'SharePoint Online',
    baseUrl: '{base}',
    userinfoUrl: '{base}/_api/web/currentuser',
    defaultScopes: ['{base}/AllSites.Read', 'offline_access'],
  },
  docsUrl: 'https://learn.microsoft.com/en-us/sharepoint/dev/sp-add-ins-modernize/from-acs-to-aad-apps',
  notes: [
    "host is the tenant's SharePoint Online host (contoso.sharepoint.com); scopes are that resource's (https://contoso.sharepoint.com/AllSites.Read, ...).",
    'tenant defaults to "organizations": SharePoint Online has no personal accounts.',
    "The token's audience is SharePoint, not Graph: the current user comes from {base}/_api/web/currentuser (send Accept: application/json).",
  ],
};
