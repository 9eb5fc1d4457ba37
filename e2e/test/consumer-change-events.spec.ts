import { generateKeyPairSync, randomUUID } from 'node:crypto';
import IORedis from 'ioredis';
import { type BusEvent, type ConsumerChangedEvent, brokerEventsChannel } from '@broker/contracts';
import { BrokerSystem } from './broker-system';
import { genuineBusEvent } from './service-processes';

type Served = { served: true; token: string } | { served: false; code?: string; rule?: string };

/**
 * Consumer change notices (issue 20): a consumer policy edited, a client or a user disabled,
 * enabled, deleted or revoked publishes a signed `consumer.changed` event naming ids only, so
 * whatever remembers a serve (each broker replica's copy of the grants, a gateway-side or client
 * cache) drops it. Attacked from a bare Redis client: unsigned, foreign-key and altered notices are
 * not genuine. Two token-broker replicas: a grant withdrawn on one is applied by both at once.
 */
describe('consumer change events: policies, clients and users changed are announced, signed, ids only', () => {
  const system = new BrokerSystem({ label: 'consumer-events', providerClient: true, brokers: 2 });
  let admin: string;
  let providerId: string;
  let linkId: string;
  let redis: IORedis;
  let subscriber: IORedis;
  /** Every message of the events channel, as published. */
  const raw: string[] = [];
  /** The genuine (signed) events among them. */
  const events: BusEvent[] = [];
  const served = new Set<string>();

  const notices = (): ConsumerChangedEvent[] =>
    events.filter((e): e is ConsumerChangedEvent => e.type === 'consumer.changed');
  /** Waits (bounded) for a genuine notice matching `want`, published after `from` notices were seen. */
  const notice = async (
    from: number,
    want: Partial<Record<string, string>>,
  ): Promise<ConsumerChangedEvent> => {
    let found: ConsumerChangedEvent | undefined;
    await BrokerSystem.within(5_000, async () => {
      found = notices()
        .slice(from)
        .find((e) => Object.entries(want).every(([k, v]) => (e as Record<string, unknown>)[k] === v));
      return found !== undefined;
    });
    return found as ConsumerChangedEvent;
  };
  const acquire = async (token: string): Promise<Served> => {
    try {
      const t = await system.bus.request('tokens.acquire', { authorizationId: linkId }, { auth: token });
      served.add(t.accessToken);
      return { served: true, token: t.accessToken };
    } catch (err) {
      const e = err as { code?: string; fields?: { name: string }[] };
      return { served: false, code: e.code, rule: e.fields?.find((f) => f.name.startsWith('policy.'))?.name };
    }
  };
  const grant = async (clientId: string): Promise<string> => {
    const res = await system.api(`/api/v1/oauth/admin/clients/${clientId}/token-grants`, admin, {
      method: 'POST',
      body: { providers: '*', subjects: { mode: 'org' } },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const consumer = () =>
    system.createClient({ orgId: 'default', grantTypes: ['client_credentials'], scopes: ['tokens:read'] });

  beforeAll(async () => {
    await system.start();
    admin = await system.adminToken();
    providerId = await system.registerDemoProvider(admin);
    await system.users.upsert('default', { sub: 'carol', email: 'carol@example.test' }, [
      'tokens:read',
      'authorizations:read',
    ]);
    const carol = await system.delegatedToken(admin, 'carol', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    linkId = await system.linkAccount(carol, providerId, 'carol@example.test');
    redis = new IORedis(system.env['REDIS_URL'], { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    subscriber = new IORedis(system.env['REDIS_URL'], { lazyConnect: true });
    await subscriber.connect();
    subscriber.on('message', (_c: string, m: string) => {
      raw.push(m);
      const event = genuineBusEvent(system.env, m);
      if (event) events.push(event);
    });
    await subscriber.subscribe(brokerEventsChannel(system.env['BUS_PREFIX']));
  });

  afterAll(async () => {
    await subscriber?.quit();
    await redis?.quit();
    await system.stop();
  });

  it('a grant made and withdrawn is announced (policy, org and client only), and both replicas refuse as soon as it is', async () => {
    const svc = await consumer();
    const from = notices().length;
    const grantId = await grant(svc.clientId);
    expect(await notice(from, { change: 'policy', clientId: svc.clientId })).toEqual({
      type: 'consumer.changed',
      change: 'policy',
      orgId: 'default',
      clientId: svc.clientId,
      at: expect.any(String),
    });
    const token = await system.clientToken(svc);
    // Served by whichever replica takes each request: both now hold a copy of the client's grants.
    for (let i = 0; i < 8; i++) expect(await acquire(token)).toMatchObject({ served: true });

    const before = notices().length;
    const gone = await system.api(`/api/v1/oauth/admin/token-grants/${grantId}`, admin, { method: 'DELETE' });
    expect(gone.status).toBe(204);
    await notice(before, { change: 'policy', clientId: svc.clientId });
    // The replica that did not withdraw the grant forgot its copy on the notice, well before its
    // copy's own lifetime (2 s) would have run out: every request is refused from here on.
    await BrokerSystem.within(1_000, async () => {
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => acquire(token)));
      return outcomes.every((o) => !o.served && o.rule === 'policy.grant');
    });
    const after = await Promise.all(Array.from({ length: 16 }, () => acquire(token)));
    expect(after.filter((o) => o.served)).toEqual([]);
  });

  it('a client disabled, enabled, deleted or revoked, and a user disabled or revoked, each publish a notice naming ids only', async () => {
    const svc = await consumer();
    const steps: [string, string, Partial<Record<string, string>>][] = [
      [
        'POST',
        `/api/v1/oauth/admin/clients/${svc.clientId}/disable`,
        { change: 'client', clientId: svc.clientId },
      ],
      [
        'POST',
        `/api/v1/oauth/admin/clients/${svc.clientId}/enable`,
        { change: 'client', clientId: svc.clientId },
      ],
      ['POST', '/api/v1/oauth/admin/users/carol/disable', { change: 'user', userId: 'carol' }],
      ['POST', '/api/v1/oauth/admin/users/carol/enable', { change: 'user', userId: 'carol' }],
      ['DELETE', `/api/v1/oauth/admin/clients/${svc.clientId}`, { change: 'client', clientId: svc.clientId }],
    ];
    for (const [method, path, want] of steps) {
      const from = notices().length;
      const res = await system.api(path, admin, { method });
      expect([200, 204]).toContain(res.status);
      const seen = await notice(from, want);
      expect(Object.keys(seen).sort()).toEqual(
        ['at', 'change', Object.keys(want)[1], 'orgId', 'type'].sort(),
      );
      expect(seen.orgId).toBe('default');
    }
    const from = notices().length;
    const revoked = await system.api('/api/v1/oauth/admin/revoke', admin, {
      method: 'POST',
      body: { sub: 'carol' },
    });
    expect(revoked.status).toBe(200);
    await notice(from, { change: 'user', userId: 'carol' });
  });

  it('a forged, unsigned or altered notice from a bare Redis client is not genuine, and changes no decision', async () => {
    const svc = await consumer();
    await grant(svc.clientId);
    const token = await system.clientToken(svc);
    expect(await acquire(token)).toMatchObject({ served: true });
    const channel = brokerEventsChannel(system.env['BUS_PREFIX']);
    const event = JSON.stringify({
      type: 'consumer.changed',
      change: 'policy',
      orgId: 'default',
      clientId: svc.clientId,
      at: new Date().toISOString(),
    });
    const genuine = raw.find((m) => genuineBusEvent(system.env, m)?.type === 'consumer.changed');
    if (!genuine) throw new Error('no genuine notice seen');
    const parsed = JSON.parse(genuine) as { v: 1; k: string; e: string; s: string };
    const { privateKey } = generateKeyPairSync('ed25519');
    const { sign } = await import('node:crypto');
    const foreign = sign(
      null,
      Buffer.from(`oauth-broker/events/1|${parsed.k}|${event}`, 'utf8'),
      privateKey,
    ).toString('base64url');
    const forgeries = [
      event, // unsigned
      JSON.stringify({ v: 1, k: parsed.k, e: event, s: foreign }), // signed with a key nobody trusts
      JSON.stringify({ ...parsed, e: parsed.e.replace(/"orgId":"[^"]*"/, `"orgId":"${randomUUID()}"`) }), // altered
      JSON.stringify({ ...parsed, e: event }), // a genuine signature over another event
    ];
    const start = raw.length;
    for (const f of forgeries) await redis.publish(channel, f);
    await BrokerSystem.within(5_000, async () => raw.length >= start + forgeries.length);
    for (const f of forgeries) expect(genuineBusEvent(system.env, f)).toBeUndefined();
    // The broker's replicas ignored them too: the consumer is served exactly as before.
    expect(await acquire(token)).toMatchObject({ served: true });
  });

  it('no provider token, client secret or broker token is in any event', async () => {
    expect(raw.length).toBeGreaterThan(0);
    const everything = raw.join('\n');
    expect(served.size).toBeGreaterThan(0);
    for (const token of served) expect(everything).not.toContain(token);
    expect(everything).not.toContain(admin);
    expect(everything).not.toContain(system.adminSecret);
    expect(everything).not.toContain(system.providerSecret);
  });
});
