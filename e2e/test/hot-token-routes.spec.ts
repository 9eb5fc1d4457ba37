import { BrokerSystem } from './broker-system';

type Answer = { status: number; body: unknown; headers: Record<string, string> };

/** Headers that differ between any two answers (time, the per-answer CSP nonce, the body length of a different token). */
const VARYING = new Set(['date', 'content-security-policy', 'content-length', 'keep-alive', 'connection']);

/**
 * The REST token routes are answered ahead of Nest's route pipeline (apps/gateway/src/http/
 * hot-token-routes.ts) for the plain case — an `Authorization: Bearer` header. A token sent as
 * `?access_token=` instead takes the controller route and its passport guard: the same request
 * sent both ways must get the same answer (status, body, headers but the varying ones), for
 * successes and for every refusal; the access log still has its line.
 */
describe('hot token routes answer exactly as the controller routes', () => {
  const system = new BrokerSystem({ label: 'hot-routes', providerClient: true });
  let admin: string;
  let alice: string;
  let bob: string;
  let aliceNoTokens: string;
  let providerId: string;
  let authorizationId: string;

  beforeAll(async () => {
    await system.start();
    admin = await system.adminToken();
    providerId = await system.registerDemoProvider(admin);
    for (const sub of ['alice', 'bob'])
      await system.users.upsert('default', { sub, email: `${sub}@example.test` });
    alice = await system.delegatedToken(admin, 'alice', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    bob = await system.delegatedToken(admin, 'bob', ['authorizations:read', 'tokens:read']);
    aliceNoTokens = await system.delegatedToken(admin, 'alice', ['authorizations:read']);
    authorizationId = await system.linkAccount(alice, providerId, 'alice@example.test');
  });

  afterAll(() => system.stop());

  async function send(
    path: string,
    token: string | undefined,
    how: 'header' | 'query',
    body?: unknown,
  ): Promise<Answer> {
    const url =
      how === 'query' && token
        ? `${path}${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`
        : path;
    const res = await system.api(url, how === 'header' ? token : undefined, {
      method: 'POST',
      ...(body === undefined ? {} : { body }),
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (!VARYING.has(k)) headers[k] = v;
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null, headers };
  }

  /** The same request through both paths: the same answer, `token`-independent parts compared whole. */
  async function both(path: string, token: string | undefined, body?: unknown): Promise<Answer> {
    const hot = await send(path, token, 'header', body);
    const routed = await send(path, token, 'query', body);
    expect({ status: hot.status, headers: hot.headers }).toEqual({
      status: routed.status,
      headers: routed.headers,
    });
    if (hot.status < 300)
      expect(Object.keys(hot.body as object).sort()).toEqual(Object.keys(routed.body as object).sort());
    else expect(hot.body).toEqual(routed.body);
    return hot;
  }

  const tokenPath = (id: string, slash = '/') =>
    `/api/v2/externalOAuth/authorizedProviders/${id}/token${slash}`;

  it('serves the caller’s own provider token (201), with and without the trailing slash, and logs the request', async () => {
    for (const slash of ['/', '']) {
      const ok = await both(tokenPath(authorizationId, slash), alice);
      expect(ok.status).toBe(201);
      expect(ok.headers['cache-control']).toBe('no-store');
      expect(ok.headers['x-content-type-options']).toBe('nosniff');
      expect(ok.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(typeof (ok.body as { accessToken?: unknown }).accessToken).toBe('string');
    }
    await BrokerSystem.within(5_000, async () =>
      system.logs().includes(`"url":"${tokenPath(authorizationId)}"`),
    );
    const line = system
      .logs()
      .split('\n')
      .find((l) => l.includes(`"url":"${tokenPath(authorizationId)}"`) && l.includes('"statusCode":201'));
    expect(line).toBeDefined();
    // The access log never carries the caller's credential.
    expect(system.logs()).not.toContain(alice);
  });

  it('refuses the same way: no token, a forged one, a missing scope, a bad id, another user’s authorization', async () => {
    const none = await send(tokenPath(authorizationId), undefined, 'header');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="oauth-broker", error="invalid_token"/);
    const forged = await both(tokenPath(authorizationId), `${alice.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    expect(forged.body).toEqual({ message: 'A valid bearer token is required.', errorFields: [] });
    expect(forged.headers['www-authenticate']).toBe(none.headers['www-authenticate']);
    const scope = await both(tokenPath(authorizationId), aliceNoTokens);
    expect(scope.status).toBe(403);
    expect(scope.headers['www-authenticate']).toMatch(/error="insufficient_scope", scope="tokens:read"/);
    const badId = await both(tokenPath('not-a-uuid'), alice);
    expect(badId.status).toBe(422);
    expect(badId.body).toEqual({
      message: 'Invalid path parameter.',
      errorFields: [{ name: 'authorizedProviderId', message: 'must be a UUID' }],
    });
    const other = await both(tokenPath(authorizationId), bob);
    expect(other.status).toBe(404);
  });

  it('POST /tokens/: a service acquires by user and provider; bad bodies are the same 422', async () => {
    const byUser = await both('/api/v2/externalOAuth/tokens/', admin, {
      userId: 'alice',
      providerId,
      minValiditySeconds: 5,
    });
    expect(byUser.status).toBe(200);
    expect((byUser.body as { authorizationId?: unknown }).authorizationId).toBe(authorizationId);
    for (const bad of [
      { userId: 'alice' },
      { authorizationId, userId: 'alice', providerId },
      { authorizationId: 'x' },
      { nope: 1 },
      [],
    ]) {
      const refused = await both('/api/v2/externalOAuth/tokens/', admin, bad);
      expect(refused.status).toBe(422);
      expect((refused.body as { message: string }).message).toBe('Invalid token request.');
    }
    expect((await both('/api/v2/externalOAuth/tokens/', alice, { userId: 'bob', providerId })).status).toBe(
      404,
    );
  });

  // Not a hot route: found by the fuzz suite (seed 1779368662) while this branch's full run went.
  it('the provider’s browser callback answers a page, never JSON, when its query holds values no provider sends', async () => {
    for (const [name, size] of [
      ['error', 300],
      ['iss', 3000],
      ['state', 3000],
    ] as const) {
      const res = await fetch(
        `${system.gateways[0].url}/api/v2/externalOAuth/providers/callback?providerId=${providerId}&${name}=${'x'.repeat(size)}`,
        { redirect: 'manual' },
      );
      expect({ name, status: res.status, type: res.headers.get('content-type') }).toEqual({
        name,
        status: 400,
        type: 'text/html; charset=utf-8',
      });
      expect(await res.text()).toContain('Not connected');
    }
  });

  it('a revoked token is refused on the hot path within the revocation list’s delay', async () => {
    const one = await system.delegatedToken(admin, 'alice', ['tokens:read']);
    expect((await send(tokenPath(authorizationId), one, 'header')).status).toBe(201);
    expect(
      (await system.api('/api/v1/oauth/admin/revoke', admin, { method: 'POST', body: { token: one } }))
        .status,
    ).toBe(200);
    // The gateway's own refusal (with its challenge): until the gateway's revocation list has it, the broker's guard refuses it (401 without a challenge).
    const ms = await BrokerSystem.within(5_000, async () => {
      const answer = await send(tokenPath(authorizationId), one, 'header');
      return answer.status === 401 && answer.headers['www-authenticate'] !== undefined;
    });
    expect(ms).toBeLessThan(5_000);
    expect((await both(tokenPath(authorizationId), one)).status).toBe(401);
  });
});
