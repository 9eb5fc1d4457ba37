import { json } from '../support/servers';
import { rfcError } from './generic';
import { OAuthFake } from './oauth-fake';

export const GITLAB_CLIENT = { id: 'gl-app', secret: 'gl-secret' };

/**
 * GitLab Self-Managed under a path prefix (`{origin}/gitlab`): client_secret_post, PKCE, rotating
 * refresh tokens (the used one is revoked), RFC 7009 `/oauth/revoke`, RFC 8628
 * `/oauth/authorize_device`, `GET /oauth/token/info` (401 `invalid_token` once dead) and
 * `GET /api/v4/user`.
 */
export async function startGitLabFake(prefix = '/gitlab'): Promise<OAuthFake> {
  return OAuthFake.start({
    clientId: GITLAB_CLIENT.id,
    clientSecret: GITLAB_CLIENT.secret,
    clientAuth: 'client_secret_post',
    paths: {
      token: `${prefix}/oauth/token`,
      device: `${prefix}/oauth/authorize_device`,
      revoke: `${prefix}/oauth/revoke`,
    },
    refresh: 'rotate',
    expiresIn: 7200,
    error: rfcError,
    api: {
      [`GET ${prefix}/oauth/token/info`]: {
        open: true,
        handle: ({ req, res, fake }) => {
          const token = fake.accessTokens.get(
            String(req.headers.authorization ?? '').replace(/^Bearer /, ''),
          );
          if (!token?.alive)
            return json(res, 401, {
              error: 'invalid_token',
              error_description: 'The access token is invalid',
              state: 'unauthorized',
            });
          json(res, 200, {
            resource_owner_id: 42,
            scope: token.scope.split(' '),
            expires_in: 7000,
            application: { uid: GITLAB_CLIENT.id },
            created_at: 1700000000,
            expires_in_seconds: 7000,
          });
        },
      },
      [`GET ${prefix}/api/v4/user`]: {
        handle: ({ res, token }) =>
          json(res, 200, {
            id: 42,
            username: token?.user,
            name: 'Ada Lovelace',
            email: 'ada@gitlab.example',
            avatar_url: 'https://gitlab.example/avatar.png',
            bio: '',
          }),
      },
    },
  });
}
