import { QueueEvents } from 'bullmq';
import { Client } from 'pg';
import { QUEUE_NAMES } from '@broker/contracts';
import { sleep } from '@broker/testing';
import { BrokerSystem } from './broker-system';
import { LoadBalancer, SteadyLoad, busAcquireCall, restTokenCall } from './rolling-load';
import { ServiceProcess, busClientFor, freePort } from './service-processes';
import { WebhookReceiver } from './setups-system';

/** Provider access tokens live 30 s; the worker refreshes those with under 10 s left, sweeping every 2 s. */
const TOKEN_TTL_S = 30;
const LOOKAHEAD_S = 10;
/** A refresh is due max(20 % of the lifetime, 10 s) before expiry (libs/tokens refresh_due_at); the sweep takes it up to LOOKAHEAD_S earlier. */
const DUE_AHEAD_S = 10;
/** So consecutive tokens of one authorization expire about this far apart; a second refresh for the same expiry comes seconds after the first. */
const EXPECTED_GAP_S = TOKEN_TTL_S - DUE_AHEAD_S - LOOKAHEAD_S;
const REFRESH_SWEEP_S = 2;
const SWEEP_S = 5;
const PEOPLE = 8;
/** Each SIGTERM'd replica must be gone within this (its drain, then in-flight work). */
const GRACE_MS = 30_000;
const DRAIN_S = 2;
/** Start-up of one service on a busy 2-core box (several start at once). */
const READY_MS = 90_000;
/** The worker processes: two queue groups, each consumed by two of the three replicas. */
const WORKER_GROUPS = ['refresh,housekeeping', 'webhooks,device', 'all'];
/** The housekeeping sweeps' job schedulers (apps/worker/src/housekeeping/housekeeping.processor.ts). */
const SCHEDULERS = [
  'setup-sweep',
  'refresh-candidates-sweep',
  'consent-states-sweep',
  'device-pollers-sweep',
  'open-jobs-sweep',
];

/**
 * Scale-out on one box: 2 gateways, 3 token-brokers, 3 workers (two queue groups), the registry,
 * under steady load (REST through a load balancer that follows readiness, bus callers, STATS jobs
 * and webhook deliveries), while every replica is restarted one at a time with SIGTERM. Nothing
 * fails, no job is lost or run twice, each authorization is refreshed once per expiry, and the
 * housekeeping sweeps run once per interval across the cluster.
 */
