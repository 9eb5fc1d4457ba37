import { QueueEvents } from 'bullmq';
import IORedis from 'ioredis';
import { createTestDatabase, TestDatabase, sleep } from '@broker/testing';
import { ServiceProcess, freePort, systemEnv } from './service-processes';

const INTERVAL_S = 2;
const INTERVALS = 3;
/** The scheduler id of each housekeeping sweep (apps/worker/src/housekeeping/housekeeping.processor.ts). */
const SCHEDULERS = [
  'setup-sweep',
  'refresh-candidates-sweep',
  'consent-states-sweep',
  'device-pollers-sweep',
  'open-jobs-sweep',
];

// Each housekeeping sweep is a BullMQ job scheduler: however many workers run, it runs once per
// interval across the cluster. Two worker processes for 3 intervals: each sweep ran about 3 times,
// not about 6 (one timer per replica, as before); after a Redis flush they come back by themselves.
describe('housekeeping sweeps run once per interval per cluster', () => {
  let db: TestDatabase;
  const workers: ServiceProcess[] = [];
  let events: QueueEvents | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('housekeeping_sweeps');
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await events?.close();
    await db?.drop();
  });

  it('two workers, three intervals: each sweep ran 1 to 4 times, not about 6', async () => {
    const env = systemEnv(db.url, await freePort(), 'sweeps', {
      WORKER_QUEUES: 'housekeeping',
      HOUSEKEEPING_SWEEP_SECONDS: String(INTERVAL_S),
      SETUP_SWEEP_SECONDS: String(INTERVAL_S),
    });
    const completed: { id: string; at: number }[] = [];
    events = new QueueEvents('setup-expiry', {
      connection: { url: env['REDIS_URL'] },
      prefix: `${env['BUS_PREFIX']}:jobs`,
    });
    events.on('completed', ({ jobId }) => completed.push({ id: jobId, at: Date.now() }));
    await events.waitUntilReady();

    for (let i = 0; i < 2; i++) workers.push(new ServiceProcess('worker', await freePort(), env).start());
    await Promise.all(workers.map((w) => w.ready()));
    // Both replicas have upserted their schedulers once they are ready; count from the next run on.
    const start = Date.now();
    await sleep(INTERVAL_S * 1000 * INTERVALS);
    const end = Date.now();

    const ran = Object.fromEntries(
      SCHEDULERS.map((s) => [
        s,
        new Set(
          completed
            .filter((c) => c.at >= start && c.at < end && c.id.startsWith(`repeat:${s}:`))
            .map((c) => c.id),
        ).size,
      ]),
    );
    const outOfRange = SCHEDULERS.filter((s) => ran[s] < 1 || ran[s] > INTERVALS + 1);
    expect({ ran, outOfRange }).toEqual({ ran, outOfRange: [] });
    // Every completed sweep job came from a scheduler (nothing else runs on this queue here).
    expect(completed.every((c) => SCHEDULERS.some((s) => c.id.startsWith(`repeat:${s}:`)))).toBe(true);

    // A Redis flush of the queue removes the schedulers: a worker finds them missing and creates
    // them again, so every sweep (the one that re-queues what the flush lost included) runs again.
    const redis = new IORedis(env['REDIS_URL']);
    try {
      const keys = await redis.keys(`${env['BUS_PREFIX']}:jobs:setup-expiry:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    const flushedAt = Date.now();
    const resumed = () =>
      SCHEDULERS.every((s) => completed.some((c) => c.at > flushedAt && c.id.startsWith(`repeat:${s}:`)));
    while (!resumed() && Date.now() - flushedAt < 30_000) await sleep(200);
    expect(
      SCHEDULERS.filter((s) => !completed.some((c) => c.at > flushedAt && c.id.startsWith(`repeat:${s}:`))),
    ).toEqual([]);
  }, 120_000);
});
