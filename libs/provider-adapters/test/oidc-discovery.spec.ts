import {
  createGuardedFetch,
  discoverOidc,
  EgressPolicy,
  GuardedFetch,
  OidcDiscoveryError,
  ProviderConfigError,
  resolveProvider,
  resolveProviderAsync,
} from '../src';
import { json, redirect, startServer, TEST_CA, TestServer } from './support/servers';

type Doc = Record<string, unknown>;

/** A discovery document for `issuer` with every endpoint under `base`, plus overrides. */
function document(issuer: string, base: string, overrides: Doc = {}): Doc {
  return {
    issuer,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    userinfo_endpoint: `${base}/userinfo`,
    revocation_endpoint: `${base}/revoke`,
    device_authorization_endpoint: `${base}/device`,
    jwks_uri: `${base}/jwks`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['plain', 'S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['openid', 'email', 'profile', 'offline_access', 'groups'],
    ...overrides,
  };
}

/** The ProviderConfigError message for `issuer` (fails the test when discovery succeeds). */
async function issuerError(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => {
      throw new Error('resolved');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderConfigError);
  const fields = (err as ProviderConfigError).fields;
  expect(fields.map((f) => f.name)).toEqual(['issuer']);
  return fields[0].message;
}

describe('OpenID Connect discovery', () => {
  let server: TestServer;
  /** What the server answers, by path; set per test. */
  let routes: Record<string, Doc | { redirect: string } | { status: number }>;
  let policy: EgressPolicy;
  let guarded: GuardedFetch;

  beforeAll(async () => {
    server = await startServer((req, res) => {
      const route = routes[req.url];
      if (!route) return json(res, 404, { error: 'not found' });
      if ('redirect' in route) return redirect(res, 302, route.redirect as string);
      if ('status' in route) return json(res, route.status as number, {});
      return json(res, 200, route);
    });
    policy = { allowLoopback: true, allowedPorts: [443, server.port] };
    guarded = createGuardedFetch(policy);
  });
  afterAll(async () => {
    await guarded.close();
    await server.close();
  });
  beforeEach(() => {
    routes = {};
    server.requests.length = 0;
  });

  it('resolves an oidc provider from its discovery document', async () => {
    const issuer = server.origin;
    routes['/.well-known/openid-configuration'] = document(issuer, issuer);
    const p = await resolveProviderAsync('oidc', { issuer }, { fetch: guarded, policy });
    expect(p).toEqual({
      type: 'oidc',
      displayName: 'OpenID Connect',
      selfHosted: false,
      endpoints: {
        authorizationUrl: `${issuer}/authorize`,
        tokenUrl: `${issuer}/token`,
        userinfoUrl: `${issuer}/userinfo`,
        revocationUrl: `${issuer}/revoke`,
        deviceAuthorizationUrl: `${issuer}/device`,
        issuer,
      },
      revocation: { kind: 'rfc7009', url: `${issuer}/revoke` },
      defaultScopes: ['openid', 'profile', 'email', 'offline_access'],
      extraAuthorizationParams: {},
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
      rotatesRefreshTokens: true,
      scopeSeparator: ' ',
      metadata: { baseUrl: issuer, host: `127.0.0.1:${server.port}`, settingsUrl: issuer },
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].headers.accept).toBe('application/json');
  });

  it('appends the well-known path to an issuer with a path', async () => {
    const issuer = `${server.origin}/realms/acme`;
    routes['/realms/acme/.well-known/openid-configuration'] = document(
      issuer,
      `${issuer}/protocol/openid-connect`,
    );
    const d = await discoverOidc(issuer, guarded, policy);
    expect(d).toMatchObject({
      issuer,
      tokenUrl: `${issuer}/protocol/openid-connect/token`,
      codeChallengeMethodsSupported: ['plain', 'S256'],
    });
  });

  it('refuses a document whose issuer is not the configured one', async () => {
    routes['/.well-known/openid-configuration'] = document('https://evil.example.com', server.origin);
    const message = await issuerError(
      resolveProviderAsync('oidc', { issuer: server.origin }, { fetch: guarded, policy }),
    );
    expect(message).toBe(
      `the discovery document names issuer "https://evil.example.com", not "${server.origin}"`,
    );
  });

  it('compares issuers exactly: a trailing slash is a different issuer', async () => {
    routes['/.well-known/openid-configuration'] = document(server.origin, server.origin);
    await expect(discoverOidc(`${server.origin}/`, guarded, policy)).rejects.toThrow(
      new OidcDiscoveryError(
        `the discovery document names issuer "${server.origin}", not "${server.origin}/"`,
        server.origin,
      ),
    );
  });

  it('refuses discovered endpoints the egress policy forbids', async () => {
    routes['/.well-known/openid-configuration'] = document(server.origin, server.origin, {
      token_endpoint: 'https://169.254.169.254/token',
    });
    expect(
      await issuerError(resolveProviderAsync('oidc', { issuer: server.origin }, { fetch: guarded, policy })),
    ).toMatch(/token_endpoint is not allowed.*metadata/);
    routes['/.well-known/openid-configuration'] = document(server.origin, server.origin, {
      userinfo_endpoint: 'http://idp.example.com/userinfo',
    });
    expect(
      await issuerError(resolveProviderAsync('oidc', { issuer: server.origin }, { fetch: guarded, policy })),
    ).toMatch(/userinfo_endpoint is not allowed.*plain http/);
    routes['/.well-known/openid-configuration'] = document(server.origin, server.origin, {
      authorization_endpoint: undefined,
    });
    expect(
      await issuerError(resolveProviderAsync('oidc', { issuer: server.origin }, { fetch: guarded, policy })),
    ).toMatch(/no valid authorization_endpoint/);
  });

  it('derives PKCE, client authentication and scopes from what the provider advertises', async () => {
    const issuer = server.origin;
    routes['/.well-known/openid-configuration'] = document(issuer, issuer, {
      code_challenge_methods_supported: undefined,
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_post'],
      scopes_supported: undefined,
      revocation_endpoint: undefined,
      device_authorization_endpoint: undefined,
    });
    const p = await resolveProviderAsync('oidc', { issuer }, { fetch: guarded, policy });
    expect(p).toMatchObject({
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      defaultScopes: ['openid', 'profile', 'email'],
      revocation: { kind: 'none' },
    });
    expect(p.endpoints.revocationUrl).toBeUndefined();
    expect(p.endpoints.deviceAuthorizationUrl).toBeUndefined();

    routes['/.well-known/openid-configuration'] = document(issuer, issuer, {
      token_endpoint_auth_methods_supported: undefined,
      scopes_supported: ['openid', 'email'],
    });
    expect(await resolveProviderAsync('oidc', { issuer }, { fetch: guarded, policy })).toMatchObject({
      tokenEndpointAuthMethod: 'client_secret_basic',
      defaultScopes: ['openid', 'email'],
    });

    routes['/.well-known/openid-configuration'] = document(issuer, issuer, {
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    });
    expect(await issuerError(resolveProviderAsync('oidc', { issuer }, { fetch: guarded, policy }))).toMatch(
      /neither client_secret_basic nor client_secret_post/,
    );
  });

  it('reports a missing document, a redirect (not followed) and a non-JSON answer', async () => {
    expect(
      await issuerError(resolveProviderAsync('oidc', { issuer: server.origin }, { fetch: guarded, policy })),
    ).toMatch(/OpenID discovery failed.*status/);
    routes['/.well-known/openid-configuration'] = { redirect: 'http://169.254.169.254/' };
    expect(
      await issuerError(resolveProviderAsync('oidc', { issuer: server.origin }, { fetch: guarded, policy })),
    ).toMatch(/OpenID discovery failed/);
    expect(server.requests).toHaveLength(2);
    routes['/.well-known/openid-configuration'] = { status: 500 };
    expect(
      await issuerError(resolveProviderAsync('oidc', { issuer: server.origin }, { fetch: guarded, policy })),
    ).toMatch(/OpenID discovery failed/);
  });

  it('uses (and closes) its own guarded fetch when given none', async () => {
    routes['/.well-known/openid-configuration'] = document(server.origin, server.origin);
    expect(
      (await resolveProviderAsync('oidc', { issuer: server.origin }, { policy })).endpoints.tokenUrl,
    ).toBe(`${server.origin}/token`);
  });

  it('refuses a loopback issuer under the default policy before any request', async () => {
    expect(await issuerError(resolveProviderAsync('oidc', { issuer: server.origin }))).toMatch(
      /destination is loopback/,
    );
    expect(
      await issuerError(resolveProviderAsync('oidc', { issuer: `https://127.0.0.1:${server.port}` })),
    ).toMatch(/port|loopback/);
    expect(server.requests).toHaveLength(0);
  });

  it('reports an unreachable issuer', async () => {
    const dead = await startServer(() => undefined);
    await dead.close();
    const deadPolicy = { allowLoopback: true, allowedPorts: [443, dead.port] };
    const f = createGuardedFetch(deadPolicy);
    try {
      expect(
        await issuerError(
          resolveProviderAsync('oidc', { issuer: dead.origin }, { fetch: f, policy: deadPolicy }),
        ),
      ).toMatch(/OpenID discovery failed: fetch failed \(ECONNREFUSED\)/);
    } finally {
      await f.close();
    }
  });

  it('discovers over https through the guarded fetch, with TLS verification on', async () => {
    let port = 0;
    const tls = await startServer(
      (req, res) => {
        const issuer = `https://${req.headers.host?.split(':')[0]}:${port}`;
        if (req.url === '/.well-known/openid-configuration') return json(res, 200, document(issuer, issuer));
        return json(res, 404, {});
      },
      { tls: true },
    );
    port = tls.port;
    const tlsPolicy = { allowLoopback: true, allowedPorts: [443, port] };
    const asked: string[] = [];
    const lookup = async (hostname: string) => {
      asked.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const f = createGuardedFetch(tlsPolicy, { lookup, ca: TEST_CA });
    try {
      const p = await resolveProviderAsync(
        'oidc',
        { issuer: `https://good.test:${port}` },
        { fetch: f, policy: tlsPolicy },
      );
      expect(p.endpoints.tokenUrl).toBe(`https://good.test:${port}/token`);
      expect(asked).toEqual(['good.test']);
      // The fixture certificate does not name idp.test: the handshake must fail.
      expect(
        await issuerError(
          resolveProviderAsync(
            'oidc',
            { issuer: `https://idp.test:${port}` },
            { fetch: f, policy: tlsPolicy },
          ),
        ),
      ).toMatch(/OpenID discovery failed: fetch failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    } finally {
      await f.close();
      await tls.close();
    }
  });

  it('delegates other types to resolveProvider', async () => {
    expect(await resolveProviderAsync('github', { host: 'ghe.example.com' })).toEqual(
      resolveProvider('github', { host: 'ghe.example.com' }),
    );
    await expect(resolveProviderAsync('sharepoint', {})).rejects.toThrow(ProviderConfigError);
  });
});
