import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { parseEventSigningKey, signEvent } from '@broker/bus-protocol';
import type { BrokerEvent } from '@broker/contracts';
import { signInAtDemoIdp } from '@broker/testing';
import { Webhook } from 'standardwebhooks';
import { freePort } from './service-processes';
import { ReceivedWebhook, SetupsSystem, WebhookReceiver } from './setups-system';

// The documented verification code (docs/webhooks.md): signature, timestamp tolerance, replay by webhook-id.
const { verifyDelivery } = require(join(__dirname, '..', '..', 'tools', 'webhooks', 'receiver.cjs')) as {
  verifyDelivery: (
    secret: string,
    seen: Set<string>,
    body: string,
    headers: Record<string, string>,
  ) => { ok: boolean; duplicate?: boolean; reason?: string; event?: unknown };
};

type Payload = { type: string; timestamp: string; data: Record<string, string | null> };
type Endpoint = { id: string; secret: string; status: string };
const payload = (r: ReceivedWebhook) => JSON.parse(r.body) as Payload;
const ofType = (rs: ReceivedWebhook[], type: string) => rs.filter((r) => payload(r).type === type);

/**
 * Signed webhooks against local receivers: every event type delivered once with a valid Standard
 * Webhooks signature and no secret in it; a receiver that is down gets the delivery once it is
 * back; tampered and replayed deliveries are caught by the documented verification code; an
 * endpoint that fails for the whole retry window is disabled, and the org hears of it.
 */
