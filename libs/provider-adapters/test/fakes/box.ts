import { json } from '../support/servers';
import { resolveProvider, type ResolvedProvider } from '../../src';
import { OAuthFake, pointAt, type FakeFailure } from './oauth-fake';

export const BOX_CLIENT = { id: 'box-client', secret: 'box-secret' };

function boxError(failure: FakeFailure): { status: number; body: Record<string, unknown> } {
  if (failure === 'invalid_client')
    return {
      status: 400,
      body: { error: 'invalid_client', error_description: 'The client credentials are invalid' },
    };
  if (failure === 'bad_refresh_token')
    return { status: 400, body: { error: 'invalid_grant', error_description: 'Refresh token has expired' } };
  return {
    status: 400,
    body: {
      error: 'invalid_grant',
      error_description: 'Auth code doesn\u2019t exist or is invalid for the client',
    },
  };
}

/**
 * Box at the fake's origin (api.box.com / account.box.com rewritten): client_secret_post,
 * single-use refresh tokens (each refresh returns a new one; the used one answers `invalid_grant`
 * at once), `POST /oauth2/revoke` with client_id / client_secret / token in the body,
 * `GET /2.0/users/me`, and downscoping: `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`
 * with `subject_token` and `scope` at the token endpoint, no client authentication, answered with
 * the new token and `restricted_to` (Box developer guide "Downscope a Token").
 */
export async function startBoxFake(): Promise<OAuthFake> {
  return OAuthFake.start({
    clientId: BOX_CLIENT.id,
    clientSecret: BOX_CLIENT.secret,
    clientAuth: 'client_secret_post',
    paths: { token: '/oauth2/token', revoke: '/oauth2/revoke' },
    refresh: 'rotate',
    expiresIn: 3600,
    error: boxError,
    grants: {
      'urn:ietf:params:oauth:grant-type:token-exchange': (params, fake) => {
        const parent = fake.accessTokens.get(params['subject_token'] ?? '');
        if (
          params['subject_token_type'] !== 'urn:ietf:params:oauth:token-type:access_token' ||
          !parent?.alive
        )
          return {
            status: 400,
            body: { error: 'invalid_grant', error_description: 'The subject token is invalid' },
          };
        const scopes = (params['scope'] ?? '').split(' ').filter(Boolean);
        if (!scopes.length)
          return {
            status: 400,
            body: { error: 'invalid_scope', error_description: 'The requested scope is invalid' },
          };
        const token = fake.accessToken(parent.user, scopes.join(' '), 'downscoped');
        return {
          status: 200,
          body: {
            access_token: token,
            expires_in: 3600,
            token_type: 'bearer',
            issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            restricted_to: scopes.map((scope) => ({
              scope,
              object: { type: 'folder', id: '0', name: 'All Files' },
            })),
          },
        };
      },
    },
    api: {
      'GET /2.0/users/me': {
        handle: ({ res }) =>
          json(res, 200, {
            type: 'user',
            id: '11446498',
            name: 'Aaron Levie',
            login: 'ceo@example.com',
            language: 'en',
            avatar_url: 'https://www.box.com/api/avatar/large/181216415',
            status: 'active',
          }),
      },
    },
  });
}

/** The catalogue's Box provider with api.box.com and account.box.com pointed at the fake. */
export function boxProviderAt(fake: OAuthFake): ResolvedProvider {
  return pointAt(resolveProvider('box', {}), {
    'https://api.box.com': fake.origin,
    'https://account.box.com': fake.origin,
  });
}
