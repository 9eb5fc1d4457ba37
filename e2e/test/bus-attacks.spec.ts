import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import IORedis from 'ioredis';
import { Queue } from 'bullmq';
import { Client as PgClient } from 'pg';
import { BusClientProxy, BusRemoteError } from '@broker/bus';
import { sealReply } from '@broker/bus-protocol';
import { BrokerClient } from '@broker/broker-client';
import { BUS_PATTERN_OWNERS, BusPattern, QUEUE_NAMES, brokerEventsChannel } from '@broker/contracts';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createTestDatabase, signInAtDemoIdp, sleep, TestDatabase } from '@broker/testing';
import { Eavesdropper, RequestMonitor, until } from './bus-attack-support';
import { redisSnapshot } from './redis-snapshot';
import { DemoIdpProcess, ServiceProcess, busClientFor, consumerKeys, freePort } from './service-processes';
import {
  bearerApi,
  clientCredentialsToken,
  demoProviderSystemEnv,
  startProviderIdp,
  startSystemInto,
} from './system-setup';
import { WebhookReceiver } from './setups-system';
import {
  delegatedToken,
  grantedServiceClient,
  inviteUser,
  linkDemoAccount,
  registerDemoProvider,
} from './consent-setup';

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const PROVIDER_SECRET = randomBytes(24).toString('base64url');

/**
 * The bus attacked by someone who reaches Redis and holds nothing else (a plain ioredis client,
 * default user, no key, no token): they watch requests (MONITOR), compete for them (BLPOP), push
 * copies redirected to their own channel, replay them byte for byte, answer for the services, publish
 * events and add jobs to every queue. Every attack must fail while legitimate callers are served.
 */
