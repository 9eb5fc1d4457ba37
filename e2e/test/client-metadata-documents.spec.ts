import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { diffAgainstSeeds, loadSeedFixtures, signInAtDemoIdp, type OpenApiDocument } from '@broker/testing';
import { APP_REDIRECT, BrokerSystem } from './broker-system';
import { freePort } from './service-processes';

/** The part of a `WWW-Authenticate: Bearer` challenge named `name`. */
function challengeParam(header: string | null, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(header ?? '')?.[1];
}

/**
 * An MCP-style client that has no registration at the broker: its `client_id` is the URL of its
 * client ID metadata document, served here by a small HTTP server as the client's own site would.
 * Discovery (RFC 9728 → RFC 8414, which says client ID metadata documents are supported), the
 * authorization with `resource` (after the broker's confirmation page naming the client as
 * unverified), the code redeemed by openid-client as a public client (PKCE, no secret), a protected
 * call, step-up on `insufficient_scope`; and the documents and requests an attacker would try.
 */
describe('client ID metadata documents: an MCP client identified by URL', () => {
  let system: BrokerSystem;
  let site: Server;
  let sitePort: number;
  let admin: string;
  const served = new Map<
    string,
    { body: string; status?: number; headers?: Record<string, string>; delayMs?: number }
  >();
  let fetchesOf = new Map<string, number>();

  const siteUrl = (path: string) => `http://127.0.0.1:${sitePort}${path}`;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    fetchesOf.set(path, (fetchesOf.get(path) ?? 0) + 1);
    const doc = served.get(path);
    if (!doc) return void res.writeHead(404).end();
    const send = () =>
      res.writeHead(doc.status ?? 200, { 'content-type': 'application/json', ...doc.headers }).end(doc.body);
    if (doc.delayMs) setTimeout(send, doc.delayMs).unref();
    else send();
  };
  const document = (path: string, overrides: Record<string, unknown> = {}) => ({
    client_id: siteUrl(path),
    client_name: 'Example MCP Client',
    redirect_uris: [APP_REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'providers:read authorizations:read tokens:read',
    ...overrides,
  });
  const serve = (
    path: string,
    body: unknown,
    extra: { status?: number; headers?: Record<string, string>; delayMs?: number } = {},
  ) => served.set(path, { body: typeof body === 'string' ? body : JSON.stringify(body), ...extra });

  /** GET /authorize for a client URL as a browser would (no redirect followed): the status and the answer. */
  const authorize = async (clientId: string, extra: Record<string, string> = {}) => {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${system.base}/api/v1/oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: APP_REDIRECT,
      scope: 'openid providers:read',
      state: 'st',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    const text = await res.text();
    return { res, text, json: () => JSON.parse(text) as { error?: string; error_description?: string } };
  };
  const setSettings = (body: unknown, token = admin) =>
    system.api('/api/v1/oauth/admin/client-metadata-documents', token, { method: 'PUT', body });

  beforeAll(async () => {
    sitePort = await freePort();
    site = createServer(handle);
    await new Promise<void>((resolve) => site.listen(sitePort, '127.0.0.1', resolve));
    system = new BrokerSystem({ label: 'cimd', egressPorts: [sitePort] });
    await system.start();
    admin = await system.adminToken();
    await system.users.upsert('default', { sub: 'alice', email: 'alice@example.test' }, [
      'providers:read',
      'authorizations:read',
      'tokens:read',
    ]);
    serve('/client.json', document('/client.json'), { headers: { 'cache-control': 'max-age=60' } });
  });

  afterAll(async () => {
    await system?.stop();
    site?.closeAllConnections();
    await new Promise((resolve) => site?.close(resolve));
  });

  it('is off by default: not advertised, and a client URL is refused without being fetched', async () => {
    const metadata = (await (
      await fetch(`${system.base}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata['client_id_metadata_document_supported']).toBeUndefined();
    fetchesOf = new Map();
    const { res, json } = await authorize(siteUrl('/client.json'));
    expect(res.status).toBe(400);
    expect(json()).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringMatching(/no organisation/),
    });
    expect(fetchesOf.get('/client.json')).toBeUndefined();
  });

  it('is turned on by an org admin only, with checked settings', async () => {
    expect(
      (
        await system.api('/api/v1/oauth/admin/client-metadata-documents', undefined, {
          method: 'PUT',
          body: { enabled: true, maxScopes: ['providers:read'] },
        })
      ).status,
    ).toBe(401);
    const reader = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['providers:read'],
    });
    expect(
      (await setSettings({ enabled: true, maxScopes: ['providers:read'] }, await system.clientToken(reader)))
        .status,
    ).toBe(403);
    const bad = await setSettings({ enabled: 'yes' });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ detail: [{ loc: ['body', 'enabled'] }] });
    const noScopes = await setSettings({ enabled: true });
    expect(noScopes.status).toBe(422);
    expect(JSON.stringify(await noScopes.json())).toMatch(/maxScopes/);
    const delegate = await setSettings({ enabled: true, maxScopes: ['tokens:delegate'] });
    expect(delegate.status).toBe(422);

    const ok = await setSettings({
      enabled: true,
      allowedClients: ['127.0.0.1'],
      maxScopes: ['providers:read', 'authorizations:read'],
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      enabled: true,
      allowedClients: ['127.0.0.1'],
      maxScopes: ['providers:read', 'authorizations:read'],
    });
    expect(
      await (await system.api('/api/v1/oauth/admin/client-metadata-documents', admin)).json(),
    ).toMatchObject({ enabled: true });
  });

  it('discovery (RFC 9728 → RFC 8414) → confirmation → authorization with resource → token as a public client (openid-client) → protected call → step-up', async () => {
    // 1. The broker's API says which authorization server protects it; that server says it takes client URLs.
    const unauth = await system.api('/api/v2/externalOAuth/providers/', undefined);
    expect(unauth.status).toBe(401);
    const prmUrl = challengeParam(unauth.headers.get('www-authenticate'), 'resource_metadata') ?? '';
    const prm = (await (await fetch(prmUrl)).json()) as { resource: string; authorization_servers: string[] };
    const clientId = siteUrl('/client.json');
    const config = await oidc.discovery(
      new URL(prm.authorization_servers[0]),
      clientId,
      { id_token_signed_response_alg: 'ES256' },
      oidc.None(),
      { execute: [oidc.allowInsecureRequests] },
    );
    const as = config.serverMetadata();
    expect(as['client_id_metadata_document_supported']).toBe(true);
    expect(as.token_endpoint_auth_methods_supported).toContain('none');

    // 2. The confirmation page names the client in its own, unverified words, and its host.
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const params = {
      redirect_uri: APP_REDIRECT,
      scope: 'openid providers:read',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce: 'client-nonce-1',
      resource: prm.resource,
    };
    const page = await fetch(oidc.buildAuthorizationUrl(config, params), { redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Example MCP Client');
    expect(html).toMatch(/not verified/);
    expect(html).toContain(`127.0.0.1:${sitePort}`);
    expect(page.headers.get('content-security-policy')).toMatch(
      /form-action 'self' http:\/\/127\.0\.0\.1:\d+/,
    );

    // 3. The person confirms and signs in; the code comes back to the document's redirect URI.
    const callback = await signInAtDemoIdp(
      oidc.buildAuthorizationUrl(config, params).href,
      'alice@example.test',
      (u) => u.startsWith(APP_REDIRECT),
    );
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: 'client-nonce-1' },
      { resource: prm.resource },
    );
    expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'providers:read']);
    expect(tokens.claims()?.aud).toBe(clientId);

    // 4. A protected call.
    expect((await system.api('/api/v2/externalOAuth/providers/', tokens.access_token)).status).toBe(200);

    // 5. Step-up: a call needing more answers insufficient_scope with the scope; the client asks again.
    const more = await system.api('/api/v2/externalOAuth/authorizedProviders', tokens.access_token);
    expect(more.status).toBe(403);
    const header = more.headers.get('www-authenticate');
    expect(challengeParam(header, 'error')).toBe('insufficient_scope');
    const needed = challengeParam(header, 'scope') ?? '';
    const steppedVerifier = oidc.randomPKCECodeVerifier();
    const steppedParams = {
      ...params,
      nonce: 'client-nonce-2',
      scope: `openid providers:read ${needed}`,
      code_challenge: await oidc.calculatePKCECodeChallenge(steppedVerifier),
    };
    const back = await signInAtDemoIdp(
      oidc.buildAuthorizationUrl(config, steppedParams).href,
      'alice@example.test',
      (u) => u.startsWith(APP_REDIRECT),
    );
    const stepped = await oidc.authorizationCodeGrant(
      config,
      back,
      { pkceCodeVerifier: steppedVerifier, expectedState: state, expectedNonce: 'client-nonce-2' },
      { resource: prm.resource },
    );
    expect(stepped.scope?.split(' ')).toEqual(
      expect.arrayContaining(['providers:read', 'authorizations:read']),
    );
    expect((await system.api('/api/v2/externalOAuth/authorizedProviders', stepped.access_token)).status).toBe(
      200,
    );

    // 6. A refresh as a public client keeps working (the refresh token rotates).
    const refreshed = await oidc.refreshTokenGrant(config, stepped.refresh_token ?? '');
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(stepped.refresh_token);
  });

  it('never gives such a client more than its org allows (tokens:read is in its document, not in the org’s list)', async () => {
    const { callback } = await system.signIn(
      { clientId: siteUrl('/client.json'), clientSecret: '' },
      'alice@example.test',
      'openid tokens:read',
    );
    expect(callback.searchParams.get('error')).toBe('invalid_scope');
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it.each([
    [
      'whose client_id is not its URL',
      '/mismatch.json',
      (p: string) => document(p, { client_id: siteUrl('/client.json') }),
      {},
      'invalid_client',
      /differs from the URL/,
    ],
    [
      'with a client_secret',
      '/secret.json',
      (p: string) => document(p, { client_secret: 'not-so-secret' }),
      {},
      'invalid_client',
      /client_secret/,
    ],
    [
      'larger than 5 KB',
      '/big.json',
      (p: string) => document(p, { padding: 'x'.repeat(6_000) }),
      {},
      'invalid_client',
      /bytes/,
    ],
    [
      'from a server too slow to answer',
      '/slow.json',
      (p: string) => document(p),
      { delayMs: 8_000 },
      'invalid_client',
      /in time/,
    ],
    [
      'that redirects elsewhere',
      '/moved.json',
      () => '',
      { status: 302, headers: { location: '/client.json' } },
      'invalid_client',
      /302/,
    ],
  ])(
    'refuses a document %s with a clear error, not a redirect and not a 500',
    async (_name, path, body, extra, error, why) => {
      serve(path, body(path), extra);
      const started = Date.now();
      const { res, json } = await authorize(siteUrl(path));
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(json()).toEqual({ error, error_description: expect.stringMatching(why) });
      expect(Date.now() - started).toBeLessThan(6_000);
    },
  );

  it('refuses a redirect_uri that is not in the document, without redirecting to it', async () => {
    const { res, json } = await authorize(siteUrl('/client.json'), {
      redirect_uri: 'https://attacker.example/steal',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(json()).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringMatching(/redirect_uri is not registered/),
    });
  });

  it('refuses client URLs at private or metadata addresses, and URLs the draft forbids, before fetching anything', async () => {
    for (const clientId of [
      'https://10.0.0.8/client.json',
      'https://169.254.169.254/latest/meta-data',
      `https://127.0.0.1:${sitePort}/`,
      `${siteUrl('/a/../client.json')}`,
      `${siteUrl('/client.json')}#frag`,
    ]) {
      const { res, json } = await authorize(clientId);
      expect(res.status).toBe(400);
      expect(json()).toMatchObject({ error: 'invalid_client' });
    }
  });

  it('binds the confirmation to the browser that saw the page: a forged POST is refused', async () => {
    const forged = await fetch(`${system.base}/api/v1/oauth/authorize/confirm`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        confirmation: randomBytes(32).toString('base64url'),
        decision: 'allow',
        client_id: siteUrl('/client.json'),
        redirect_uri: APP_REDIRECT,
        response_type: 'code',
      }),
    });
    expect(forged.status).toBe(400);
    expect(forged.headers.get('location')).toBeNull();
    expect(await forged.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses a secret sent for such a client at the token endpoint (it is public), and client_credentials', async () => {
    const withSecret = await system.tokenRequest({
      grant_type: 'client_credentials',
      client_id: siteUrl('/client.json'),
      client_secret: 'guess',
    });
    expect(withSecret.status).toBe(401);
    expect(await withSecret.json()).toMatchObject({ error: 'invalid_client' });
    const cc = await system.tokenRequest({
      grant_type: 'client_credentials',
      client_id: siteUrl('/client.json'),
    });
    expect(cc.status).toBe(400);
    expect(await cc.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it('serves the gateway’s OpenAPI document at /docs-json and its UI at /docs (issue 16), under a policy allowing the UI’s own scripts only', async () => {
    const json = await fetch(`${system.base}/docs-json`);
    expect(json.status).toBe(200);
    const doc = (await json.json()) as OpenApiDocument & { openapi: string };
    expect(doc.openapi).toMatch(/^3\./);
    // The served document agrees with the seeds operation by operation (libs/testing openapi-seeds).
    expect(diffAgainstSeeds(doc, loadSeedFixtures()).join('\n')).toBe('');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v2/externalOAuth/providers',
        '/api/v2/external-auth',
        '/api/v1/oauth/token',
      ]),
    );
    const ui = await fetch(`${system.base}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger-ui/);
    expect(ui.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(ui.headers.get('content-security-policy')).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
  });

  it('refuses every client URL once the org turns it off, at authorize and at the token endpoint', async () => {
    const { callback, verifier } = await system.signIn(
      { clientId: siteUrl('/client.json'), clientSecret: '' },
      'alice@example.test',
      'openid providers:read',
    );
    const code = callback.searchParams.get('code') ?? '';
    expect(code).not.toBe('');
    expect((await setSettings({ enabled: false })).status).toBe(200);
    const { res, json } = await authorize(siteUrl('/client.json'));
    expect(res.status).toBe(400);
    expect(json()).toMatchObject({ error: 'invalid_client' });
    const redeemed = await system.tokenRequest({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: APP_REDIRECT,
      client_id: siteUrl('/client.json'),
    });
    expect(redeemed.status).toBe(401);
    expect(await redeemed.json()).toMatchObject({ error: 'invalid_client' });
    const metadata = (await (
      await fetch(`${system.base}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(metadata['client_id_metadata_document_supported']).toBeUndefined();
  });
});
