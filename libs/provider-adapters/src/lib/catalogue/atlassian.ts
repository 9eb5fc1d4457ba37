import type { CatalogueEntry, ProviderProfile } from './types';

const ATLASSIAN_CONSOLE = 'https://developer.atlassian.com/console/myapps/';

/** Atlassian Data Center (Jira, Confluence, Bitbucket) as an OAuth 2.0 provider ("incoming application links"). */
export function atlassianDataCenter(
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

export const JIRA_ENTRY: CatalogueEntry = {
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
};

export const CONFLUENCE_ENTRY: CatalogueEntry = {
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
};
