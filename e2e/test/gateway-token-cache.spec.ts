import IORedis from 'ioredis';
import { brokerEventsChannel } from '@broker/contracts';
import { BrokerSystem } from './broker-system';
import { freePort } from './service-processes';

type Served = { status: number; accessToken?: string };
type LedgerItems = { items: { path: string; consumer: string; serveCount: number }[] };

/**
 * The gateway's cache of served tokens (GATEWAY_TOKEN_CACHE=on, issue 20), attacked on a running
 * stack. Whether an answer came from the cache is read from the token-broker's own request counter
 * (/metrics): a hit never reaches it. After a token is cached: a revoked authorization, a revoked
 * caller token and a killed events connection (CLIENT KILL from a bare Redis client) each make the
 * next call NOT come from the cache; forged events neither poison nor flush it; every hit is in
 * the ledger. A withdrawn grant (consumer.changed), a disabled client or user and a provider made
 * inactive (provider.changed) too; a refreshed token (authorization.refreshed) is never answered
 * again once the refresh has landed, by any route or caller, even for calls racing the refresh; a
 * provider edited (client secret rotated, renamed: provider.changed) is asked again.
 */
describe('gateway token cache: answers only what the broker would, every hit in the ledger', () => {
  let metricsPort: number;
  let system: BrokerSystem;
  let admin: string;
  let alice: string;
  let providerId: string;
  let authorizationId: string;
  let redis: IORedis;

  const tokenPath = (id: string) => `/api/v2/externalOAuth/authorizedProviders/${id}/token/`;
  const rest = async (token: string, id = authorizationId): Promise<Served> => {
    const res = await system.api(tokenPath(id), token, { method: 'POST' });
    const body = (await res.json()) as { accessToken?: string };
    return { status: res.status, ...(body.accessToken ? { accessToken: body.accessToken } : {}) };
  };
  /** REST token requests the token-broker has handled (a cache hit is not one). */
  const brokerServes = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('broker_bus_server_request_duration_seconds_count{') &&
          (l.includes('pattern="authorizations.token"') || l.includes('pattern="tokens.acquire"')),
      )
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };
  const restCount = async (): Promise<number> => {
    const res = await system.api(`/api/v1/oauth/admin/ledger?authorizationId=${authorizationId}`, admin);
    const page = (await res.json()) as LedgerItems;
    return page.items.filter((i) => i.path === 'rest').reduce((n, i) => n + i.serveCount, 0);
  };
  /**
   * Makes sure the caller's answer is cached: a serve, then a repeat the broker does not see (after
   * a consumer change of the org nothing is stored for 5 s, so this may take a few tries).
   */
  const cached = async (token = alice, id = authorizationId): Promise<string> => {
    let first: Served = { status: 0 };
    await BrokerSystem.within(8_000, async () => {
      first = await rest(token, id);
      expect(first.status).toBe(201);
      const before = await brokerServes();
      const again = await rest(token, id);
      return again.accessToken === first.accessToken && (await brokerServes()) === before;
    });
    return String(first.accessToken);
  };

  const acquire = async (token: string, body: Record<string, unknown> = {}): Promise<Served> => {
    const res = await system.api('/api/v2/externalOAuth/tokens/', token, {
      method: 'POST',
      body: { authorizationId, ...body },
    });
    const json = (await res.json()) as { accessToken?: string };
    return { status: res.status, ...(json.accessToken ? { accessToken: json.accessToken } : {}) };
  };
  const idpHooks = async (path: string, body?: unknown): Promise<Record<string, number>> =>
    (await (
      await fetch(
        `${system.idp.issuer}/__test/${path}`,
        body === undefined
          ? {}
          : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      )
    ).json()) as Record<string, number>;
  const providerRefreshes = async (): Promise<number> =>
    (await idpHooks('events'))['token_requests.refresh_token'] ?? 0;
  /**
   * Refreshes the authorization through the broker (a `minValiditySeconds` above the token's
   * remaining life but below its whole lifetime, which the broker only honours once the token is
   * more than 5 s old: retried until then, bounded); the new access token and when its answer came.
   */
  const forceRefresh = async (token: string, old: string): Promise<{ fresh: string; at: number }> => {
    let fresh = old;
    await BrokerSystem.within(15_000, async () => {
      const served = await acquire(token, { minValiditySeconds: 3_594 });
      expect(served.status).toBe(200);
      fresh = String(served.accessToken);
      if (fresh !== old) return true;
      await new Promise((r) => setTimeout(r, 900));
      return false;
    });
    return { fresh, at: Date.now() };
  };
  /** Every `authorization.refreshed` the broker publishes for the authorization (seen on a bare subscriber). */
  const refreshedEvents: number[] = [];
  let subscriber: IORedis;

  beforeAll(async () => {
    metricsPort = await freePort();
    system = new BrokerSystem({
      label: 'gateway-cache',
      providerClient: true,
      // A TTL far longer than any test here: every "not from the cache" below must come from an
      // invalidation, never from an entry that merely aged out (the default is 5 s).
      env: {
        GATEWAY_TOKEN_CACHE: 'on',
        GATEWAY_TOKEN_CACHE_TTL_SECONDS: '600',
        METRICS_PORT__token_broker: String(metricsPort),
      },
      // The provider's counters and a slow token endpoint (a refresh that takes a while to land).
      idpEnv: { DEMO_IDP_TEST_HOOKS: '1' },
    });
    await system.start();
    ({ admin, providerId, alice } = await system.adminAndAlice());
    authorizationId = await system.linkAccount(alice, providerId, 'alice@example.test');
    redis = new IORedis(system.env['REDIS_URL'], { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    subscriber = new IORedis(system.env['REDIS_URL'], { lazyConnect: true, maxRetriesPerRequest: 1 });
    await subscriber.connect();
    subscriber.on('message', (_channel: string, message: string) => {
      // Observation only (the gateway checks signatures; a forgery here would only make the test stricter).
      const signed = JSON.parse(message) as { e?: unknown };
      if (typeof signed.e !== 'string') return;
      const event = JSON.parse(signed.e) as { type?: string; authorizationId?: string };
      if (event.type === 'authorization.refreshed' && event.authorizationId === authorizationId)
        refreshedEvents.push(Date.now());
    });
    await subscriber.subscribe(brokerEventsChannel(system.env['BUS_PREFIX']));
  });

  afterAll(async () => {
    await subscriber?.quit();
    await redis?.quit();
    await system?.stop();
  });

  /**
   * A service client of the default org granted every provider for the org's users, whose REST
   * acquire of the linked authorization (`call`, its HTTP status) is answered from the gateway's
   * cache by the time this returns (once the org's no-store window after the grant's own notice is over).
   */
  async function cachedServiceClient(): Promise<{
    svc: { clientId: string };
    grantId: string;
    call: () => Promise<number>;
  }> {
    const svc = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:read'],
    });
    const made = await system.api(`/api/v1/oauth/admin/clients/${svc.clientId}/token-grants`, admin, {
      method: 'POST',
      body: { providers: '*', subjects: { mode: 'org' } },
    });
    expect(made.status).toBe(201);
    const grantId = ((await made.json()) as { id: string }).id;
    const token = await system.clientToken(svc);
    const call = async () =>
      (
        await system.api('/api/v2/externalOAuth/tokens/', token, {
          method: 'POST',
          body: { authorizationId },
        })
      ).status;
    await BrokerSystem.within(8_000, async () => {
      expect(await call()).toBe(200);
      const served = await brokerServes();
      expect(await call()).toBe(200);
      return (await brokerServes()) === served;
    });
    return { svc, grantId, call };
  }

  it('answers a repeat from the cache, and records every hit in the ledger within the batch interval', async () => {
    await cached();
    // The hit of cached() is reported within two batch intervals (gateway, then broker): let it land.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = await restCount();
    const served = await brokerServes();
    for (let i = 0; i < 5; i++) expect((await rest(alice)).status).toBe(201);
    expect(await brokerServes()).toBe(served);
    await BrokerSystem.within(5_000, async () => (await restCount()) === before + 5);
  });

  it('forged events (unsigned, altered) neither flush nor poison it', async () => {
    const token = await cached();
    const channel = brokerEventsChannel(system.env['BUS_PREFIX']);
    const at = new Date().toISOString();
    for (const forged of [
      { type: 'consumer.changed', change: 'user', orgId: 'default', userId: 'alice', at },
      {
        type: 'authorization.revoked',
        orgId: 'default',
        authorizationId,
        providerId,
        userId: 'alice',
        status: 'revoked',
        at,
      },
    ]) {
      await redis.publish(channel, JSON.stringify(forged));
      await redis.publish(channel, JSON.stringify({ e: forged, kid: 'tb1', sig: 'A'.repeat(86) }));
    }
    await new Promise((r) => setTimeout(r, 300));
    const served = await brokerServes();
    expect(await rest(alice)).toEqual({ status: 201, accessToken: token });
    expect(await brokerServes()).toBe(served);
  });

  it('a killed events connection drops the cache: the next call goes to the broker', async () => {
    await cached();
    const list = String(await redis.call('CLIENT', 'LIST'));
    const ids = list
      .split('\n')
      .filter((l) => / name=gateway:events /.test(l))
      .map((l) => /^id=(\d+)/.exec(l)?.[1]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await redis.call('CLIENT', 'KILL', 'ID', String(id));
    // The gateway learns of the kill when its socket closes (at once on this host): from then on
    // nothing is answered from the cache until the subscription is back and confirmed.
    await BrokerSystem.within(1_000, async () => {
      const served = await brokerServes();
      expect((await rest(alice)).status).toBe(201);
      return (await brokerServes()) === served + 1;
    });
    // Back and confirmed: cached again.
    await BrokerSystem.within(5_000, async () => {
      await rest(alice);
      const served = await brokerServes();
      await rest(alice);
      return (await brokerServes()) === served;
    });
  });

  it('a refreshed token is never answered again once the refresh has landed, by either route', async () => {
    const old = await cached();
    // The acquire route keeps its own entry (another cache key): the old token is cached there too.
    await BrokerSystem.within(8_000, async () => {
      const first = await acquire(alice);
      const before = await brokerServes();
      const again = await acquire(alice);
      return first.accessToken === old && again.accessToken === old && (await brokerServes()) === before;
    });
    const refreshesBefore = await providerRefreshes();
    const eventsBefore = refreshedEvents.length;
    const { fresh } = await forceRefresh(alice, old);
    expect(fresh).not.toBe(old);
    // One real refresh at the provider (a new token set, the refresh token rotated by the demo IdP).
    expect(await providerRefreshes()).toBe(refreshesBefore + 1);
    // The broker's event reaches every subscriber of the channel with one publish: once this test's
    // subscriber has it (plus a moment for the gateway's socket to be read), no call may be answered the old token.
    await BrokerSystem.within(2_000, async () => refreshedEvents.length > eventsBefore);
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 5; i++) {
      expect(await rest(alice)).toEqual({ status: 201, accessToken: fresh });
      expect(await acquire(alice)).toEqual({ status: 200, accessToken: fresh });
    }
    // The new token is cached in its turn (after the authorization's short no-store window).
    expect(await cached()).toBe(fresh);
  });

  it('calls racing a slow refresh get the old token while it is current, never once the refresh has landed', async () => {
    const old = await cached();
    // The provider takes 1.5 s to answer the refresh; two callers (one per route) keep asking meanwhile.
    await idpHooks('faults', { tokenDelayMs: 1_500 });
    const calls: { startedAt: number; status: number; token?: string }[] = [];
    let stop = false;
    const loop = async (call: () => Promise<Served>): Promise<void> => {
      while (!stop) {
        const startedAt = Date.now();
        const served = await call();
        calls.push({
          startedAt,
          status: served.status,
          ...(served.accessToken ? { token: served.accessToken } : {}),
        });
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const eventsBefore = refreshedEvents.length;
    const loops = [loop(() => rest(alice)), loop(() => acquire(alice))];
    let refreshed: { fresh: string; at: number };
    try {
      refreshed = await forceRefresh(alice, old);
      await BrokerSystem.within(2_000, async () => refreshedEvents.length > eventsBefore);
      // Keep racing past the authorization's no-store window (2.5 s), when answers are cached again.
      await new Promise((r) => setTimeout(r, 3_500));
    } finally {
      stop = true;
      await Promise.all(loops);
      await idpHooks('faults', { tokenDelayMs: 0 });
    }
    expect(refreshed.fresh).not.toBe(old);
    expect(calls.every((c) => c.status === 200 || c.status === 201)).toBe(true);
    // The race was real: while the provider was still answering, callers were served the (current) old token.
    expect(calls.some((c) => c.startedAt < refreshed.at - 1_000 && c.token === old)).toBe(true);
    const landed = Math.max(refreshed.at, refreshedEvents[refreshedEvents.length - 1] ?? 0) + 50;
    const after = calls.filter((c) => c.startedAt >= landed);
    expect(after.length).toBeGreaterThan(20);
    expect(after.filter((c) => c.token !== refreshed.fresh)).toEqual([]);
  });

  it('a provider edited (client secret rotated, renamed: provider.changed) is asked again at once', async () => {
    // The provider API edits the secret, name, consent and status (scopes are fixed at creation);
    // every edit is one provider.changed, as a status change is (tested below).
    const path = `/api/v2/externalOAuth/providers/${providerId}`;
    for (const body of [
      { clientSecret: system.providerSecret },
      { name: 'Demo renamed' },
      { name: 'Demo' },
    ]) {
      await cached();
      const served = await brokerServes();
      const patched = await system.api(path, admin, { method: 'PATCH', body });
      expect({ status: patched.status, body: patched.status === 200 ? '' : await patched.text() }).toEqual({
        status: 200,
        body: '',
      });
      // provider.changed is published before the registry's answer: the very next call goes to the broker.
      expect((await rest(alice)).status).toBe(201);
      expect(await brokerServes()).toBe(served + 1);
    }
  });

  it('a withdrawn grant (consumer.changed, org-wide) is not answered from the cache', async () => {
    const { grantId, call } = await cachedServiceClient();
    const gone = await system.api(`/api/v1/oauth/admin/token-grants/${grantId}`, admin, { method: 'DELETE' });
    expect(gone.status).toBe(204);
    // The notice is published before the admin's answer; the gateway drops the org's entries on it.
    await BrokerSystem.within(1_000, async () => (await call()) === 403);
    for (let i = 0; i < 5; i++) expect(await call()).toBe(403);
  });

  it('a disabled client is not answered from the cache', async () => {
    const { svc, call } = await cachedServiceClient();
    const disabled = await system.api(`/api/v1/oauth/admin/clients/${svc.clientId}/disable`, admin, {
      method: 'POST',
    });
    expect(disabled.status).toBeLessThan(300);
    await BrokerSystem.within(1_000, async () => (await call()) === 401);
    for (let i = 0; i < 3; i++) expect(await call()).toBe(401);
  });

  it('a provider made inactive is not answered from the cache (provider.changed)', async () => {
    await cached();
    const set = (status: string) =>
      system.api(`/api/v2/externalOAuth/providers/${providerId}`, admin, {
        method: 'PATCH',
        body: { status },
      });
    expect((await set('invalid')).status).toBe(200);
    // The broker refuses a token of a provider that is not active (a 4xx); the cache must not answer 201.
    await BrokerSystem.within(1_000, async () => (await rest(alice)).status >= 400);
    for (let i = 0; i < 3; i++) expect((await rest(alice)).status).toBeGreaterThanOrEqual(400);
    expect((await set('active')).status).toBe(200);
  });

  it('a revoked caller token is refused even though its answer is cached', async () => {
    const bob = await system.delegatedToken(admin, 'alice', ['tokens:read']);
    await cached(bob);
    const revoked = await system.api('/api/v1/oauth/admin/revoke', admin, {
      method: 'POST',
      body: { token: bob },
    });
    expect(revoked.status).toBeLessThan(300);
    await BrokerSystem.within(5_000, async () => (await rest(bob)).status === 401);
    alice = await system.delegatedToken(admin, 'alice', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
  });

  it('a revoked authorization is not served from the cache', async () => {
    await cached();
    const gone = await system.api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/`, alice, {
      method: 'DELETE',
    });
    expect(gone.status).toBeLessThan(300);
    await BrokerSystem.within(2_000, async () => (await rest(alice)).status >= 400);
  });

  it('a disabled user is not answered from the cache (their tokens revoked, consumer.changed)', async () => {
    await system.users.upsert('default', { sub: 'dave', email: 'dave@example.test' });
    const dave = await system.delegatedToken(admin, 'dave', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    const id = await system.linkAccount(dave, providerId, 'dave@example.test');
    await cached(dave, id);
    const disabled = await system.api('/api/v1/oauth/admin/users/dave/disable', admin, { method: 'POST' });
    expect(disabled.status).toBeLessThan(300);
    await BrokerSystem.within(1_000, async () => (await rest(dave, id)).status === 401);
    for (let i = 0; i < 3; i++) expect((await rest(dave, id)).status).toBe(401);
  });
});
