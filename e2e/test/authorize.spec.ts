import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import * as oidc from 'openid-client';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA, UsersService } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, signInAtDemoIdp, TestDatabase } from '@broker/testing';
import { pgDump } from './pg-dump';
import { DemoIdpProcess, ServiceProcess, freePort, systemEnv } from './service-processes';

const PEPPER = randomBytes(32).toString('base64');
const UPSTREAM_SECRET = randomBytes(24).toString('base64url');
const APP_REDIRECT = 'http://127.0.0.1:1/app/callback';

type App = { clientId: string; clientSecret: string };

/**
 * First-party sign-in: `GET /api/v1/oauth/authorize` → the demo upstream identity provider
 * (oidc-provider, its own process) → back with a code, redeemed by openid-client with PKCE; then
 * refresh rotation and family revocation over HTTP.
 */
describe('authorization code flow through the upstream sign-in', () => {
  let db: TestDatabase;
  let idp: DemoIdpProcess;
  let gateway: ServiceProcess;
  let broker: ServiceProcess;
  let registry: ServiceProcess;
  let base: string;
  let app: App;
  let appB: App;
  let serviceOnly: App;
  /** Every code, refresh token and token seen, for the dump and log checks. */
  const seen: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('authorize');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = new DemoIdpProcess(await freePort(), UPSTREAM_SECRET, [`${base}/api/v1/oauth/upstream/callback`]);
    await idp.start();
    const env = systemEnv(db.url, port, 'authorize', { SECRET_PEPPER: PEPPER, ...idp.upstreamEnv() });
    broker = new ServiceProcess('token-broker', await freePort(), env).start();
    gateway = new ServiceProcess('gateway', port, env).start();
    registry = new ServiceProcess('provider-registry', await freePort(), env).start();
    await Promise.all([broker.ready(), gateway.ready(), registry.ready()]);
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-admin'),
    ).initialize();
    try {
      const clients = new ClientsService(ds, new KeyedHasher(Buffer.from(PEPPER, 'base64')));
      await clients.ensureOrg('org-b', 'Org B');
      const firstParty = {
        grantTypes: ['authorization_code', 'refresh_token'] as const,
        redirectUris: [APP_REDIRECT],
      };
      app = await clients.createClient({
        orgId: 'default',
        name: 'web app',
        scopes: ['providers:read', 'tokens:read'],
        ...firstParty,
        grantTypes: [...firstParty.grantTypes],
      });
      appB = await clients.createClient({
        orgId: 'org-b',
        name: 'web app B',
        scopes: ['providers:read'],
        ...firstParty,
        grantTypes: [...firstParty.grantTypes],
      });
      serviceOnly = await clients.createClient({
        orgId: 'default',
        name: 'service',
        grantTypes: ['client_credentials'],
        scopes: ['providers:read'],
        redirectUris: [APP_REDIRECT],
      });
      // Only invited people may sign in (the default policy): invite them, with what each may do.
      const users = new UsersService(ds);
      await users.upsert('default', { sub: 'ada', email: 'ada@example.test' }, [
        'providers:read',
        'tokens:read',
      ]);
      await users.upsert('default', { sub: 'grace', email: 'grace@example.test' }, ['providers:read']);
      await users.upsert('org-b', { sub: 'ada-at-b', email: 'ada@example.test' }, ['providers:read']);
    } finally {
      await ds.destroy();
    }
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop(), broker?.stop(), registry?.stop(), idp?.stop()]);
    await db?.drop();
  });

  function client(a: App): Promise<oidc.Configuration> {
    return oidc.discovery(
      new URL(base),
      a.clientId,
      { id_token_signed_response_alg: 'ES256' },
      oidc.ClientSecretPost(a.clientSecret),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
  }

  /** Follows the browser flow from `url`, signing in as `email`, until the app's redirect URI. */
  const signIn = (url: string, email = 'ada@example.test'): Promise<URL> =>
    signInAtDemoIdp(url, email, (u) => u.startsWith(APP_REDIRECT));

  async function authorizationUrl(config: oidc.Configuration, scope = 'openid providers:read') {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: APP_REDIRECT,
      scope,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.toString(), verifier, state, nonce };
  }

  async function signedIn(a: App = app, email?: string) {
    const config = await client(a);
    const request = await authorizationUrl(config);
    const callback = await signIn(request.url, email);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    seen.push(
      callback.searchParams.get('code') ?? '',
      tokens.access_token,
      tokens.refresh_token ?? '',
      tokens.id_token ?? '',
    );
    return { config, tokens, callback, request };
  }

  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

  it('advertises the code flow in its discovery documents', async () => {
    for (const path of ['.well-known/oauth-authorization-server', '.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${base}/${path}`)).json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        issuer: base,
        authorization_endpoint: `${base}/api/v1/oauth/authorize`,
        grant_types_supported: [
          'client_credentials',
          'authorization_code',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:token-exchange',
        ],
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
  });

  it('signs a person in upstream and returns code, state and iss; openid-client redeems it with PKCE', async () => {
    const { tokens, callback, request } = await signedIn();
    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(callback.searchParams.get('iss')).toBe(base);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const idClaims = tokens.claims();
    expect(idClaims).toMatchObject({
      iss: base,
      aud: app.clientId,
      nonce: request.nonce,
      email: 'ada@example.test',
      name: 'Ada Lovelace',
    });
    expect(idClaims?.sub).toBe('ada');
    expect(claimsOf(tokens.access_token)).toMatchObject({
      sub: idClaims?.sub,
      org_id: 'default',
      client_id: app.clientId,
      scope: 'openid providers:read',
    });

    // The person is a user of the app's org, and the token works on the API within its scope.
    const userinfo = await fetch(`${base}/api/v1/oauth/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({
      sub: idClaims?.sub,
      email: 'ada@example.test',
      given_name: 'Ada',
      family_name: 'Lovelace',
      name: 'Ada Lovelace',
    });
    const providers = await fetch(`${base}/api/v2/externalOAuth/providers/`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(providers.status).toBe(200);
    expect(await providers.json()).toEqual({ data: [] });
  });

  it('makes a code single-use: a second redemption fails and revokes what the first produced', async () => {
    const { config, tokens, callback, request } = await signedIn();
    await expect(
      oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
      }),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('refuses a wrong PKCE verifier and another client’s redemption', async () => {
    const config = await client(app);
    const request = await authorizationUrl(config);
    const callback = await signIn(request.url);
    const code = callback.searchParams.get('code') ?? '';
    seen.push(code);
    const redeem = (a: App, verifier: string) =>
      fetch(`${base}/api/v1/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: APP_REDIRECT,
          client_id: a.clientId,
          client_secret: a.clientSecret,
        }),
      });
    const otherClient = await redeem(appB, request.verifier);
    expect(otherClient.status).toBe(400);
    expect(await otherClient.json()).toMatchObject({ error: 'invalid_grant' });
    // The code was spent by that attempt: even the right client and verifier are refused now.
    const after = await redeem(app, request.verifier);
    expect(await after.json()).toMatchObject({ error: 'invalid_grant' });

    const second = await authorizationUrl(config);
    const secondCode = (await signIn(second.url)).searchParams.get('code') ?? '';
    seen.push(secondCode);
    const wrongVerifier = await fetch(`${base}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: secondCode,
        code_verifier: oidc.randomPKCECodeVerifier(),
        redirect_uri: APP_REDIRECT,
        client_id: app.clientId,
        client_secret: app.clientSecret,
      }),
    });
    expect(wrongVerifier.status).toBe(400);
    expect(await wrongVerifier.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('rotates refresh tokens; a reused one revokes the whole family', async () => {
    const { config, tokens } = await signedIn();
    const first = tokens.refresh_token ?? '';
    const second = await oidc.refreshTokenGrant(config, first);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(first);
    expect(second.id_token).toEqual(expect.any(String));
    const third = await oidc.refreshTokenGrant(config, second.refresh_token ?? '');
    seen.push(second.access_token, second.refresh_token ?? '', third.access_token, third.refresh_token ?? '');

    await expect(oidc.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The reuse revoked the family: the newest token is dead too.
    await expect(oidc.refreshTokenGrant(config, third.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('lets at most one of two concurrent refreshes with the same token succeed', async () => {
    const { config, tokens } = await signedIn();
    const outcomes = await Promise.allSettled([
      oidc.refreshTokenGrant(config, tokens.refresh_token ?? ''),
      oidc.refreshTokenGrant(config, tokens.refresh_token ?? ''),
    ]);
    const won = outcomes.filter(
      (o): o is PromiseFulfilledResult<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> =>
        o.status === 'fulfilled',
    );
    expect(won).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ error: 'invalid_grant' });
    seen.push(won[0].value.refresh_token ?? '');
    // The second use was a reuse: the winner's new refresh token belongs to a revoked family.
    await expect(oidc.refreshTokenGrant(config, won[0].value.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('signs the person in as the invited user of the app’s org', async () => {
    const { tokens } = await signedIn(appB, 'ada@example.test');
    expect(claimsOf(tokens.access_token)).toMatchObject({
      sub: 'ada-at-b',
      org_id: 'org-b',
      client_id: appB.clientId,
    });
    const { tokens: grace } = await signedIn(app, 'grace@example.test');
    expect(claimsOf(grace.access_token)['sub']).toBe('grace');
  });

  it('never redirects to an unverified client or redirect URI', async () => {
    const config = await client(app);
    const good = new URL((await authorizationUrl(config)).url);
    const unknownClient = new URL(good);
    unknownClient.searchParams.set('client_id', 'no-such-client');
    const wrongRedirect = new URL(good);
    wrongRedirect.searchParams.set('redirect_uri', `${APP_REDIRECT}/../evil`);
    const prefixRedirect = new URL(good);
    prefixRedirect.searchParams.set('redirect_uri', `${APP_REDIRECT}x`);
    const twice = new URL(good);
    twice.searchParams.append('redirect_uri', APP_REDIRECT);
    for (const url of [unknownClient, wrongRedirect, prefixRedirect, twice]) {
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    }
  });

  it('sends other request errors back to the verified redirect URI with state and iss', async () => {
    const config = await client(app);
    const good = new URL((await authorizationUrl(config)).url);
    const cases: [(u: URL) => void, string][] = [
      [(u) => u.searchParams.delete('code_challenge'), 'invalid_request'],
      [(u) => u.searchParams.set('code_challenge_method', 'plain'), 'invalid_request'],
      [(u) => u.searchParams.set('scope', 'openid jobs:read'), 'invalid_scope'],
      [(u) => u.searchParams.set('response_type', 'token'), 'unsupported_response_type'],
      [(u) => u.searchParams.append('state', 'again'), 'invalid_request'],
    ];
    for (const [mutate, error] of cases) {
      const url = new URL(good);
      mutate(url);
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location') ?? '');
      expect(`${location.origin}${location.pathname}`).toBe(APP_REDIRECT);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('iss')).toBe(base);
    }
    const serviceConfig = await client(serviceOnly);
    const notAllowed = await fetch((await authorizationUrl(serviceConfig)).url, { redirect: 'manual' });
    expect(new URL(notAllowed.headers.get('location') ?? '').searchParams.get('error')).toBe(
      'unauthorized_client',
    );
  });

  it('returns a refused upstream sign-in to the app as access_denied, once', async () => {
    const config = await client(app);
    const request = await authorizationUrl(config);
    const toUpstream = await fetch(request.url, { redirect: 'manual' });
    expect(toUpstream.status).toBe(302);
    const upstream = new URL(toUpstream.headers.get('location') ?? '');
    expect(upstream.origin).toBe(idp.issuer);
    expect(upstream.searchParams.get('code_challenge_method')).toBe('S256');
    const handle = upstream.searchParams.get('state') ?? '';
    expect(handle).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const callback = `${base}/api/v1/oauth/upstream/callback?error=access_denied&state=${handle}`;
    const refused = await fetch(callback, { redirect: 'manual' });
    expect(refused.status).toBe(302);
    expect(refused.headers.get('referrer-policy')).toBe('no-referrer');
    const location = new URL(refused.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe(request.state);
    const replay = await fetch(callback, { redirect: 'manual' });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('location')).toBeNull();
  });

  it('keeps codes, refresh tokens and the upstream secret out of the database and the logs', async () => {
    const secrets = seen.filter((s) => s.length > 0);
    expect(secrets.length).toBeGreaterThan(10);
    const dump = pgDump(db.url);
    expect(dump).toContain('identity.authorization_codes');
    for (const secret of [...secrets, UPSTREAM_SECRET]) expect(dump).not.toContain(secret);
    const logs = gateway.output.join('') + broker.output.join('') + idp.output.join('');
    expect(logs).toContain('upstream/callback'); // the callback requests are logged...
    expect(logs).toContain('"location":"http://127.0.0.1:1/app/callback?code=%5Bredacted%5D'); // ...and the redirects...
    for (const secret of [...secrets, UPSTREAM_SECRET]) expect(logs).not.toContain(secret); // ...without their codes
  });
});
