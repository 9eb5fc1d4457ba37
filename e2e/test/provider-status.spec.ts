import { randomBytes } from 'node:crypto';
import { BusClientProxy, BusRemoteError, createRedisConnection } from '@broker/bus';
import { BrokerClient, BrokerClientError } from '@broker/broker-client';
import type { AcquiredToken, BrokerEvent } from '@broker/contracts';
import { brokerEventsChannel } from '@broker/contracts';
import { UsersService } from '@broker/identity';
import { createTestDatabase, sleep, TestDatabase } from '@broker/testing';
import {
  DemoIdpProcess,
  ServiceProcess,
  busClientFor,
  consumerKeys,
  freePort,
  genuineEvent,
} from './service-processes';
import {
  bearerApi,
  clientCredentialsToken,
  demoProviderSystemEnv,
  startProviderIdp,
  startSystemInto,
} from './system-setup';
import {
  clientsService,
  delegatedToken,
  linkDemoAccount,
  registerDemoProvider,
  withIdentityDb,
} from './consent-setup';

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const PROVIDER_SECRET = randomBytes(24).toString('base64url');

/**
 * A provider marked `invalid` serves none of its stored tokens — REST token and userinfo (403 in
 * seed 000's shape), the bus (a typed FORBIDDEN), on every token-broker replica at once — and once
 * re-activated serves the same authorization again, without a new consent. A forged change notice
 * on Redis changes nothing.
 */
