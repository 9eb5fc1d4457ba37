import { json } from '../support/servers';
import { OAuthFake, type FakeFailure } from './oauth-fake';

export const GOOGLE_CLIENT = { id: '1234.apps.googleusercontent.example', secret: 'g-secret' };

/** Google's statuses for failures (device flow: 428 pending, 403 slow_down / access_denied). */
function googleError(failure: FakeFailure): { status: number; body: Record<string, unknown> } {
  switch (failure) {
    case 'invalid_client':
      return { status: 401, body: { error: 'invalid_client', error_description: 'Unauthorized' } };
    case 'authorization_pending':
      return {
        status: 428,
        body: { error: 'authorization_pending', error_description: 'Precondition Required' },
      };
    case 'slow_down':
      return { status: 403, body: { error: 'slow_down', error_description: 'Forbidden' } };
    case 'access_denied':
      return { status: 403, body: { error: 'access_denied', error_description: 'Forbidden' } };
    case 'expired_token':
      return { status: 400, body: { error: 'expired_token', error_description: 'Bad Request' } };
    default:
      return {
        status: 400,
        body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
      };
  }
}

/**
 * Google at the fake's origin (accounts.google.com, oauth2.googleapis.com and
 * openidconnect.googleapis.com rewritten): client_secret_post, refresh answers without a refresh
 * token (the old one stays valid), codes of a repeated consent without a refresh token
 * (`grantCode({withRefreshToken: false})`), an id_token whose `iss` is `accounts.google.com`
 * (no scheme: Google's documented alternative), device answers with `verification_url`,
 * RFC 7009 `/revoke` taking the token alone, OIDC `/v1/userinfo`, `POST /tokeninfo` (form
 * `access_token`; 400 `invalid_token` for a dead token).
 */
export async function startGoogleFake(): Promise<OAuthFake> {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const idToken = `${part({ alg: 'RS256', kid: 'k1' })}.${part({ iss: 'accounts.google.com', aud: GOOGLE_CLIENT.id, sub: '1100', iat: now, exp: now + 3600 })}.c2ln`;
  return OAuthFake.start({
    clientId: GOOGLE_CLIENT.id,
    clientSecret: GOOGLE_CLIENT.secret,
    clientAuth: 'client_secret_post',
    deviceClientAuth: 'same',
    paths: { token: '/token', device: '/device/code', revoke: '/revoke' },
    refresh: 'keep',
    expiresIn: 3599,
    tokenExtras: { id_token: idToken },
    error: googleError,
    deviceAnswer: ({ verification_uri, ...rest }) => ({ ...rest, verification_url: verification_uri }),
    api: {
      'POST /tokeninfo': {
        open: true,
        handle: ({ req, res, fake }) => {
          const token = fake.accessTokens.get(new URLSearchParams(req.body).get('access_token') ?? '');
          if (!token?.alive)
            return json(res, 400, { error: 'invalid_token', error_description: 'Invalid Value' });
          const aud =
            token.user === 'other-client' ? 'someone-else.apps.googleusercontent.example' : GOOGLE_CLIENT.id;
          json(res, 200, {
            azp: aud,
            aud,
            sub: '1100',
            scope: token.scope,
            exp: String(Math.floor(Date.now() / 1000) + 3000),
            expires_in: '3000',
            access_type: 'offline',
          });
        },
      },
      'GET /v1/userinfo': {
        handle: ({ res }) =>
          json(res, 200, {
            sub: '1100',
            name: 'Ada Lovelace',
            given_name: 'Ada',
            family_name: 'Lovelace',
            picture: 'https://lh3.example/a.png',
            email: 'ada@gmail.example',
            email_verified: true,
            locale: 'en',
          }),
      },
    },
  });
}