describe('rolling restart under load', () => {
  let sys: BrokerSystem;
  let receiver: WebhookReceiver;
  const workers: ServiceProcess[] = [];
  /** Every process this test started (replacements included), for the final kill. */
  const started: ServiceProcess[] = [];
  const queueEvents: QueueEvents[] = [];
  let pg: Client;
  let admin = '';
  const people: { token: string; authorizationId: string }[] = [];

  /** BullMQ's record of each queue: jobs that became active (per id), failed or stalled. */
  const active = new Map<string, number>();
  const failed: string[] = [];
  const stalled: string[] = [];
  const sweeps: { id: string; at: number }[] = [];

  const consumed = async () =>
    ((await (await fetch(`${sys.idp.issuer}/__test/events`)).json()) as Record<string, number>)[
      'refresh_token.consumed'
    ] ?? 0;
  const generations = async () =>
    new Map(
      (
        await pg.query<{ authorization_id: string; generation: number; expires_at: Date }>(
          'SELECT authorization_id, generation, expires_at FROM tokens.credentials',
        )
      ).rows.map((r) => [
        r.authorization_id,
        { generation: r.generation, expiresAt: r.expires_at.getTime() },
      ]),
    );
  /** The provider's refresh count and the credentials' generations at one moment no refresh crossed. */
  const cut = async () => {
    for (;;) {
      const before = await consumed();
      const gens = await generations();
      if ((await consumed()) === before) return { consumed: before, gens };
    }
  };

  beforeAll(async () => {
    receiver = new WebhookReceiver(await freePort());
    await receiver.start();
    sys = new BrokerSystem({
      label: 'rolling',
      gateways: 2,
      brokers: 3,
      providerClient: true,
      egressPorts: [receiver.port],
      readyTimeoutMs: READY_MS,
      idpEnv: { DEMO_IDP_ACCESS_TOKEN_TTL: String(TOKEN_TTL_S), DEMO_IDP_TEST_HOOKS: '1' },
      env: {
        SHUTDOWN_DRAIN_SECONDS: String(DRAIN_S),
        REFRESH_LOOKAHEAD_SECONDS: String(LOOKAHEAD_S),
        REFRESH_SWEEP_SECONDS: String(REFRESH_SWEEP_S),
        TOKEN_USAGE_FLUSH_MS: '1000',
        HOUSEKEEPING_SWEEP_SECONDS: String(SWEEP_S),
        SETUP_SWEEP_SECONDS: String(SWEEP_S),
        WEBHOOK_RETRY_BASE_SECONDS: '1',
        DELEGATED_TOKEN_TTL_SECONDS: '1800',
        BUS_TIMEOUT_MS: '15000',
      },
    });
    await sys.start();
    started.push(...sys.gateways, ...sys.brokers, sys.registry);
    for (const queues of WORKER_GROUPS) {
      const w = new ServiceProcess('worker', await freePort(), { ...sys.env, WORKER_QUEUES: queues }).start();
      workers.push(w);
      started.push(w);
    }
    await Promise.all(workers.map((w) => w.ready(READY_MS)));
    pg = new Client({ connectionString: sys.db.url });
    await pg.connect();

    for (const queue of QUEUE_NAMES) {
      const events = new QueueEvents(queue, {
        connection: { url: sys.env['REDIS_URL'] },
        prefix: `${sys.env['BUS_PREFIX']}:jobs`,
      });
      events.on('active', ({ jobId }) =>
        active.set(`${queue}/${jobId}`, (active.get(`${queue}/${jobId}`) ?? 0) + 1),
      );
      events.on('failed', ({ jobId, failedReason }) => failed.push(`${queue}/${jobId}: ${failedReason}`));
      events.on('stalled', ({ jobId }) => stalled.push(`${queue}/${jobId}`));
      if (queue === 'setup-expiry')
        events.on('completed', ({ jobId }) => sweeps.push({ id: jobId, at: Date.now() }));
      await events.waitUntilReady();
      queueEvents.push(events);
    }

    admin = await sys.adminToken();
    const providerId = await sys.registerDemoProvider(admin);
    const endpoint = await sys.api('/api/v2/webhook-endpoints', admin, {
      method: 'POST',
      body: { url: receiver.url, description: 'rolling' },
    });
    if (endpoint.status !== 201) throw new Error(`webhook endpoint: ${endpoint.status}`);
    for (let i = 0; i < PEOPLE; i++) {
      const sub = `person-${i}`;
      await sys.users.upsert('default', {
        sub,
        email: `${sub}@example.test`,
        givenName: 'P',
        familyName: `${i}`,
      });
      const token = await sys.delegatedToken(admin, sub, [
        'authorizations:read',
        'authorizations:write',
        'tokens:read',
      ]);
      people.push({
        token,
        authorizationId: await sys.linkAccount(token, providerId, `${sub}@example.test`),
      });
    }
  }, 300_000);

  afterAll(async () => {
    await Promise.all(started.map((s) => s.kill()));
    await Promise.all(queueEvents.map((e) => e.close()));
    await pg?.end();
    await receiver?.stop();
    await sys?.stop(); // the bus client, the demo provider and the database (the services are gone)
  }, 60_000);

  const t0 = Date.now();
  /** Progress on stdout (which phase a slow run spent its time in). */
  const phase = (what: string) =>
    process.stdout.write(`[rolling +${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);

  /** SIGTERM one replica, wait for its exit (bounded by the grace period), start its replacement on the same port, wait ready. */
  const restart = async (list: ServiceProcess[], i: number, env: Record<string, string>) => {
    const old = list[i];
    phase(`SIGTERM ${old.app} on port ${old.port}`);
    expect({ app: old.app, code: await old.stop(GRACE_MS), signal: old.signal }).toEqual({
      app: old.app,
      code: 0,
      signal: null,
    });
    const fresh = new ServiceProcess(old.app, old.port, env).start();
    started.push(fresh);
    list[i] = fresh;
    await fresh.ready(READY_MS);
    phase(`${old.app} replaced and ready`);
  };

  it('restarts every replica one at a time: nothing fails, nothing is lost or doubled', async () => {
    const lb = new LoadBalancer(() => sys.gateways);
    lb.start();
    await sleep(500);
    const callers = [busClientFor(sys.env, 'rolling-a', 15_000), busClientFor(sys.env, 'rolling-b', 15_000)];
    await Promise.all(callers.map((c) => c.connect()));
    const ids = people.map((p) => p.authorizationId);
    const statsJobs: string[] = [];
    const loads = [
      new SteadyLoad('REST token', 100, restTokenCall(lb, people)),
      ...callers.map(
        (c, n) =>
          new SteadyLoad(
            `bus acquire ${n}`,
            100,
            busAcquireCall(c, () => admin, ids),
          ),
      ),
      new SteadyLoad('STATS job', 3_000, async () => {
        const res = await fetch(`${lb.pick()}/api/v2/externalOAuth/jobs/`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'STATS' }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await res.json()) as { id?: string; location?: string };
        if (res.status !== 202) throw new Error(`STATS job: ${res.status} ${JSON.stringify(body)}`);
        statsJobs.push((body.location ?? '').split('/').filter(Boolean).pop() ?? '');
      }),
    ];
    phase('load starting');
    const first = await cut();
    const windowStart = Date.now();
    const receivedBefore = receiver.received.length;
    loads.forEach((l) => l.start());
    // Every generation each authorization went through during the test (polled: a skipped one shows).
    const seen = new Map<string, Map<number, number>>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const [id, g] of await generations()) {
          const m = seen.get(id) ?? new Map<number, number>();
          m.set(g.generation, g.expiresAt);
          seen.set(id, m);
        }
        await sleep(250);
      }
    })();
    try {
      await sleep(5_000);
      for (let i = 0; i < sys.brokers.length; i++) await restart(sys.brokers, i, sys.env);
      for (let i = 0; i < sys.gateways.length; i++) await restart(sys.gateways, i, sys.env);
      for (let i = 0; i < workers.length; i++)
        await restart(workers, i, { ...sys.env, WORKER_QUEUES: WORKER_GROUPS[i] });
      // The registry runs one replica: rolled with a surge (the new one ready before the old stops),
      // as a Deployment with maxUnavailable 0 does.
      const registry = new ServiceProcess('provider-registry', await freePort(), sys.env).start();
      started.push(registry);
      await registry.ready(READY_MS);
      expect(await sys.registry.stop(GRACE_MS)).toBe(0);
      sys.registry = registry;
      await sleep(5_000);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
      await Promise.all(callers.map((c) => c.close()));
      await lb.stop();
    }
    const windowEnd = Date.now();
    phase('load stopped; checking');
    polling = false;
    await poller;
    const last = await cut();

    // 0 failed requests, REST and bus, and the load really ran.
    const failures = loads.flatMap((l) => l.failures);
    expect(failures).toEqual([]);
    for (const l of loads.slice(0, 3)) expect(l.ok).toBeGreaterThan(100);

    // Every STATS job completed, exactly once.
    expect(statsJobs.length).toBeGreaterThan(10);
    const deadline = Date.now() + 30_000;
    let open: string[] = statsJobs;
    while (open.length && Date.now() < deadline) {
      const rows = await pg.query<{ id: string; status: string }>(
        'SELECT id, status FROM registry.jobs WHERE id = ANY($1::uuid[])',
        [statsJobs],
      );
      open = statsJobs.filter((id) => rows.rows.find((r) => r.id === id)?.status !== 'COMPLETED');
      if (open.length) await sleep(500);
    }
    expect(open).toEqual([]);
    expect(statsJobs.filter((id) => active.get(`stats/${id}`) !== 1)).toEqual([]);

    // No job of any queue ran twice, failed or stalled.
    await sleep(1_000);
    expect([...active].filter(([, n]) => n > 1)).toEqual([]);
    expect({ failed, stalled }).toEqual({ failed: [], stalled: [] });

    // Refreshes: every one the provider did was written once (no refresh token lost to a stopped
    // replica), and each authorization went to its next token once per expiry: the next token
    // came before the previous one expired, and not twice for the same expiry.
    const refreshes = [...last.gens].reduce(
      (n, [id, g]) => n + g.generation - (first.gens.get(id)?.generation ?? 1),
      0,
    );
    expect(last.consumed - first.consumed).toBe(refreshes);
    const windowS = (windowEnd - windowStart) / 1000;
    expect(refreshes).toBeGreaterThanOrEqual(PEOPLE * Math.floor(windowS / TOKEN_TTL_S));
    const badGaps: string[] = [];
    for (const [id, m] of seen) {
      const gens = [...m.keys()].sort((a, b) => a - b);
      for (let k = 1; k < gens.length; k++) {
        const gap = ((m.get(gens[k]) ?? 0) - (m.get(gens[k - 1]) ?? 0)) / 1000;
        if (gens[k] !== gens[k - 1] + 1)
          badGaps.push(`${id}: generation ${gens[k - 1]} → ${gens[k]} (one skipped)`);
        else if (gap < EXPECTED_GAP_S / 2 || gap > TOKEN_TTL_S)
          badGaps.push(`${id}: generation ${gens[k]} expires ${gap} s after the previous`);
      }
    }
    expect(badGaps).toEqual([]);
    const { rows: audit } = await pg.query<{ type: string; n: string }>(
      `SELECT type, count(*) AS n FROM tokens.audit_events WHERE type LIKE 'refresh.%' GROUP BY type`,
    );
    expect(audit).toEqual([]);

    // Webhooks: one delivery per event, each delivered once (refreshes announce themselves).
    for (const until = Date.now() + 30_000; Date.now() < until; await sleep(500)) {
      const { rows } = await pg.query(`SELECT 1 FROM registry.webhook_deliveries WHERE status = 'pending'`);
      if (rows.length === 0) break;
    }
    const { rows: deliveries } = await pg.query<{ status: string; attempts: number; n: string }>(
      `SELECT status, attempts, count(*) AS n FROM registry.webhook_deliveries GROUP BY status, attempts`,
    );
    expect(deliveries.map((d) => ({ status: d.status, attempts: d.attempts }))).toEqual([
      { status: 'succeeded', attempts: 1 },
    ]);
    const webhookIds = receiver.received.map((r) => r.headers['webhook-id']);
    expect(webhookIds.length - new Set(webhookIds).size).toBe(0);
    expect(receiver.received.length - receivedBefore).toBeGreaterThanOrEqual(refreshes);

    // Sweeps: once per interval across the cluster (two replicas consume housekeeping), never twice
    // for one interval, and none skipped for long while a replica was down.
    const perScheduler = Object.fromEntries(
      SCHEDULERS.map((s) => {
        const runs = [
          ...new Set(
            sweeps
              .filter((c) => c.at >= windowStart && c.at < windowEnd && c.id.startsWith(`repeat:${s}:`))
              .map((c) => Number(c.id.split(':').pop())),
          ),
        ].sort((a, b) => a - b);
        const doubled = runs.filter((t, k) => k > 0 && t - runs[k - 1] < SWEEP_S * 1000).length;
        return [s, { runs: runs.length, doubled }];
      }),
    );
    const expected = windowS / SWEEP_S;
    for (const s of SCHEDULERS) {
      expect({ s, doubled: perScheduler[s].doubled }).toEqual({ s, doubled: 0 });
      expect(perScheduler[s].runs).toBeGreaterThanOrEqual(Math.floor(expected * 0.7));
      expect(perScheduler[s].runs).toBeLessThanOrEqual(Math.ceil(expected) + 1);
    }
    process.stdout.write(
      `rolling restart: ${windowS.toFixed(0)} s; calls ok ${loads.map((l) => l.ok).join(' / ')} (REST, bus, bus, STATS); ${refreshes} refreshes; ${receiver.received.length - receivedBefore} webhooks; sweeps ${JSON.stringify(perScheduler)}\n`,
    );
  }, 480_000);
});
