import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase, sleep, testDatabaseServerUrl } from '@broker/testing';
import { ServiceProcess, freePort, systemEnv } from './service-processes';

/** Polls `probe` until it returns true or `timeoutMs` passes; returns the last answer. */
async function eventually(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

async function tableNames(url: string, schema: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schema],
    );
    return rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

describe('migrations apart from start-up, as processes', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('ops_migrations');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('MIGRATIONS=skip on an unmigrated database: the service exits 1 naming the pending migrations; MIGRATIONS=only migrates and exits 0; then skip starts', async () => {
    const port = await freePort();
    const env = systemEnv(db.url, await freePort(), 'ops-mig');

    const skipped = new ServiceProcess('token-broker', port, { ...env, MIGRATIONS: 'skip' }).start();
    expect(await skipped.exitCode()).toBe(1);
    const said = skipped.output.join('');
    expect(said).toMatch(
      /MIGRATIONS=skip but schema "(identity|tokens)" has \d+ pending migration\(s\): .*1763900100000|1763901000000/,
    );
    expect(await tableNames(db.url, 'identity')).toEqual([]);

    // The Job needs the database and nothing else: no Redis, bus or encryption secret.
    const job = new ServiceProcess('token-broker', port, {
      PATH: process.env['PATH'] ?? '',
      MIGRATIONS: 'only',
      DATABASE_URL: db.url,
    }).start();
    expect(await job.exitCode()).toBe(0);
    const lines = job.output.join('').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      expect.stringMatching(/^schema identity: \d+ migration\(s\) applied$/),
      expect.stringMatching(/^schema tokens: \d+ migration\(s\) applied$/),
    ]);
    expect(await tableNames(db.url, 'identity')).toContain('oauth_clients');

    const again = new ServiceProcess('token-broker', port, {
      PATH: process.env['PATH'] ?? '',
      MIGRATIONS: 'only',
      DATABASE_URL: db.url,
    }).start();
    expect(await again.exitCode()).toBe(0);
    expect(again.output.join('')).toContain('schema tokens: up to date');

    const started = new ServiceProcess('token-broker', port, { ...env, MIGRATIONS: 'skip' }).start();
    try {
      await started.ready();
    } finally {
      await started.stop();
    }
  });

  it('MIGRATIONS=only with a bad DATABASE_URL stops with a message naming it', async () => {
    const job = new ServiceProcess('provider-registry', await freePort(), {
      PATH: process.env['PATH'] ?? '',
      MIGRATIONS: 'only',
      DATABASE_URL: 'mysql://x',
    }).start();
    expect(await job.exitCode()).toBe(1);
    expect(job.output.join('')).toContain('DATABASE_URL: must be a URL starting with postgres://');
  });
});

