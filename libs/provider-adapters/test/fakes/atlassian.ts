import { json } from '../support/servers';
import { OAuthFake, type FakeFailure } from './oauth-fake';

export const ATLASSIAN_CLIENT = { id: 'atl-client', secret: 'atl-secret' };

function atlassianError(failure: FakeFailure): { status: number; body: Record<string, unknown> } {
  if (failure === 'invalid_client')
    return { status: 401, body: { error: 'invalid_client', error_description: 'Unauthorized' } };
  if (failure === 'bad_refresh_token')
    return {
      status: 403,
      body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' },
    };
  return { status: 403, body: { error: 'invalid_grant', error_description: 'Invalid authorization code' } };
}

/**
 * Atlassian Cloud 3LO at the fake's origin (auth.atlassian.com and api.atlassian.com rewritten):
 * client_secret_post (JSON bodies accepted too), rotating refresh tokens (the used one disabled:
 * 403 `invalid_grant`), `GET /me`, `GET /oauth/token/accessible-resources`; API answers 401 for
 * an expired token.
 */
export async function startAtlassianCloudFake(): Promise<OAuthFake> {
  return OAuthFake.start({
    clientId: ATLASSIAN_CLIENT.id,
    clientSecret: ATLASSIAN_CLIENT.secret,
    clientAuth: 'client_secret_post',
    paths: { token: '/oauth/token' },
    refresh: 'rotate',
    expiresIn: 3600,
    error: atlassianError,
    api: {
      'GET /me': {
        handle: ({ res }) =>
          json(res, 200, {
            account_type: 'atlassian',
            account_id: '112233aa-bb11-cc22-33dd-445566abcabc',
            email: 'mia@example.com',
            name: 'Mia Krystof',
            picture: 'https://avatar-management--avatars.example/mia.png',
            account_status: 'active',
            nickname: 'mkrystof',
            locale: 'en-US',
          }),
      },
      'GET /oauth/token/accessible-resources': {
        handle: ({ res }) =>
          json(res, 200, [
            {
              id: '1324a887-45db-1bf4-1e99-ef0ff456d421',
              name: 'Site name',
              url: 'https://your-domain.atlassian.net',
              scopes: ['write:jira-work', 'read:jira-user'],
              avatarUrl: 'https://site-admin-avatar-cdn.example/avatars/240/flag.png',
            },
          ]),
      },
    },
  });
}

/**
 * Jira and Confluence Data Center at `{origin}/jira` and `{origin}/wiki`: `/rest/oauth2/latest/token`
 * with client_secret_post and PKCE, rotating refresh tokens, Jira `/rest/api/2/myself`,
 * Confluence `/rest/api/user/current`. One fake serves Jira's token endpoint.
 */
export async function startAtlassianDataCenterFake(): Promise<OAuthFake> {
  return OAuthFake.start({
    clientId: ATLASSIAN_CLIENT.id,
    clientSecret: ATLASSIAN_CLIENT.secret,
    clientAuth: 'client_secret_post',
    paths: { token: '/jira/rest/oauth2/latest/token' },
    refresh: 'rotate',
    expiresIn: 7200,
    error: (failure) =>
      failure === 'invalid_client'
        ? { status: 401, body: { error: 'invalid_client' } }
        : { status: 400, body: { error: 'invalid_grant' } },
    api: {
      'GET /jira/rest/api/2/myself': {
        handle: ({ res }) =>
          json(res, 200, {
            key: 'JIRAUSER10100',
            name: 'fred',
            emailAddress: 'fred@example.com',
            displayName: 'Fred F. User',
            avatarUrls: { '48x48': 'https://jira.example/avatar/fred' },
            locale: 'en_US',
            active: true,
          }),
      },
      'GET /wiki/rest/api/user/current': {
        handle: ({ res }) =>
          json(res, 200, {
            type: 'known',
            username: 'fred',
            userKey: '8a7f808a6f0d7f8d016f0d7fb1bd0000',
            displayName: 'Fred F. User',
            profilePicture: { path: '/wiki/images/icons/profilepics/default.svg' },
          }),
      },
    },
  });
}
