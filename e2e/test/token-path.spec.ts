import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BusClientProxy } from '@broker/bus';
import type { AcquiredToken, BrokerEvent } from '@broker/contracts';
import { brokerEventsChannel } from '@broker/contracts';
import { createRedisConnection } from '@broker/bus';
import { BrokerClient } from '@broker/broker-client';
import { IDENTITY_SCHEMA } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, signInAtDemoIdp, sleep, TestDatabase } from '@broker/testing';
import { pgDump } from './pg-dump';
import { redisSnapshot } from './redis-snapshot';
import {
  DemoIdpProcess,
  ServiceProcess,
  busClientFor,
  consumerKeys,
  freePort,
  genuineEvent,
} from './service-processes';
import { bearerApi, clientCredentialsToken, demoProviderSystemEnv, startProviderIdp } from './system-setup';
import { delegatedToken, grantedServiceClient, inviteUser, registerDemoProvider } from './consent-setup';

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const PROVIDER_SECRET = randomBytes(24).toString('base64url');

/**
 * The consent flow and the token path against oidc-provider as the external provider (its own
 * process; PKCE required, refresh tokens rotate, reuse revokes the grant, 20-second access tokens),
 * counting what the provider saw through its test hooks.
 */
describe('consent and the token path', () => {
  let db: TestDatabase;
  let idp: DemoIdpProcess;
  let base: string;
  let env: Record<string, string>;
  const brokers: ServiceProcess[] = [];
  const others: ServiceProcess[] = [];
  let admin: string;
  let alice: string;
  let providerId: string;
  let bus: BusClientProxy;
  const seen: string[] = [];
  const events: BrokerEvent[] = [];
  let subscriber: ReturnType<typeof createRedisConnection>;

  const api = bearerApi(() => base);
  const hooks = async (path: string, body?: unknown) =>
    (await (
      await fetch(
        `${idp.issuer}/__test/${path}`,
        body === undefined
          ? {}
          : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      )
    ).json()) as Record<string, number>;
  const consumed = async () => (await hooks('events'))['refresh_token.consumed'] ?? 0;

  /** Follows the provider's sign-in from `url` until the browser is sent to the broker's callback (`jars`: the browser's cookies). */
  const signInAtProvider = (
    url: string,
    email: string,
    jars?: Map<string, Map<string, string>>,
  ): Promise<URL> =>
    signInAtDemoIdp(
      url,
      email,
      (u) => u.startsWith(`${base}/api/v2/externalOAuth/providers/callback`),
      { given_name: 'Alice', family_name: 'Liddell' },
      jars,
    );

  async function connect(userToken: string, email: string): Promise<string> {
    const start = await api(
      `/api/v2/externalOAuth/providers/${providerId}/authorize/?state=app-state-1`,
      userToken,
      { method: 'POST' },
    );
    expect(start.status).toBe(200);
    const { redirectUrl, state } = (await start.json()) as { redirectUrl: string; state: string };
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const back = await signInAtProvider(redirectUrl, email);
    seen.push(back.searchParams.get('code') ?? '');
    const res = await api('/api/v2/externalOAuth/providers/callback/', userToken, {
      method: 'POST',
      body: {
        code: back.searchParams.get('code'),
        state: back.searchParams.get('state'),
        providerId,
        iss: back.searchParams.get('iss') ?? undefined,
      },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      authorizedProvider: { id: string; status: string };
      userInfo: { email: string; raw: unknown };
    };
    expect(body.authorizedProvider.status).toBe('active');
    expect(body.userInfo).toMatchObject({ email, raw: expect.any(Object) });
    return body.authorizedProvider.id;
  }

  const acquire = (authorizationId: string, minValiditySeconds: number, token = admin) =>
    bus.request(
      'tokens.acquire',
      { authorizationId, minValiditySeconds },
      { auth: token, timeoutMs: 15_000 },
    ) as Promise<AcquiredToken>;

  beforeAll(async () => {
    db = await createTestDatabase('tokenpath');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startProviderIdp(
      base,
      { clientId: 'broker-provider', secret: PROVIDER_SECRET },
      { DEMO_IDP_ACCESS_TOKEN_TTL: '20', DEMO_IDP_TEST_HOOKS: '1' },
    );
    env = demoProviderSystemEnv(
      db.url,
      port,
      'tokenpath',
      { adminSecret: ADMIN_SECRET, idp },
      {
        // Lets one test kill a replica between the provider's answer and the database write.
        TEST_FAULT_HOOKS: '1',
      },
    );
    for (let i = 0; i < 3; i++)
      brokers.push(new ServiceProcess('token-broker', await freePort(), env).start());
    await brokers[0].ready(); // migrations first, then the rest
    // No worker yet: its refresh-ahead would add provider calls to the exact counts below (it joins in the last test).
    others.push(
      new ServiceProcess('provider-registry', await freePort(), env).start(),
      new ServiceProcess('gateway', port, env).start(),
    );
    await Promise.all([...brokers, ...others].map((s) => s.ready()));
    admin = await clientCredentialsToken(base, 'admin', ADMIN_SECRET);
    await inviteUser(db.url, 'e2e-admin', 'alice', 'alice@example.test');
    alice = await delegatedToken(api, admin, 'alice');
    providerId = await registerDemoProvider(api, admin, {
      issuer: idp.issuer,
      clientSecret: PROVIDER_SECRET,
    });
    bus = busClientFor(env);
    await bus.connect();
    subscriber = createRedisConnection(env['REDIS_URL'], 'e2e-events', {});
    await subscriber.subscribe(brokerEventsChannel(env['BUS_PREFIX']));
    subscriber.on('message', (_c: string, m: string) => {
      const event = genuineEvent(env, m);
      if (event) events.push(event);
    });
  });

  afterAll(async () => {
    await subscriber?.quit();
    await bus?.close();
    await Promise.all([...brokers, ...others].map((s) => s.stop()));
    await idp?.stop();
    await db?.drop();
  });

  let authorizationId: string;

  it('runs authorize → provider sign-in → callback, and serves the token over REST and the bus without calling the provider', async () => {
    authorizationId = await connect(alice, 'alice@example.test');
    const list = (await (await api('/api/v2/externalOAuth/authorizedProviders/', alice)).json()) as {
      data: { id: string; provider: { id: string } }[];
    };
    expect(list.data.map((a) => a.id)).toEqual([authorizationId]);
    expect(
      (await (await api('/api/v2/externalOAuth/authorizedProviders/', admin)).json()) as unknown,
    ).toEqual({ data: [] }); // not the admin's

    const before = await hooks('events');
    const rest = await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, alice, {
      method: 'POST',
    });
    expect(rest.status).toBe(201);
    const restToken = (await rest.json()) as {
      accessToken: string;
      expiresAt: string;
      authorizedOauthProvider: { id: string };
    };
    expect(restToken.authorizedOauthProvider.id).toBe(authorizationId);
    const viaBus = await acquire(authorizationId, 5);
    expect(viaBus.accessToken).toBe(restToken.accessToken);
    expect(viaBus).toMatchObject({ authorizationId, providerId, userId: 'alice' });
    seen.push(viaBus.accessToken);
    expect(await hooks('events')).toEqual(before); // served from storage: the provider saw nothing
    expect(events.map((e) => e.type)).toContain('authorization.created');

    const userinfo = await api(
      `/api/v2/externalOAuth/authorizedProviders/${authorizationId}/userinfo/`,
      alice,
    );
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({ email: 'alice@example.test', sub: expect.any(String) });
  });

  /** A token refreshed moments ago is served as the best there is; let it age first. */
  const letTokenAge = () => sleep(6_000);

  /** The authorization's audit record types, oldest first. */
  async function auditTypes(id: string): Promise<string[]> {
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-audit'),
    ).initialize();
    try {
      return (
        (await ds.query(`SELECT type FROM tokens.audit_events WHERE authorization_id = $1 ORDER BY id`, [
          id,
        ])) as { type: string }[]
      ).map((a) => a.type);
    } finally {
      await ds.destroy();
    }
  }

  it('refreshes once when the caller needs more life than is left, and rotates the refresh token', async () => {
    await letTokenAge();
    const before = await consumed();
    const fresh = await acquire(authorizationId, 30); // the provider's tokens live 20 s: this needs a refresh
    seen.push(fresh.accessToken);
    expect(await consumed()).toBe(before + 1);
    const again = await acquire(authorizationId, 10);
    expect(again.accessToken).toBe(fresh.accessToken);
    expect(await consumed()).toBe(before + 1);
  });

  it('3 replicas × 50 concurrent acquires of an expiring token: exactly one refresh at the provider, everyone gets the new token', async () => {
    await letTokenAge();
    const before = await consumed();
    // Three calling processes' worth of clients; the bus spreads the requests over the three broker replicas.
    const callers = Array.from({ length: 3 }, () => ({
      client: busClientFor(env),
    }));
    await Promise.all(callers.map((c) => c.client.connect()));
    try {
      const results = await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          callers[i % 3].client.request(
            'tokens.acquire',
            { authorizationId, minValiditySeconds: 30 },
            { auth: admin, timeoutMs: 20_000 },
          ),
        ),
      );
      expect(await consumed()).toBe(before + 1);
      expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
      expect((await hooks('events'))['grant.revoked'] ?? 0).toBe(0);
    } finally {
      await Promise.all(callers.map((c) => c.client.close()));
    }
  });

  it('keeps the authorization active through 503 and 429 from the provider, serving the still-valid token meanwhile', async () => {
    const before = await consumed();
    await letTokenAge();
    for (const status of [503, 429]) {
      await hooks('faults', { tokenStatus: status, count: 1 });
      const degraded = await acquire(authorizationId, 30);
      expect(new Date(degraded.expiresAt ?? 0).getTime()).toBeGreaterThan(Date.now());
    }
    expect(await consumed()).toBe(before);
    const list = (await (await api('/api/v2/externalOAuth/authorizedProviders/', alice)).json()) as {
      data: { status: string }[];
    };
    expect(list.data[0].status).toBe('active');
    const ok = await acquire(authorizationId, 30);
    seen.push(ok.accessToken);
  });

  it('reports a provider that refuses the token at userinfo as that, not as an unavailable backing service', async () => {
    await hooks('revoke-grants', {}); // the user revoked the app at the provider: its tokens are refused from now on
    const res = await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/userinfo/`, alice);
    const body = (await res.json()) as { message: string; errorFields: unknown[] };
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(body.message).toMatch(/provider (refused|no longer accepts)/i);
    expect(body.message).not.toMatch(/backing service/i);
  });

  it('marks the authorization expired on invalid_grant (no loop), answers 410 on REST, and tells listeners', async () => {
    await hooks('revoke-grants', {});
    await letTokenAge();
    await expect(acquire(authorizationId, 30)).rejects.toMatchObject({ code: 'GONE' });
    const before = (await hooks('events'))['token_requests.refresh_token'] ?? 0;
    await expect(acquire(authorizationId, 30)).rejects.toMatchObject({ code: 'GONE' });
    expect((await hooks('events'))['token_requests.refresh_token'] ?? 0).toBe(before); // dead stays dead: no second call
    const rest = await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, alice, {
      method: 'POST',
    });
    expect(rest.status).toBe(410);
    expect(await rest.json()).toEqual({
      message: expect.any(String),
      errorFields: [{ name: 'status', message: 'expired' }],
    });
    await sleep(100);
    expect(
      events.some(
        (e) =>
          e.type === 'authorization.expired' &&
          e.authorizationId === authorizationId &&
          e.status === 'expired',
      ),
    ).toBe(true);
  });

  it('refuses a replayed, foreign or mismatched state and stores nothing', async () => {
    const start = await api(`/api/v2/externalOAuth/providers/${providerId}/authorize/`, alice, {
      method: 'POST',
    });
    const { redirectUrl } = (await start.json()) as { redirectUrl: string };
    const back = await signInAtProvider(redirectUrl, 'alice@example.test');
    const body = { code: back.searchParams.get('code'), state: back.searchParams.get('state'), providerId };
    seen.push(body.code ?? '');
    const foreign = await api('/api/v2/externalOAuth/providers/callback/', admin, { method: 'POST', body });
    expect(foreign.status).toBe(400);
    // The foreign attempt consumed the state: the rightful user cannot replay it either.
    const replay = await api('/api/v2/externalOAuth/providers/callback/', alice, { method: 'POST', body });
    expect(replay.status).toBe(400);
    const wrongIss = await api('/api/v2/externalOAuth/providers/callback/', alice, {
      method: 'POST',
      body: { ...body, iss: 'https://evil.example' },
    });
    expect(wrongIss.status).toBe(400);
  });

  it('completes the flow through the browser callback (303, no-referrer) and unlinks with revocation', async () => {
    const start = await api(
      `/api/v2/externalOAuth/providers/${providerId}/authorize/?state=my-app-state`,
      alice,
      { method: 'POST' },
    );
    const { redirectUrl } = (await start.json()) as { redirectUrl: string };
    const browser = new Map<string, Map<string, string>>();
    const back = await signInAtProvider(redirectUrl, 'alice@example.test', browser);
    seen.push(back.searchParams.get('code') ?? '');
    // The browser that confirmed the consent on the broker's start page brings its cookie back.
    const cookies = [...(browser.get(new URL(base).origin) ?? new Map<string, string>())]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
    const res = await fetch(back, { redirect: 'manual', headers: { cookie: cookies } });
    expect(res.status).toBe(303);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const done = new URL(res.headers.get('location') ?? '');
    expect(Object.fromEntries(done.searchParams)).toMatchObject({
      status: 'connected',
      state: 'my-app-state',
      providerId,
    });
    const id = done.searchParams.get('authorizedProviderId') ?? '';
    const token = await acquire(id, 5);
    seen.push(token.accessToken);
    // Every replica now holds the token in memory; the unlink (handled by one of them) must reach all.
    await Promise.all(Array.from({ length: 9 }, () => acquire(id, 5)));
    const unlink = await api(`/api/v2/externalOAuth/authorizedProviders/${id}/`, alice, { method: 'DELETE' });
    expect(unlink.status).toBe(204);
    await sleep(100);
    const after = await Promise.all(
      Array.from({ length: 9 }, () =>
        acquire(id, 5).then(
          () => 'served',
          (e: { code?: string }) => e.code,
        ),
      ),
    );
    expect(after).toEqual(Array(9).fill('NOT_FOUND'));
    await sleep(100);
    expect(events.some((e) => e.type === 'authorization.revoked' && e.authorizationId === id)).toBe(true);
  });

  it('a provider answer delayed past the lease: the holder keeps its lease, exactly one refresh, no reuse, grant intact', async () => {
    const id = await connect(alice, 'alice@example.test');
    await letTokenAge();
    await hooks('reset', {});
    await hooks('faults', { tokenDelayMs: 25_000 });
    // One caller starts the refresh; others on every replica keep asking while the answer is late.
    const t0 = Date.now();
    const first = acquire(id, 30).catch((e: unknown) => e);
    await sleep(1_000);
    const during = await Promise.all(
      Array.from({ length: 6 }, () => acquire(id, 30).catch((e: { code?: string }) => e.code)),
    );
    expect(during.every((r) => r === 'UNAVAILABLE' || r === 'TIMEOUT' || typeof r === 'object')).toBe(true);
    await first;
    await hooks('faults', { tokenDelayMs: 0 });
    await sleep(Math.max(0, t0 + 27_000 - Date.now())); // the holder writes once the late answer arrives
    const after = await acquire(id, 5);
    seen.push(after.accessToken);
    const counted = await hooks('events');
    expect(counted['token_requests.refresh_token']).toBe(1);
    expect(counted['refresh_token.consumed']).toBe(1);
    expect(counted['grant.revoked'] ?? 0).toBe(0);
    expect(new Date(after.expiresAt ?? 0).getTime()).toBeGreaterThan(Date.now());
  }, 90_000);

  it('an answer lost after rotation ends as expired with an audit record: no invalid_grant loop, no expired token served', async () => {
    const id = await connect(alice, 'alice@example.test');
    await letTokenAge();
    await hooks('reset', {});
    await hooks('faults', { dropAfterRotation: 1 });
    const lost = await acquire(id, 30).catch((e: { code?: string }) => e);
    const afterDrop = await hooks('events');
    expect({ consumed: afterDrop['refresh_token.consumed'], dropped: afterDrop['faults.dropped'] }).toEqual({
      consumed: 1,
      dropped: 1,
    });
    // Either refused (try again) or the still-valid old token: never an expired one.
    if ('accessToken' in (lost as object))
      expect(new Date((lost as AcquiredToken).expiresAt ?? 0).getTime()).toBeGreaterThan(Date.now());
    else expect(lost).toMatchObject({ code: 'UNAVAILABLE' });
    await expect(acquire(id, 30)).rejects.toMatchObject({ code: 'GONE' });
    const calls = (await hooks('events'))['token_requests.refresh_token'];
    await expect(acquire(id, 30)).rejects.toMatchObject({ code: 'GONE' });
    expect((await hooks('events'))['token_requests.refresh_token']).toBe(calls);
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-audit'),
    ).initialize();
    try {
      const audit = (await ds.query(
        `SELECT type FROM tokens.audit_events WHERE authorization_id = $1 ORDER BY id`,
        [id],
      )) as { type: string }[];
      expect(audit.map((a) => a.type)).toEqual(expect.arrayContaining(['refresh.failed', 'status.expired']));
    } finally {
      await ds.destroy();
    }
  });

  it('a replica killed between the provider’s answer and its database write: the authorization ends expired with an audit record, no loop, no expired token served', async () => {
    const id = await connect(alice, 'alice@example.test');
    const auditBefore = await auditTypes(id);
    await letTokenAge();
    await hooks('reset', {});
    // Armed through Redis (apps/token-broker/src/test-faults.ts): the first replica to get a refresh answer dies (SIGKILL) before writing it.
    const redis = createRedisConnection(env['REDIS_URL'], 'e2e-faults', {});
    await redis.set(`${env['BUS_PREFIX']}:test-faults:exit-after-provider-answer`, '1', 'EX', 60);
    await redis.quit();
    const lost = await bus
      .request(
        'tokens.acquire',
        { authorizationId: id, minValiditySeconds: 30 },
        { auth: admin, timeoutMs: 4_000 },
      )
      .catch((e: { code?: string }) => e);
    expect(lost).toMatchObject({ code: 'TIMEOUT' }); // the replica died holding the request
    const dead = brokers.findIndex((b) => !b.running);
    expect(dead).toBeGreaterThanOrEqual(0);
    expect(brokers[dead].signal).toBe('SIGKILL');
    // The provider rotated the refresh token; the new one died with the replica.
    expect((await hooks('events'))['refresh_token.consumed']).toBe(1);
    brokers[dead] = new ServiceProcess('token-broker', await freePort(), env).start();
    await brokers[dead].ready();

    // The dead holder's lease runs out (20 s); then one replica refreshes with the refresh token it
    // has, the provider refuses it (and revokes the grant: reuse), and the authorization is expired.
    const until = Date.now() + 45_000;
    let outcome: unknown;
    while (Date.now() < until) {
      outcome = await acquire(id, 30).catch((e: { code?: string }) => e);
      if ('accessToken' in (outcome as object))
        expect(new Date((outcome as AcquiredToken).expiresAt ?? 0).getTime()).toBeGreaterThan(Date.now());
      else if ((outcome as { code?: string }).code === 'GONE') break;
      else expect(outcome).toMatchObject({ code: 'UNAVAILABLE' });
      await sleep(1_000);
    }
    expect(outcome).toMatchObject({ code: 'GONE' });
    const calls = (await hooks('events'))['token_requests.refresh_token'];
    expect(calls).toBe(2); // the lost answer, and the one refusal: no loop
    await expect(acquire(id, 30)).rejects.toMatchObject({ code: 'GONE' });
    expect(
      (await api(`/api/v2/externalOAuth/authorizedProviders/${id}/token/`, alice, { method: 'POST' })).status,
    ).toBe(410);
    expect((await hooks('events'))['token_requests.refresh_token']).toBe(calls);
    expect((await auditTypes(id)).slice(auditBefore.length)).toEqual(['refresh.abandoned', 'status.expired']);
  });

  it('refreshes ahead of expiry in the worker, so callers find a fresh token without waiting on the provider', async () => {
    const worker = new ServiceProcess('worker', await freePort(), env).start();
    others.push(worker);
    await worker.ready();
    await hooks('reset', {});
    const id = await connect(alice, 'alice@example.test');
    const first = await acquire(id, 5);
    seen.push(first.accessToken);
    // 20-second tokens: the worker refreshes about 10 s before expiry, with no caller asking.
    const deadline = Date.now() + 25_000;
    while ((await consumed()) < 1 && Date.now() < deadline) await sleep(250);
    expect(await consumed()).toBe(1);
    await sleep(200);
    expect(events.some((e) => e.type === 'authorization.refreshed' && e.authorizationId === id)).toBe(true);
    const after = await acquire(id, 10);
    seen.push(after.accessToken);
    expect(after.accessToken).not.toBe(first.accessToken);
    expect(await consumed()).toBe(1); // served from storage: the caller did not wait on the provider
  });

  it('heals its schedule: with the queue keys flushed and the worker restarted, a used token set is still refreshed ahead', async () => {
    const running = others.filter((s) => s.app === 'worker' && s.running);
    expect(running.length).toBeGreaterThan(0);
    await Promise.all(running.map((w) => w.kill()));
    // A Redis flush of the job queues: the sweep's scheduler and every queued job are gone.
    const redis = createRedisConnection(env['REDIS_URL'], 'e2e-flush', {});
    let removed = 0;
    try {
      for (let cursor = '0'; ; ) {
        const [next, keys] = await redis.scan(
          cursor,
          'MATCH',
          `${env['BUS_PREFIX']}:jobs:token-refresh:*`,
          'COUNT',
          1000,
        );
        if (keys.length) removed += await redis.del(...keys);
        cursor = next;
        if (cursor === '0') break;
      }
    } finally {
      await redis.quit();
    }
    expect(removed).toBeGreaterThan(0);
    const id = await connect(alice, 'alice@example.test');
    const written = Date.now();
    const used = await acquire(id, 5); // in use: its next token set is due ahead of expiry
    const worker = new ServiceProcess('worker', await freePort(), env).start();
    others.push(worker);
    await worker.ready();
    // 20-second tokens: refreshed about 10 s before expiry by the new worker, from PostgreSQL alone.
    const deadline = Date.now() + 25_000;
    const refreshed = () =>
      events.find(
        (e) => e.type === 'authorization.refreshed' && e.authorizationId === id && Date.parse(e.at) > written,
      );
    while (!refreshed() && Date.now() < deadline) await sleep(250);
    expect(refreshed()).toBeDefined();
    expect(Date.parse(refreshed()?.at ?? '') - written).toBeLessThan(20_000); // before the 20 s token expired
    const after = await acquire(id, 5);
    seen.push(used.accessToken, after.accessToken);
    expect(after.accessToken).not.toBe(used.accessToken);
  });

  it('serves internal services through the typed client, with a cache dropped at once by the broker’s events', async () => {
    const service = await grantedServiceClient(db.url, env, 'e2e-client', 'billing service', 'billing');
    let client: BrokerClient | undefined;
    try {
      client = await BrokerClient.connect({
        redisUrl: env['REDIS_URL'],
        ...consumerKeys(env),
        prefix: env['BUS_PREFIX'],
        credentials: {
          tokenUrl: `${base}/api/v1/oauth/token`,
          clientId: service.clientId,
          clientSecret: service.clientSecret,
        },
        defaultTimeoutMs: 10_000,
      });
      // A first call may refresh, and the broker's `refreshed` event drops what the client cached: let it settle.
      await client.acquire({ userId: 'alice', providerId, minValiditySeconds: 5 });
      await sleep(300);
      const first = await client.acquire({ userId: 'alice', providerId, minValiditySeconds: 5 });
      const requests = client.stats().busRequests;
      const second = await client.acquire({ userId: 'alice', providerId, minValiditySeconds: 5 });
      expect(second.accessToken).toBe(first.accessToken);
      expect(client.stats().busRequests).toBe(requests);
      expect(client.stats().cacheHits).toBeGreaterThanOrEqual(1);
      const unlink = await api(`/api/v2/externalOAuth/authorizedProviders/${first.authorizationId}/`, alice, {
        method: 'DELETE',
      });
      expect(unlink.status).toBe(204);
      await sleep(300);
      await expect(
        client.acquire({ userId: 'alice', providerId, minValiditySeconds: 5 }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(client.stats().busRequests).toBe(requests + 1);
    } finally {
      await client?.close();
    }
  });

  it('keeps every code and token out of the logs, the Redis keys and job data, and the database dump', async () => {
    const secrets = seen.filter((s) => s.length > 8);
    expect(secrets.length).toBeGreaterThan(5);
    const logs = [...brokers, ...others].map((s) => s.output.join('')).join('') + idp.output.join('');
    const dump = pgDump(db.url);
    expect(dump).toContain('tokens.credentials');
    const redis = await redisSnapshot(env['REDIS_URL'], env['BUS_PREFIX']);
    expect(redis).toContain('SWEEP_DUE_REFRESHES'); // the refresh queue's jobs are there (the schedule itself is in PostgreSQL): the scan is real
    for (const secret of [...secrets, PROVIDER_SECRET]) {
      expect(logs).not.toContain(secret);
      expect(dump).not.toContain(secret);
      expect(redis).not.toContain(secret);
    }
  });
});