describe('the bus as a trust boundary, attacked from Redis', () => {
  let db: TestDatabase;
  let idp: DemoIdpProcess;
  let env: Record<string, string>;
  let base: string;
  const services: ServiceProcess[] = [];
  let admin: string;
  let alice: string;
  let providerId: string;
  let authorizationId: string;
  let bus: BusClientProxy;
  let attacker: IORedis;
  let eventsHeard: IORedis;
  const events: string[] = [];
  let pg: PgClient;
  /** A webhook receiver of the org: a forged delivery job must never make the worker call it. */
  let receiver: WebhookReceiver;
  const secretsSeen: string[] = [ADMIN_SECRET, PROVIDER_SECRET];

  const api = bearerApi(() => base);
  const hooks = async (path: string) =>
    (await (await fetch(`${idp.issuer}/__test/${path}`)).json()) as Record<string, number>;
  const refreshesAtProvider = async () => (await hooks('events'))['refresh_token.consumed'] ?? 0;
  const acquire = (id = authorizationId) =>
    bus.request(
      'tokens.acquire',
      { authorizationId: id, minValiditySeconds: 5 },
      { auth: admin, timeoutMs: 10_000 },
    );
  const prefix = () => env['BUS_PREFIX'];

  beforeAll(async () => {
    db = await createTestDatabase('busattacks');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startProviderIdp(
      base,
      { clientId: 'broker-provider', secret: PROVIDER_SECRET },
      { DEMO_IDP_ACCESS_TOKEN_TTL: '3600', DEMO_IDP_TEST_HOOKS: '1' },
    );
    receiver = new WebhookReceiver(await freePort());
    await receiver.start();
    env = demoProviderSystemEnv(
      db.url,
      port,
      'busattacks',
      { adminSecret: ADMIN_SECRET, idp, morePorts: [receiver.port] },
      { BUS_TIMEOUT_MS: '10000' },
    );
    await startSystemInto(services, env, port);
    eventsHeard = new IORedis(env['REDIS_URL']);
    eventsHeard.on('message', (_c: string, m: string) => events.push(m));
    await eventsHeard.subscribe(brokerEventsChannel(prefix()));

    admin = await clientCredentialsToken(base, 'admin', ADMIN_SECRET);
    secretsSeen.push(admin);
    await inviteUser(db.url, 'e2e-attacks', 'alice', 'alice@example.test');
    alice = await delegatedToken(api, admin, 'alice');
    providerId = await registerDemoProvider(api, admin, {
      issuer: idp.issuer,
      clientSecret: PROVIDER_SECRET,
    });
    authorizationId = await linkDemoAccount(api, base, alice, providerId, 'alice@example.test', 's1');

    bus = busClientFor(env, 'legit');
    await bus.connect();
    const token = (await acquire()) as { accessToken: string };
    secretsSeen.push(token.accessToken);
    attacker = new IORedis(env['REDIS_URL']);
    pg = new PgClient({ connectionString: db.url });
    await pg.connect();
  }, 120_000);

  afterAll(async () => {
    attacker?.disconnect();
    eventsHeard?.disconnect();
    await pg?.end();
    await bus?.close();
    await Promise.all(services.map((s) => s.stop()));
    await idp?.stop();
    await receiver?.stop();
    await db?.drop();
  });

  it('copies of live requests redirected to the attacker’s channel (seen by MONITOR) open nowhere: 0 replies', async () => {
    const monitor = new RequestMonitor(env['REDIS_URL'], prefix());
    const ears = new Eavesdropper(env['REDIS_URL']);
    await ears.listen(`${prefix()}:bus:reply:attacker:*`);
    await monitor.start();
    monitor.onRequest((seen) => {
      if (seen.envelope.r?.includes(':bus:reply:attacker:')) return; // its own copies, seen again
      const copy = { ...seen.envelope, r: `${prefix()}:bus:reply:attacker:${randomUUID()}` };
      void attacker.rpush(seen.list, JSON.stringify(copy));
    });
    try {
      for (let i = 0; i < 5; i++) {
        await acquire();
        expect((await api('/api/v2/externalOAuth/providers/', admin)).status).toBe(200);
        expect(
          (
            await api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, alice, {
              method: 'POST',
            })
          ).status,
        ).toBe(201);
      }
      await sleep(500);
      expect(monitor.seen.length).toBeGreaterThanOrEqual(15); // the attacker really saw the traffic
      expect(ears.heard).toEqual([]);
      // What it saw: routing facts and ciphertext only, no token, secret or code.
      for (const seen of monitor.seen) {
        expect(Object.keys(JSON.parse(seen.raw) as object).sort()).toEqual(
          expect.arrayContaining(['d', 'e', 'i', 'k', 'p', 's', 'v']),
        );
        expect(
          Object.keys(JSON.parse(seen.raw) as object).every((k) =>
            ['v', 'i', 'p', 'd', 'r', 'k', 'e', 's'].includes(k),
          ),
        ).toBe(true);
        for (const secret of secretsSeen) expect(seen.raw).not.toContain(secret);
      }
    } finally {
      monitor.stop();
      ears.close();
    }
  });

  it('an attacker competing on BLPOP, pushing each original back plus a redirected copy, gets nothing and callers are still served', async () => {
    const ears = new Eavesdropper(env['REDIS_URL']);
    await ears.listen(`${prefix()}:bus:reply:attacker:*`);
    const thief = new IORedis(env['REDIS_URL']);
    let stolen = 0;
    let stop = false;
    const lists = [`${prefix()}:bus:req:token-broker`, `${prefix()}:bus:req:provider-registry`];
    const loop = (async () => {
      while (!stop) {
        const popped = await thief.blpop(...lists, 0.2);
        if (!popped) continue;
        stolen++;
        const envelope = JSON.parse(popped[1]) as Record<string, unknown>;
        await attacker.lpush(popped[0], popped[1]);
        await attacker.rpush(
          popped[0],
          JSON.stringify({ ...envelope, r: `${prefix()}:bus:reply:attacker:x` }),
        );
      }
    })();
    try {
      for (let i = 0; i < 20; i++) {
        const token = (await acquire()) as { authorizationId: string };
        expect(token.authorizationId).toBe(authorizationId);
      }
      expect((await api('/api/v2/externalOAuth/providers/', admin)).status).toBe(200);
    } finally {
      stop = true;
      await loop;
      thief.disconnect();
    }
    await sleep(300);
    expect(stolen).toBeGreaterThan(0);
    expect(ears.heard).toEqual([]);
    ears.close();
  });

  it('a request replayed byte for byte is acted on once: jobs.create pushed 3 more times creates 1 job', async () => {
    const monitor = new RequestMonitor(env['REDIS_URL'], prefix());
    await monitor.start();
    const countStats = async () =>
      Number((await pg.query(`SELECT count(*)::int AS n FROM registry.jobs WHERE type = 'STATS'`)).rows[0].n);
    const before = await countStats();
    try {
      const res = await api('/api/v2/externalOAuth/jobs/', admin, {
        method: 'POST',
        body: { type: 'STATS' },
      });
      expect(res.status).toBe(202);
      await until(
        () => monitor.seen.some((s) => s.envelope.p === 'jobs.create'),
        3_000,
        'the captured request',
      );
    } finally {
      monitor.stop();
    }
    const captured = monitor.seen.find((s) => s.envelope.p === 'jobs.create');
    if (!captured) throw new Error('not captured');
    for (let i = 0; i < 3; i++) await attacker.rpush(captured.list, captured.raw);
    await sleep(1_000);
    expect(await countStats()).toBe(before + 1);
    expect(await attacker.llen(captured.list)).toBe(0); // taken and dropped, not left waiting
  });

  it('forged replies to every pattern are ignored: each call gets the service’s own answer', async () => {
    const monitor = new RequestMonitor(env['REDIS_URL'], prefix());
    let forged = 0;
    monitor.onRequest((seen) => {
      // The test's own calls (the services' calls to each other, which some handlers make, are
      // answered on their own channels and counted by their own clients, not this one).
      if (!seen.envelope.r?.startsWith(`${prefix()}:bus:reply:legit:`)) return;
      // What an attacker can make: a reply sealed under a key of its own, and the old unsealed shape.
      const fake = sealReply(randomBytes(32), seen.envelope.i, {
        ok: true,
        data: { forged: true, keys: [{ kty: 'EC' }] },
      });
      forged += 2;
      void attacker.publish(seen.envelope.r, JSON.stringify({ i: seen.envelope.i, s: fake }));
      void attacker.publish(
        seen.envelope.r,
        JSON.stringify({ i: seen.envelope.i, ok: true, data: { forged: true } }),
      );
    });
    await monitor.start();
    const before = bus.stats();
    try {
      for (const pattern of Object.keys(BUS_PATTERN_OWNERS) as BusPattern[]) {
        const outcome = await bus.request(pattern, {} as never, { auth: admin, timeoutMs: 10_000 }).then(
          (data) => ({ data }),
          (err: unknown) => ({ err }),
        );
        // Whatever the service answered (most of these payloads are incomplete), it was not the forgery.
        expect(JSON.stringify(outcome)).not.toContain('forged');
        if ('err' in outcome) expect(outcome.err).toBeInstanceOf(BusRemoteError);
      }
    } finally {
      monitor.stop();
    }
    const after = bus.stats();
    expect(forged).toBeGreaterThanOrEqual(2 * Object.keys(BUS_PATTERN_OWNERS).length);
    expect(after.replied - before.replied).toBe(Object.keys(BUS_PATTERN_OWNERS).length);
    // Each forgery was refused: while its call was pending (it did not open with the call's key), or
    // after the genuine answer had settled it (nothing was waiting for it any more).
    await until(
      () => bus.stats().rejected + bus.stats().unmatched - before.rejected - before.unmatched >= forged,
      3_000,
      'every forgery to arrive',
    );
    expect(bus.stats().rejected - before.rejected).toBeGreaterThan(0);
  });

  it('a forged identity.jwks answer plants no key: a token signed by the attacker stays refused', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const kid = `attacker-${randomUUID()}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const monitor = new RequestMonitor(env['REDIS_URL'], prefix());
    let forgedJwks = 0;
    monitor.onRequest((seen) => {
      if (seen.envelope.p !== 'identity.jwks' || !seen.envelope.r) return;
      forgedJwks++;
      void attacker.publish(
        seen.envelope.r,
        JSON.stringify({
          i: seen.envelope.i,
          s: sealReply(randomBytes(32), seen.envelope.i, { ok: true, data: { keys: [jwk] } }),
        }),
      );
    });
    await monitor.start();
    try {
      const forgedToken = await new SignJWT({
        scope: 'providers:read providers:write',
        org_id: 'default',
        client_id: 'admin',
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .setIssuer(env['PUBLIC_URL'])
        .setAudience(`${env['PUBLIC_URL']}/api`)
        .setSubject('admin')
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
      await sleep(5_500); // past the verifiers' refetch guard: an unknown kid makes them ask for the JWKS again
      expect((await api('/api/v2/externalOAuth/providers/', forgedToken)).status).toBe(401);
      const direct = await bus.request('providers.list', {}, { auth: forgedToken }).catch((e: unknown) => e);
      expect(direct).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(forgedJwks).toBeGreaterThan(0); // the services did ask, and the attacker did answer
      // And nothing stuck: the genuine admin token still works.
      expect((await api('/api/v2/externalOAuth/providers/', admin)).status).toBe(200);
    } finally {
      monitor.stop();
    }
  });

  it('a forged providers.credentials answer is not used: the provider calls go to the real provider', async () => {
    const hits: string[] = [];
    const fake = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('{}');
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const evil = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const monitor = new RequestMonitor(env['REDIS_URL'], prefix());
    let forged = 0;
    monitor.onRequest((seen) => {
      if (seen.envelope.p !== 'providers.credentials' || !seen.envelope.r) return;
      forged++;
      const data = {
        provider: { id: providerId, status: 'active', type: 'oauth2' },
        resolved: { authorizationUrl: `${evil}/auth`, tokenUrl: `${evil}/token` },
        clientSecret: 'x',
        version: 99,
      };
      void attacker.publish(
        seen.envelope.r,
        JSON.stringify({
          i: seen.envelope.i,
          s: sealReply(randomBytes(32), seen.envelope.i, { ok: true, data }),
        }),
      );
    });
    await monitor.start();
    try {
      // Authorize (and the consent start page the browser confirms) reads the provider's
      // credentials afresh over the bus; the browser is sent on to the real provider, not the fake.
      const start = await api(`/api/v2/externalOAuth/providers/${providerId}/authorize/`, alice, {
        method: 'POST',
      });
      expect(start.status).toBe(200);
      const { redirectUrl } = (await start.json()) as { redirectUrl: string };
      const atProvider = await signInAtDemoIdp(redirectUrl, 'alice@example.com', (u) =>
        [idp.issuer, evil].includes(new URL(u).origin),
      );
      expect(atProvider.origin).toBe(idp.issuer);
      expect(forged).toBeGreaterThan(0);
      expect(hits).toEqual([]);
    } finally {
      monitor.stop();
      fake.close();
    }
  });

  it('a forged event is ignored by the token-broker and by broker clients', async () => {
    const svc = await grantedServiceClient(db.url, env, 'e2e-attacks-client', 'consumer a', 'consumer a');
    const client = await BrokerClient.connect({
      redisUrl: env['REDIS_URL'],
      ...consumerKeys(env),
      prefix: prefix(),
      credentials: {
        tokenUrl: `${base}/api/v1/oauth/token`,
        clientId: svc.clientId,
        clientSecret: svc.clientSecret,
      },
      name: 'consumer-a',
      logger: { warn: () => undefined },
    });
    try {
      await client.acquire({ authorizationId, minValiditySeconds: 5 });
      await sleep(300);
      await client.acquire({ authorizationId, minValiditySeconds: 5 });
      const before = client.stats();
      const event = {
        type: 'authorization.revoked',
        orgId: 'default',
        authorizationId,
        providerId,
        userId: 'alice',
        status: 'expired',
        at: new Date().toISOString(),
      };
      await attacker.publish(brokerEventsChannel(prefix()), JSON.stringify(event));
      await attacker.publish(
        brokerEventsChannel(prefix()),
        JSON.stringify({ v: 1, k: 'e1', e: JSON.stringify(event), s: 'A'.repeat(86) }),
      );
      await until(
        () => client.stats().eventsRejected >= before.eventsRejected + 2,
        3_000,
        'the forged events to arrive',
      );
      await client.acquire({ authorizationId, minValiditySeconds: 5 });
      const after = client.stats();
      expect(after.eventsReceived).toBe(before.eventsReceived);
      expect(after.busRequests).toBe(before.busRequests); // still served from its cache: nothing was invalidated
      await until(
        () =>
          (services.find((s) => s.app === 'token-broker')?.output.join('') ?? '').includes(
            'not a genuine broker event',
          ),
        3_000,
        'the token-broker to report the forged event',
      );
    } finally {
      await client.close();
    }
  });

  it('a job forged into every queue does nothing', async () => {
    const stats = await api('/api/v2/externalOAuth/jobs/', admin, {
      method: 'POST',
      body: { type: 'STATS' },
    });
    const statsJobId =
      ((await stats.json()) as { location: string }).location.split('/').filter(Boolean).pop() ?? '';
    await until(
      async () =>
        ((await (await api(`/api/v2/externalOAuth/jobs/${statsJobId}/`, admin)).json()) as { status: string })
          .status === 'COMPLETED',
      15_000,
      'the STATS job',
    );
    const finishedAt = (
      (await (await api(`/api/v2/externalOAuth/jobs/${statsJobId}/`, admin)).json()) as { finishedAt: string }
    ).finishedAt;
    // An open job record of another kind (a request in flight, as an attacker could find one): a
    // forged job naming it must not borrow it to act.
    const openJobId = (
      await pg.query(
        `INSERT INTO registry.jobs (org_id, type, status) VALUES ('default', 'STATS', 'PENDING') RETURNING id`,
      )
    ).rows[0].id as string;
    const jobsBefore = Number((await pg.query(`SELECT count(*)::int AS n FROM registry.jobs`)).rows[0].n);
    const refreshesBefore = await refreshesAtProvider();
    // A webhook endpoint with a delivery recorded but not due for an hour (as a retry waits): a
    // forged job naming it must not make the worker call the receiver early, nor one of another org.
    const endpoint = await api('/api/v2/webhook-endpoints', admin, {
      method: 'POST',
      body: { url: receiver.url, event_types: ['authorization.revoked'] },
    });
    expect(endpoint.status).toBe(201);
    const endpointId = ((await endpoint.json()) as { id: string }).id;
    const deliveryId = (
      await pg.query(
        `INSERT INTO registry.webhook_deliveries (org_id, endpoint_id, event_type, event_key, payload, next_attempt_at)
         VALUES ('default', $1, 'authorization.revoked', 'forged-test', $2::jsonb, now() + interval '1 hour') RETURNING id`,
        [
          endpointId,
          JSON.stringify({
            type: 'authorization.revoked',
            timestamp: new Date().toISOString(),
            data: { authorization_id: authorizationId },
          }),
        ],
      )
    ).rows[0].id as string;
    const forged: Record<string, [string, Record<string, unknown>][]> = {
      'provider-deletion': [
        ['DELETE_PROVIDER', { orgId: 'default', providerId, jobId: randomUUID() }],
        ['DELETE_PROVIDER', { orgId: 'default', providerId, jobId: statsJobId }],
        ['DELETE_PROVIDER', { orgId: 'default', providerId, jobId: openJobId }],
      ],
      stats: [
        ['STATS', { orgId: 'default', jobId: randomUUID() }],
        ['STATS', { orgId: 'default', jobId: statsJobId }],
        ['STATS', { orgId: 'other-org', jobId: openJobId }],
      ],
      'key-rotation': [
        ['ROTATE_KEYS', { jobId: randomUUID() }],
        ['ROTATE_KEYS', { jobId: openJobId }],
      ],
      'token-refresh': [['REFRESH_AUTHORIZATION', { orgId: 'default', authorizationId }]],
      'device-poll': [
        ['POLL_DEVICE_AUTHORIZATION', { orgId: 'default', deviceAuthorizationId: randomUUID() }],
      ],
      'webhook-delivery': [
        ['DELIVER_WEBHOOK', { orgId: 'default', deliveryId }],
        ['DELIVER_WEBHOOK', { orgId: 'other-org', deliveryId }],
        ['DELIVER_WEBHOOK', { orgId: 'default', deliveryId: randomUUID() }],
        [
          'DELIVER_WEBHOOK',
          { orgId: 'default', deliveryId, url: `http://127.0.0.1:${receiver.port}/elsewhere` },
        ],
      ],
      // The sweep acts on PostgreSQL only (expiry times it recorded); data it does not take is refused.
      'setup-expiry': [
        ['SWEEP_SETUPS', { orgId: 'default', setupId: randomUUID() }],
        ['SWEEP_SETUPS', {}],
      ],
    };
    expect(Object.keys(forged).sort()).toEqual([...QUEUE_NAMES].sort());
    const added: { queue: Queue; id: string }[] = [];
    for (const [name, jobs] of Object.entries(forged)) {
      const queue = new Queue(name, {
        connection: new IORedis(env['REDIS_URL'], { maxRetriesPerRequest: null }),
        prefix: `${prefix()}:jobs`,
      });
      for (const [jobName, data] of jobs)
        added.push({
          queue,
          id: (await queue.add(jobName, data, { jobId: `forged-${randomUUID()}` })).id ?? '',
        });
    }
    // The worker takes them: wait until they left the queues.
    await until(
      async () => {
        for (const { queue, id } of added) {
          const state = await (await queue.getJob(id))?.getState();
          if (state !== 'completed' && state !== 'failed') return false;
        }
        return true;
      },
      20_000,
      'the worker to take the forged jobs',
    );
    const provider = await api(`/api/v2/externalOAuth/providers/${providerId}/`, admin);
    expect(provider.status).toBe(200);
    expect(((await provider.json()) as { status: string }).status).toBe('active');
    expect(
      (
        (await (await api('/api/v2/externalOAuth/authorizedProviders/', alice)).json()) as {
          data: { id: string; status: string }[];
        }
      ).data,
    ).toEqual([expect.objectContaining({ id: authorizationId, status: 'active' })]);
    expect(Number((await pg.query(`SELECT count(*)::int AS n FROM registry.jobs`)).rows[0].n)).toBe(
      jobsBefore,
    );
    expect(
      (
        (await (await api(`/api/v2/externalOAuth/jobs/${statsJobId}/`, admin)).json()) as {
          finishedAt: string;
        }
      ).finishedAt,
    ).toBe(finishedAt);
    expect(await refreshesAtProvider()).toBe(refreshesBefore);
    expect(
      (await pg.query(`SELECT status, started_at FROM registry.jobs WHERE id = $1`, [openJobId])).rows[0],
    ).toEqual({ status: 'PENDING', started_at: null });
    expect(receiver.attempts).toBe(0);
    expect(
      (await pg.query(`SELECT status, attempts FROM registry.webhook_deliveries WHERE id = $1`, [deliveryId]))
        .rows[0],
    ).toEqual({ status: 'pending', attempts: 0 });
    await pg.query(`DELETE FROM registry.jobs WHERE id = $1`, [openJobId]);
    await api(`/api/v2/webhook-endpoints/${endpointId}`, admin, { method: 'DELETE' });
    for (const { queue } of added) await queue.close();
  });

  it('serves a token by user + provider over REST too (for services that are not Node), with the bus’s rules', async () => {
    const byUser = await api('/api/v2/externalOAuth/tokens/', admin, {
      method: 'POST',
      body: { userId: 'alice', providerId, minValiditySeconds: 5 },
    });
    expect(byUser.status).toBe(200);
    const token = (await byUser.json()) as { accessToken: string; authorizationId: string };
    expect(token.authorizationId).toBe(authorizationId);
    expect(token.accessToken).toBe(((await acquire()) as { accessToken: string }).accessToken);
    const byId = await api('/api/v2/externalOAuth/tokens/', alice, {
      method: 'POST',
      body: { authorizationId },
    });
    expect(byId.status).toBe(200);
    // A user may ask only for their own; a bad body is a 422 naming what is wrong.
    expect(
      (
        await api('/api/v2/externalOAuth/tokens/', alice, {
          method: 'POST',
          body: { userId: 'bob', providerId },
        })
      ).status,
    ).toBe(404);
    const bad = await api('/api/v2/externalOAuth/tokens/', admin, {
      method: 'POST',
      body: { userId: 'alice' },
    });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ errorFields: [{ name: 'body' }] });
  });

  it('leaves no token, secret or code in Redis keys, values, job data or events', async () => {
    const snapshot = await redisSnapshot(env['REDIS_URL'], prefix());
    expect(snapshot).toContain(':bus:seen:'); // the scan is real: request-id markers are there
    for (const secret of secretsSeen) expect(snapshot).not.toContain(secret);
    // Events travel signed, ids and statuses only.
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) for (const secret of secretsSeen) expect(event).not.toContain(secret);
  });
});