describe('worker queue groups (WORKER_QUEUES)', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const queues: Queue[] = [];
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('ops_groups');
    env = systemEnv(db.url, await freePort(), 'ops-groups');
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(queues.map((q) => q.close()));
    await db?.drop();
  });

  function queue(name: string): Queue {
    const q = new Queue(name, { connection: { url: env['REDIS_URL'] }, prefix: `${env['BUS_PREFIX']}:jobs` });
    queues.push(q);
    return q;
  }

  it('a worker started with one group consumes only that group; a worker of the other group then takes the rest', async () => {
    const webhooksWorker = new ServiceProcess('worker', await freePort(), {
      ...env,
      WORKER_QUEUES: 'webhooks',
      WORKER_CONCURRENCY: 'webhooks=5',
    }).start();
    workers.push(webhooksWorker);
    await webhooksWorker.ready();
    // stdout is written in batches: wait for the line.
    expect(
      await eventually(
        async () =>
          webhooksWorker.output.join('').includes('consuming queues: webhook-delivery (concurrency 5)"'),
        5_000,
      ),
    ).toBe(true);

    // Jobs about rows that do not exist: each processor finishes them at once (nothing to do), so
    // leaving the wait list is what tells that a worker took them.
    const stats = await queue('stats').add(
      'STATS',
      { orgId: 'default', jobId: randomUUID() },
      { jobId: randomUUID() },
    );
    const delivery = await queue('webhook-delivery').add(
      'DELIVER_WEBHOOK',
      { orgId: 'default', deliveryId: randomUUID() },
      { jobId: randomUUID() },
    );

    expect(
      await eventually(async () => ['completed', 'failed'].includes(await delivery.getState()), 15_000),
    ).toBe(true);
    // Long enough for a worker that had the stats queue to take it many times over.
    await sleep(2_000);
    expect(await stats.getState()).toBe('waiting');

    const housekeeping = new ServiceProcess('worker', await freePort(), {
      ...env,
      WORKER_QUEUES: 'housekeeping',
    }).start();
    workers.push(housekeeping);
    await housekeeping.ready();
    expect(
      await eventually(
        async () =>
          housekeeping.output
            .join('')
            .includes(
              'consuming queues: provider-deletion (concurrency 2), stats (concurrency 1), key-rotation (concurrency 1), setup-expiry (concurrency 1)"',
            ),
        5_000,
      ),
    ).toBe(true);
    expect(await eventually(async () => (await stats.getState()) === 'completed', 15_000)).toBe(true);
  });
});

describe('a worker that lost PostgreSQL stops taking jobs until it is back', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let worker: ServiceProcess;
  let stats: Queue;

  async function onServer(query: string): Promise<void> {
    const client = new Client({ connectionString: testDatabaseServerUrl() });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('ops_pg_outage');
    env = systemEnv(db.url, await freePort(), 'ops-pg');
    worker = new ServiceProcess('worker', await freePort(), {
      ...env,
      WORKER_QUEUES: 'housekeeping',
    }).start();
    await worker.ready();
    stats = new Queue('stats', {
      connection: { url: env['REDIS_URL'] },
      prefix: `${env['BUS_PREFIX']}:jobs`,
    });
  });
  afterAll(async () => {
    await onServer(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await worker?.stop();
    await stats?.close();
    await db?.drop();
  });

  it('pauses its queues while the database refuses connections (readiness 503 naming it) and resumes when it is back', async () => {
    // The database goes away for this worker: no new connection, and the open ones are cut.
    await onServer(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
    await onServer(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`);
    expect(
      await eventually(
        async () =>
          worker.output.join('').includes('PostgreSQL unreachable: this worker stopped taking jobs'),
        15_000,
      ),
    ).toBe(true);
    const res = await fetch(`${worker.url}/health/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ service: 'worker', failing: ['database'] });

    const job = await stats.add('STATS', { orgId: 'default', jobId: randomUUID() }, { jobId: randomUUID() });
    await sleep(3_000);
    // Not run: still waiting, or (the one fetch that was already blocked in Redis) put back delayed, no attempt spent.
    expect(['waiting', 'delayed']).toContain(await job.getState());
    expect((await stats.getJob(job.id as string))?.attemptsMade).toBe(0);

    await onServer(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
    expect(
      await eventually(
        async () =>
          worker.output.join('').includes('PostgreSQL reachable again: this worker takes jobs again'),
        15_000,
      ),
    ).toBe(true);
    expect(await eventually(async () => (await job.getState()) === 'completed', 15_000)).toBe(true);
    expect((await fetch(`${worker.url}/health/ready`)).status).toBe(200);
  });
});