describe('signed webhooks', () => {
  let sys: SetupsSystem;
  let main: WebhookReceiver;
  let dead: WebhookReceiver;
  let endpoint: Endpoint;

  beforeAll(async () => {
    main = new WebhookReceiver(await freePort());
    dead = new WebhookReceiver(await freePort());
    await main.start();
    await dead.start();
    dead.failing = true;
    sys = new SetupsSystem(
      'webhooks',
      { WEBHOOK_RETRY_WINDOW_SECONDS: '12' },
      { DEMO_IDP_ACCESS_TOKEN_TTL: '20', DEMO_IDP_TEST_HOOKS: '1' },
      [main.port, dead.port],
    );
    await sys.start();
    const created = await sys.api('/api/v2/webhook-endpoints', sys.admin, {
      method: 'POST',
      body: { url: main.url, description: 'main' },
    });
    expect(created.status).toBe(201);
    endpoint = (await created.json()) as Endpoint;
  }, 120_000);

  afterAll(async () => {
    await sys?.stop();
    await main?.stop();
    await dead?.stop();
  });

  it('shows the secret once; refuses private and non-http targets (same egress guard as providers)', async () => {
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const read = (await (
      await sys.api(`/api/v2/webhook-endpoints/${endpoint.id}`, sys.admin)
    ).json()) as Record<string, unknown>;
    expect(read).toMatchObject({ id: endpoint.id, status: 'enabled', url: main.url });
    expect(JSON.stringify(read)).not.toContain(endpoint.secret.slice(6));
    const listed = JSON.stringify(await (await sys.api('/api/v2/webhook-endpoints', sys.admin)).json());
    expect(listed).not.toContain(endpoint.secret.slice(6));
    for (const url of [
      'http://10.0.0.7/hook',
      'https://192.168.1.10/hook',
      'https://169.254.169.254/latest',
      'ftp://example.test/x',
      'https://user:pw@example.test/x',
    ]) {
      const res = await sys.api('/api/v2/webhook-endpoints', sys.admin, { method: 'POST', body: { url } });
      const body = (await res.json()) as { status: number; errors: { field: string }[] };
      expect({ url, status: res.status, field: body.errors[0]?.field }).toEqual({
        url,
        status: 422,
        field: 'url',
      });
    }
    // A person's token without the scope cannot register one.
    expect(
      (await sys.api('/api/v2/webhook-endpoints', sys.ada, { method: 'POST', body: { url: main.url } }))
        .status,
    ).toBe(403);
  });

  it('delivers every event type once, signed, with ids and statuses only', async () => {
    // setup.completed and authorization.created: a setup completed.
    const completed = await sys.createSetup({ redirect_url: 'http://127.0.0.1:1/done' });
    await signInAtDemoIdp(completed.url, 'ada@example.test', (u) => u.startsWith('http://127.0.0.1:1/'));
    // setup.failed: declined at the provider.
    const declined = await sys.createSetup({ redirect_url: 'http://127.0.0.1:1/done' });
    const jars = new Map<string, Map<string, string>>();
    const interaction = await signInAtDemoIdp(
      declined.url,
      'ada@example.test',
      (u) => /\/interaction\/[^/]+$/.test(new URL(u).pathname),
      undefined,
      jars,
    );
    const denyRes = await postWithJar(`${interaction.toString()}/deny`, jars);
    await signInAtDemoIdp(
      denyRes,
      'ada@example.test',
      (u) => u.startsWith('http://127.0.0.1:1/'),
      undefined,
      jars,
    );
    // setup.expired: one that nobody opened in time.
    const expiring = await sys.createSetup({ expires_at: new Date(Date.now() + 1000).toISOString() });
    // authorization.refreshed: the worker refreshes the 20 s token ahead of expiry.
    await main.waitFor((rs) => ofType(rs, 'authorization.refreshed').length > 0, 30_000);
    // A service uses the token: a used token set is refreshed ahead again (an unused one would only
    // be kept alive at its provider's idle window, docs/scale.md), so there is a next refresh.
    const linked = (await (await sys.api('/api/v2/externalOAuth/authorizedProviders/', sys.ada)).json()) as {
      data: { id: string }[];
    };
    expect(
      (
        await sys.api(`/api/v2/externalOAuth/authorizedProviders/${linked.data[0].id}/token/`, sys.ada, {
          method: 'POST',
        })
      ).status,
    ).toBe(201);
    // authorization.expired: the provider revokes the grant; the next refresh is refused.
    expect((await fetch(`${sys.idp.issuer}/__test/revoke-grants`, { method: 'POST' })).status).toBe(200);
    await main.waitFor((rs) => ofType(rs, 'authorization.expired').length > 0, 40_000);
    // authorization.revoked: the user unlinks.
    const authorizations = (await (
      await sys.api('/api/v2/externalOAuth/authorizedProviders/', sys.ada)
    ).json()) as { data: { id: string }[] };
    expect(
      (
        await sys.api(`/api/v2/externalOAuth/authorizedProviders/${authorizations.data[0].id}/`, sys.ada, {
          method: 'DELETE',
        })
      ).status,
    ).toBe(204);
    const types = [
      'setup.completed',
      'setup.failed',
      'setup.expired',
      'authorization.created',
      'authorization.refreshed',
      'authorization.expired',
      'authorization.revoked',
    ];
    const received = await main.waitFor((rs) => types.every((t) => ofType(rs, t).length > 0), 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // time for any duplicate to show up
    const seen = new Set<string>();
    for (const r of received) {
      const check = verifyDelivery(endpoint.secret, seen, r.body, r.headers);
      expect({ id: r.headers['webhook-id'], ok: check.ok, duplicate: check.duplicate }).toEqual({
        id: r.headers['webhook-id'],
        ok: true,
        duplicate: false,
      });
      expect(r.body).not.toMatch(/access_token|refresh_token|client_secret|whsec_/);
      expect(r.body).not.toContain(sys.providerSecret);
    }
    for (const t of [
      'setup.completed',
      'setup.failed',
      'setup.expired',
      'authorization.created',
      'authorization.revoked',
    ])
      expect({ t, n: ofType(received, t).length }).toEqual({ t, n: 1 });
    expect(
      ofType(received, 'setup.completed')[0] && payload(ofType(received, 'setup.completed')[0]).data,
    ).toMatchObject({ setup_id: completed.id, status: 'completed', user_id: 'ada' });
    expect(payload(ofType(received, 'setup.failed')[0]).data).toMatchObject({
      setup_id: declined.id,
      status: 'failed',
      error: 'access_denied',
    });
    expect(payload(ofType(received, 'setup.expired')[0]).data).toMatchObject({
      setup_id: expiring.id,
      status: 'expired',
    });
    // The org reads the delivery log.
    const log = (await (
      await sys.api(`/api/v2/webhook-endpoints/${endpoint.id}/deliveries?limit=100`, sys.admin)
    ).json()) as { items: { id: string; status: string; attempts: number }[] };
    expect(log.items.length).toBe(received.length);
    expect(log.items.every((d) => d.status === 'succeeded' && d.attempts === 1)).toBe(true);
  }, 150_000);

  it('a tampered or replayed delivery is caught by the documented verification code', () => {
    const original = main.received[0];
    const seen = new Set<string>();
    expect(verifyDelivery(endpoint.secret, seen, original.body, original.headers).ok).toBe(true);
    // Replay: the same delivery again (signature still valid) is recognised by its webhook-id.
    expect(verifyDelivery(endpoint.secret, seen, original.body, original.headers)).toMatchObject({
      ok: true,
      duplicate: true,
    });
    // Tampered body, forged id, another secret, a stale timestamp: refused.
    const tampered = original.body.replace('"ada"', '"mallory"');
    expect(verifyDelivery(endpoint.secret, new Set(), tampered, original.headers)).toMatchObject({
      ok: false,
    });
    expect(
      verifyDelivery(endpoint.secret, new Set(), original.body, {
        ...original.headers,
        'webhook-id': 'forged',
      }),
    ).toMatchObject({ ok: false });
    expect(
      verifyDelivery(
        `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
        new Set(),
        original.body,
        original.headers,
      ),
    ).toMatchObject({ ok: false });
    const old = new Date(Date.now() - 10 * 60_000);
    const stale = {
      ...original.headers,
      'webhook-timestamp': String(Math.floor(old.getTime() / 1000)),
      'webhook-signature': new Webhook(endpoint.secret).sign(
        original.headers['webhook-id'],
        old,
        original.body,
      ),
    };
    expect(verifyDelivery(endpoint.secret, new Set(), original.body, stale)).toMatchObject({
      ok: false,
      reason: 'Message timestamp too old',
    });
  });

  it('retries a receiver that is down and delivers once it is back', async () => {
    main.failing = true;
    const before = main.attempts;
    const expiring = await sys.createSetup({ expires_at: new Date(Date.now() + 1000).toISOString() });
    await BrokerWait.until(async () => main.attempts >= before + 2, 20_000);
    main.failing = false;
    const received = await main.waitFor(
      (rs) => rs.some((r) => payload(r).data['setup_id'] === expiring.id),
      20_000,
    );
    const delivery = received.find((r) => payload(r).data['setup_id'] === expiring.id) as ReceivedWebhook;
    expect(verifyDelivery(endpoint.secret, new Set(), delivery.body, delivery.headers).ok).toBe(true);
    const log = (await (
      await sys.api(`/api/v2/webhook-endpoints/${endpoint.id}/deliveries?limit=5`, sys.admin)
    ).json()) as { items: { id: string; status: string; attempts: number }[] };
    const entry = log.items.find((d) => d.id === delivery.headers['webhook-id']);
    expect(entry?.status).toBe('succeeded');
    expect(entry?.attempts).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('an event forged on Redis (which is not a trust boundary) causes no webhook', async () => {
    const redis = new IORedis(sys.env['REDIS_URL']);
    const before = main.received.length;
    const authorizations = (await (
      await sys.api('/api/v2/externalOAuth/authorizedProviders/', sys.ada)
    ).json()) as { data: { id: string; provider: { id: string } }[] };
    const forged = [
      {
        type: 'authorization.created',
        orgId: 'default',
        authorizationId: randomUUID(),
        providerId: sys.deploymentId,
        userId: 'ada',
        status: 'active',
        at: new Date().toISOString(),
      },
      {
        type: 'authorization.revoked',
        orgId: 'default',
        authorizationId: randomUUID(),
        providerId: sys.deploymentId,
        userId: 'ada',
        status: 'active',
        at: new Date().toISOString(),
      },
      // A real authorization id (if any), claimed for another user.
      ...authorizations.data.map((a) => ({
        type: 'authorization.refreshed',
        orgId: 'default',
        authorizationId: a.id,
        providerId: a.provider.id,
        userId: 'mallory',
        status: 'active',
        at: new Date().toISOString(),
      })),
    ];
    // Unsigned, as anyone on Redis can publish them: not genuine broker events.
    for (const event of forged) await redis.publish(`${sys.env['BUS_PREFIX']}:events`, JSON.stringify(event));
    // Signed with a real publisher's key (a publisher whose key leaked): the worker still checks
    // each against PostgreSQL, which knows of no such authorization (or not for that user).
    const leaked = parseEventSigningKey(sys.env['EVENTS_SIGNING_KEY__token_broker']);
    for (const event of forged)
      await redis.publish(`${sys.env['BUS_PREFIX']}:events`, signEvent(leaked, event as BrokerEvent));
    await redis.quit();
    const deadline = Date.now() + 10_000; // logs are written out every 250 ms
    while (
      !(
        sys.logs().includes('not confirmed by the database') &&
        sys.logs().includes('not a genuine broker event')
      ) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(main.received.slice(before).map((r) => payload(r).type)).toEqual([]);
    expect(sys.logs()).toContain('not a genuine broker event');
    expect(sys.logs()).toContain('not confirmed by the database');
  });

  it('disables an endpoint that fails for the whole retry window, and says so to the org', async () => {
    const created = await sys.api('/api/v2/webhook-endpoints', sys.admin, {
      method: 'POST',
      body: { url: dead.url, event_types: ['setup.expired'] },
    });
    const deadEndpoint = (await created.json()) as Endpoint;
    await sys.createSetup({ expires_at: new Date(Date.now() + 1000).toISOString() });
    const received = await main.waitFor((rs) => ofType(rs, 'webhook_endpoint.disabled').length > 0, 40_000);
    expect(payload(ofType(received, 'webhook_endpoint.disabled')[0]).data).toMatchObject({
      endpoint_id: deadEndpoint.id,
    });
    const read = (await (
      await sys.api(`/api/v2/webhook-endpoints/${deadEndpoint.id}`, sys.admin)
    ).json()) as { status: string; disabled_reason: string };
    expect(read.status).toBe('disabled');
    expect(read.disabled_reason).toContain('no delivery accepted');
    expect(dead.attempts).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

/** POSTs (no body) with the cookies of the URL's origin and returns where it redirects. */
async function postWithJar(url: string, jars: Map<string, Map<string, string>>): Promise<string> {
  const jar = jars.get(new URL(url).origin) ?? new Map<string, string>();
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  const location = res.headers.get('location');
  if (!location) throw new Error(`no redirect from ${url}: ${res.status}`);
  return new URL(location, url).toString();
}

const BrokerWait = {
  async until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error(`not true after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  },
};
