import type { ServerResponse } from 'node:http';
import { json, type RecordedRequest } from '../support/servers';
import { OAuthFake, basicCredentials, type FakeFailure } from './oauth-fake';

export const GITHUB_CLIENT = { id: 'Iv1.gh-app', secret: 'gh-secret' };

/** GitHub's names for failures; all answered with HTTP 200 (docs: "Troubleshooting OAuth app access token request errors", device flow error codes). */
function githubError(
  failure: FakeFailure,
  interval: () => number,
): { status: number; body: Record<string, unknown> } {
  const named: Record<FakeFailure, string> = {
    invalid_client: 'incorrect_client_credentials',
    bad_code: 'bad_verification_code',
    bad_verifier: 'bad_verification_code',
    bad_refresh_token: 'bad_refresh_token',
    authorization_pending: 'authorization_pending',
    slow_down: 'slow_down',
    access_denied: 'access_denied',
    expired_token: 'expired_token',
    bad_device_code: 'incorrect_device_code',
    wrong_tenant: 'incorrect_client_credentials',
  };
  const body: Record<string, unknown> = {
    error: named[failure],
    error_description: `fake: ${named[failure]}`,
    error_uri: 'https://docs.github.com/',
  };
  if (failure === 'slow_down') body['interval'] = interval();
  return { status: 200, body };
}

/**
 * GitHub Enterprise Server at the fake's origin (`{base}/login/oauth/*`, REST API `{base}/api/v3`):
 * client_secret_post at the token endpoint, client id alone for the device flow, form-encoded
 * answers unless `Accept: application/json` (or always, with `formAlways`), errors with HTTP 200,
 * 8-hour user tokens with rotating refresh tokens, `/user` with a null e-mail plus `/user/emails`,
 * the applications grant API with Basic client auth, and scoped user tokens
 * (`POST /applications/{client_id}/token/scoped`: one account's repositories and permissions).
 */
export async function startGitHubFake(): Promise<OAuthFake & { formAlways: boolean }> {
  let slowInterval = 5;
  const fake = (await OAuthFake.start({
    clientId: GITHUB_CLIENT.id,
    clientSecret: GITHUB_CLIENT.secret,
    clientAuth: 'client_secret_post',
    deviceClientAuth: 'none',
    paths: { token: '/login/oauth/access_token', device: '/login/device/code' },
    refresh: 'rotate',
    expiresIn: 28800,
    tokenExtras: { refresh_token_expires_in: 15897600 },
    error: (failure) => githubError(failure, () => (slowInterval += 5)),
    answer: (req: RecordedRequest, res: ServerResponse, status: number, body: Record<string, unknown>) => {
      const wantsJson = String(req.headers.accept ?? '').includes('application/json');
      if (wantsJson && !fake.formAlways) return json(res, status, body);
      const text = new URLSearchParams(
        Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]),
      ).toString();
      res.writeHead(status, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(text);
    },
    api: {
      'GET /api/v3/user': {
        handle: ({ res, token }) =>
          json(res, 200, {
            login: token?.user,
            id: 583231,
            name: 'The Octocat',
            email: null,
            avatar_url: 'https://avatars.example/u/583231',
            bio: 'hi',
          }),
      },
      'GET /api/v3/user/emails': {
        handle: ({ res }) =>
          json(res, 200, [
            { email: 'octo@users.noreply.example', primary: false, verified: true, visibility: null },
            { email: 'octocat@example.test', primary: true, verified: true, visibility: 'private' },
          ]),
      },
      // A GitHub App's user token lists the app's installations it can reach; an OAuth app's token is refused (403).
      'GET /api/v3/user/installations': {
        handle: ({ res, token }) =>
          token?.user === 'oauth-app-user'
            ? json(res, 403, {
                message:
                  'You must authenticate with an access token authorized to a GitHub App in order to list installations',
              })
            : json(res, 200, {
                total_count: 1,
                installations: [
                  {
                    id: 1296269,
                    account: {
                      login: 'octo-org',
                      id: 9919,
                      avatar_url: 'https://avatars.example/u/9919',
                      html_url: 'https://github.example/octo-org',
                      type: 'Organization',
                    },
                    html_url: 'https://github.example/organizations/octo-org/settings/installations/1296269',
                    app_slug: 'broker-app',
                  },
                ],
              }),
      },
      [`POST /api/v3/applications/${GITHUB_CLIENT.id}/token/scoped`]: {
        open: true,
        handle: ({ req, res, fake: f }) => {
          const creds = basicCredentials(req);
          if (!creds || creds[0] !== GITHUB_CLIENT.id || creds[1] !== GITHUB_CLIENT.secret)
            return json(res, 404, { message: 'Not Found' });
          const body = JSON.parse(req.body || '{}') as {
            access_token?: string;
            target?: string;
            repositories?: string[];
            permissions?: Record<string, string>;
          };
          const parent = f.accessTokens.get(body.access_token ?? '');
          if (!parent?.alive || parent.user === 'oauth-app-user')
            return json(res, 404, { message: 'Not Found' });
          if (!body.target)
            return json(res, 422, {
              message: 'Validation Failed',
              errors: [{ field: 'target', code: 'missing_field' }],
            });
          const token = f.accessToken(parent.user, '', 'ghu_scoped');
          json(res, 200, {
            id: 1,
            token,
            token_last_eight: token.slice(-8),
            hashed_token: null,
            expires_at: new Date(Date.now() + 8 * 3600_000).toISOString(),
            scopes: [],
            user: { login: parent.user },
            installation: {
              account: { login: body.target },
              repository_selection: body.repositories ? 'selected' : 'all',
              permissions: body.permissions ?? { metadata: 'read' },
              repositories: (body.repositories ?? []).map((name) => ({
                name,
                full_name: `${body.target}/${name}`,
              })),
            },
          });
        },
      },
      [`DELETE /api/v3/applications/${GITHUB_CLIENT.id}/grant`]: {
        open: true,
        handle: ({ req, res }) => {
          const creds = basicCredentials(req);
          if (!creds || creds[0] !== GITHUB_CLIENT.id || creds[1] !== GITHUB_CLIENT.secret)
            return json(res, 404, { message: 'Not Found' });
          res.writeHead(204).end();
        },
      },
    },
  })) as OAuthFake & { formAlways: boolean };
  fake.formAlways = false;
  return fake;
}