/** A redis-server of the test's own, so the test can stop and restart it. */
class OwnRedis {
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ops-redis-'));
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    const ok = await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect({ port: this.port, host: '127.0.0.1' });
          socket.once('connect', () => (socket.destroy(), resolve(true)));
          socket.once('error', () => resolve(false));
        }),
      10_000,
    );
    if (!ok) throw new Error('redis-server did not start');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('health that tells the truth: Redis stopped and back', () => {
  let db: TestDatabase;
  let redis: OwnRedis;
  let env: Record<string, string>;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('ops_health');
    redis = new OwnRedis(await freePort());
    await redis.start();
    const gatewayPort = await freePort();
    env = systemEnv(db.url, gatewayPort, 'ops-health', { REDIS_URL: redis.url });
    // One after the other: the migrations of a fresh database would otherwise make them take turns anyway.
    for (const app of ['provider-registry', 'token-broker', 'worker', 'gateway']) {
      const proc = new ServiceProcess(app, app === 'gateway' ? gatewayPort : await freePort(), env).start();
      services.push(proc);
    }
    await Promise.all(services.map((s) => s.ready()));
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await redis?.stop();
    redis?.cleanup();
    await db?.drop();
  });

  async function readiness(s: ServiceProcess): Promise<{
    status: number;
    body: { service?: string; failing?: string[]; checks?: Record<string, string> };
  }> {
    const res = await fetch(`${s.url}/health/ready`);
    return { status: res.status, body: (await res.json()) as { service?: string; failing?: string[] } };
  }

  it('every service answers 503 naming redis while it is down, logs only JSON lines, and is ready again when it returns', async () => {
    const before = services.map((s) => s.output.join('').length);
    await redis.stop();
    for (const s of services) {
      expect(await eventually(async () => (await readiness(s)).status === 503, 10_000)).toBe(true);
      const { body } = await readiness(s);
      expect(body).toMatchObject({ status: 'unavailable', service: s.app, failing: ['redis'] });
      expect(body.checks?.['redis']).toBe('down');
    }
    // An outage of a few seconds, with probes hitting every service.
    for (let i = 0; i < 10; i++) {
      await Promise.all(services.map((s) => readiness(s)));
      await sleep(200);
    }
    await redis.start();
    for (const s of services)
      expect(await eventually(async () => (await readiness(s)).status === 200, 20_000)).toBe(true);
    // The worker pulls work again (this Redis kept nothing: the job is new).
    const stats = new Queue('stats', { connection: { url: redis.url }, prefix: `${env['BUS_PREFIX']}:jobs` });
    try {
      const job = await stats.add(
        'STATS',
        { orgId: 'default', jobId: randomUUID() },
        { jobId: randomUUID() },
      );
      expect(await eventually(async () => (await job.getState()) === 'completed', 15_000)).toBe(true);
    } finally {
      await stats.close();
    }
    // Flushed: the services write stdout in batches (every 250 ms).
    await sleep(500);

    services.forEach((s, i) => {
      const said = s.output.join('').slice(before[i]);
      const lines = said.split('\n').filter((l) => l.trim() !== '');
      const notJson = lines.filter((l) => {
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
      expect({ service: s.app, notJson }).toEqual({ service: s.app, notJson: [] });
      // Rate-limited: a few lines per connection for the outage, not one per reconnect attempt.
      expect({ service: s.app, lines: lines.length < 60 }).toEqual({ service: s.app, lines: true });
      // No probe was answered with an unhandled error.
      expect(said).not.toContain('unhandled error');
    });
  });

  // Kubernetes sends SIGKILL after the grace period (30 s for the gateway, the registry and the
  // token-broker; 45-150 s for the workers): each service must be gone well before, by itself.
  it('every service asked to stop while Redis is down exits by itself (0) within 10 s, not when the kill comes', async () => {
    await redis.stop();
    for (const s of services)
      expect(await eventually(async () => (await readiness(s)).status === 503, 10_000)).toBe(true);
    const exits = await Promise.all(
      services.map(async (s) => {
        const started = Date.now();
        const code = await s.stop(10_000);
        return { app: s.app, code, signal: s.signal, withinGrace: Date.now() - started < 10_000 };
      }),
    );
    expect(exits).toEqual(services.map((s) => ({ app: s.app, code: 0, signal: null, withinGrace: true })));
  });
});