describe('provider status: disable, refuse everywhere, re-activate', () => {
  let db: TestDatabase;
  let idp: DemoIdpProcess;
  let base: string;
  let env: Record<string, string>;
  const services: ServiceProcess[] = [];
  let admin: string;
  let alice: string;
  let providerId: string;
  let authorizationId: string;
  let bus: BusClientProxy;
  let service: { clientId: string; clientSecret: string };

  const api = bearerApi(() => base);
  const hooks = async () =>
    (await (await fetch(`${idp.issuer}/__test/events`)).json()) as Record<string, number>;
  const acquire = (): Promise<AcquiredToken> =>
    bus.request(
      'tokens.acquire',
      { authorizationId, minValiditySeconds: 5 },
      { auth: admin, timeoutMs: 10_000 },
    );
  /** What the bus answers: the token, or the typed error's code and fields. */
  const busOutcome = () =>
    acquire().then(
      (t) => ({ served: t.accessToken }),
      (e: unknown) =>
        e instanceof BusRemoteError ? { code: e.code, fields: e.fields } : { error: String(e) },
    );
  const setStatus = async (status: 'active' | 'invalid') => {
    const res = await api(`/api/v2/externalOAuth/providers/${providerId}/`, admin, {
      method: 'PATCH',
      body: { status },
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    db = await createTestDatabase('provstatus');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startProviderIdp(
      base,
      { clientId: 'broker-provider', secret: PROVIDER_SECRET },
      { DEMO_IDP_TEST_HOOKS: '1' },
    );
    env = demoProviderSystemEnv(db.url, port, 'provstatus', { adminSecret: ADMIN_SECRET, idp });
    // Two token-broker replicas: a status change must reach both, whichever serves the next call.
    await startSystemInto(services, env, port, 2);
    admin = await clientCredentialsToken(base, 'admin', ADMIN_SECRET);
    service = await withIdentityDb(db.url, 'e2e-provstatus', async (ds) => {
      await new UsersService(ds).upsert('default', { sub: 'alice', email: 'alice@example.test' });
      return clientsService(ds, env).createClient({
        orgId: 'default',
        name: 'billing service',
        grantTypes: ['client_credentials'],
        scopes: ['tokens:read'],
      });
    });
    alice = await delegatedToken(api, admin, 'alice');
    providerId = await registerDemoProvider(api, admin, {
      issuer: idp.issuer,
      clientSecret: PROVIDER_SECRET,
    });
    bus = busClientFor(env);
    await bus.connect();
    authorizationId = await linkDemoAccount(api, base, alice, providerId, 'alice@example.test');
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    await Promise.all(services.map((s) => s.stop()));
    await idp?.stop();
    await db?.drop();
  });

  it('refuses the provider’s tokens with 403 on REST and FORBIDDEN on the bus, and serves them again once re-activated, without a new consent', async () => {
    const rest = await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, alice, {
      method: 'POST',
    });
    expect(rest.status).toBe(201);
    const before = ((await rest.json()) as { accessToken: string }).accessToken;
    // Every replica serves it (and caches the provider) before the change.
    const warm = await Promise.all(Array.from({ length: 10 }, () => busOutcome()));
    expect(warm).toEqual(Array(10).fill({ served: before }));
    const consents = (await hooks())['grant.success'];

    await setStatus('invalid');
    const refused = await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, alice, {
      method: 'POST',
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      message: expect.stringMatching(/marked invalid/),
      errorFields: [{ name: 'providerStatus', message: 'invalid' }],
    });
    const userinfo = await api(
      `/api/v2/externalOAuth/authorizedProviders/${authorizationId}/userinfo/`,
      alice,
    );
    expect(userinfo.status).toBe(403);
    const onBus = await Promise.all(Array.from({ length: 10 }, () => busOutcome()));
    expect(onBus).toEqual(
      Array(10).fill({ code: 'FORBIDDEN', fields: [{ name: 'providerStatus', message: 'invalid' }] }),
    );
    // The typed client says the same (a fresh client: nothing of the provider cached yet).
    const client = await BrokerClient.connect({
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
    try {
      const typed = await client
        .acquire({ userId: 'alice', providerId, minValiditySeconds: 5 })
        .catch((e: unknown) => e);
      expect(typed).toBeInstanceOf(BrokerClientError);
      expect(typed).toMatchObject({ code: 'FORBIDDEN', busCode: 'FORBIDDEN', retryable: false });
    } finally {
      await client.close();
    }
    // Listed as blocked by its provider; the link shows it too.
    const listed = (await (await api('/api/v2/externalOAuth/authorizedProviders/', alice)).json()) as {
      data: { id: string; status: string }[];
    };
    expect(listed.data).toEqual([
      expect.objectContaining({ id: authorizationId, status: 'invalidProviderState' }),
    ]);
    const links = (await (await api('/api/v2/external-auth', alice)).json()) as {
      links: { authenticated: boolean }[];
    };
    expect(links.links).toEqual([expect.objectContaining({ authenticated: false })]);

    await setStatus('active');
    const again = await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, alice, {
      method: 'POST',
    });
    expect(again.status).toBe(201);
    expect(((await again.json()) as { accessToken: string }).accessToken).toBe(before);
    expect(await Promise.all(Array.from({ length: 10 }, () => busOutcome()))).toEqual(
      Array(10).fill({ served: before }),
    );
    const relisted = (await (await api('/api/v2/externalOAuth/authorizedProviders/', alice)).json()) as {
      data: { status: string }[];
    };
    expect(relisted.data[0].status).toBe('active');
    expect((await hooks())['grant.success']).toBe(consents); // no new consent at the provider
  });

  it('a change notice forged on Redis does not bring back a disabled provider’s tokens', async () => {
    await setStatus('invalid');
    expect(await busOutcome()).toMatchObject({ code: 'FORBIDDEN' });
    // Someone with Redis access announces a change (even with a made-up status): unsigned, it is
    // ignored by every replica (and had it been acted on, the provider read again is still invalid).
    const redis = createRedisConnection(env['REDIS_URL'], 'e2e-forger', {});
    try {
      for (let i = 0; i < 5; i++) {
        await redis.publish(
          brokerEventsChannel(env['BUS_PREFIX']),
          JSON.stringify({
            type: 'provider.changed',
            orgId: 'default',
            providerId,
            status: 'active',
            at: new Date().toISOString(),
          }),
        );
        await sleep(20);
      }
    } finally {
      await redis.quit();
    }
    expect(await Promise.all(Array.from({ length: 6 }, () => busOutcome()))).toEqual(
      Array(6).fill(expect.objectContaining({ code: 'FORBIDDEN' })),
    );
    // Every replica says it ignored them (its log is written out every 250 ms: wait for it).
    const ignored =
      /ignored a message on the events channel that is not a genuine broker event \(malformed\)/;
    const brokers = services.filter((s) => s.app === 'token-broker');
    const logDeadline = Date.now() + 10_000;
    while (brokers.some((s) => !ignored.test(s.output.join(''))) && Date.now() < logDeadline)
      await sleep(100);
    for (const broker of brokers) expect(broker.output.join('')).toMatch(ignored);
    const rest = await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, alice, {
      method: 'POST',
    });
    expect(rest.status).toBe(403);
    await setStatus('active');
    expect(await busOutcome()).toMatchObject({ served: expect.any(String) });
  });

  it('a provider being deleted serves nothing either, and its job removes the authorization and announces it', async () => {
    // The deletion job announces each authorization it removes (signed, by the worker): every
    // replica forgets it at once instead of serving what it remembers.
    const events: BrokerEvent[] = [];
    const subscriber = createRedisConnection(env['REDIS_URL'], 'e2e-deletion-events', {});
    subscriber.on('message', (_c: string, m: string) => {
      const event = genuineEvent(env, m);
      if (event) events.push(event);
    });
    await subscriber.subscribe(brokerEventsChannel(env['BUS_PREFIX']));
    try {
      const res = await api(`/api/v2/externalOAuth/providers/${providerId}/`, admin, { method: 'DELETE' });
      expect(res.status).toBe(202);
      const outcome = await busOutcome();
      // Blocked while deleting, gone once the job removed it.
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain((outcome as { code?: string }).code);
      const deadline = Date.now() + 20_000;
      while (
        !events.some((e) => e.type === 'authorization.revoked' && e.authorizationId === authorizationId) &&
        Date.now() < deadline
      )
        await sleep(100);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'authorization.revoked',
          orgId: 'default',
          authorizationId,
          providerId,
          userId: 'alice',
        }),
      );
      // Every replica, every time (no replica still answering from its memory).
      expect(await Promise.all(Array.from({ length: 10 }, () => busOutcome()))).toEqual(
        Array(10).fill(expect.objectContaining({ code: 'NOT_FOUND' })),
      );
    } finally {
      await subscriber.quit();
    }
  });
});
