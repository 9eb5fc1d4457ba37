import { json } from '../support/servers';
import { OAuthFake, type FakeFailure } from './oauth-fake';

/** RFC 6749 / RFC 8628 error names with their usual statuses. */
export function rfcError(failure: FakeFailure): { status: number; body: Record<string, unknown> } {
  switch (failure) {
    case 'invalid_client':
      return { status: 401, body: { error: 'invalid_client' } };
    case 'bad_code':
    case 'bad_verifier':
    case 'bad_refresh_token':
    case 'bad_device_code':
      return { status: 400, body: { error: 'invalid_grant' } };
    case 'wrong_tenant':
      return { status: 400, body: { error: 'invalid_request' } };
    default:
      return { status: 400, body: { error: failure } };
  }
}

/**
 * A standards-following OAuth 2.0 server with OpenID discovery at `/.well-known/openid-configuration`
 * (issuer = the fake's origin), userinfo, RFC 7009 revocation and RFC 8628 device authorization;
 * client_secret_basic, rotating refresh tokens.
 */
export async function startGenericFake(): Promise<OAuthFake> {
  const fake: OAuthFake = await OAuthFake.start({
    clientId: 'generic-app',
    clientSecret: 'generic-secret',
    clientAuth: 'client_secret_basic',
    paths: { token: '/token', device: '/device_authorization', revoke: '/revoke' },
    refresh: 'rotate',
    error: rfcError,
    // No `interval`: the client must assume 5 s (RFC 8628 §3.2).
    deviceAnswer: (body) => Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'interval')),
    api: {
      'GET /userinfo': {
        handle: ({ res, token }) =>
          json(res, 200, {
            sub: `sub-${token?.user}`,
            name: 'Ada Lovelace',
            email: 'ada@example.test',
            preferred_username: token?.user,
          }),
      },
      'GET /.well-known/openid-configuration': {
        open: true,
        handle: ({ res }) =>
          json(res, 200, {
            issuer: fake.origin,
            authorization_endpoint: `${fake.origin}/authorize`,
            token_endpoint: `${fake.origin}/token`,
            userinfo_endpoint: `${fake.origin}/userinfo`,
            revocation_endpoint: `${fake.origin}/revoke`,
            device_authorization_endpoint: `${fake.origin}/device_authorization`,
            jwks_uri: `${fake.origin}/jwks`,
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
            scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          }),
      },
    },
  });
  return fake;
}
