import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { QUEUE_NAMES, QUEUE_SETTINGS } from '@broker/contracts';
import { testRedisUrl, uniquePrefix } from '@broker/testing';
import {
  JobHandlers,
  JobProducer,
  createRedisConnection,
  defaultJobOptions,
  dispatchJob,
  processorOptions,
} from '../src';

describe('typed background jobs', () => {
  const redisUrl = testRedisUrl();
  let prefix: string;
  let queue: Queue;
  let events: QueueEvents;
  let worker: Worker | undefined;
  let producer: JobProducer;
  let connections: ReturnType<typeof createRedisConnection>[] = [];
  const connect = (name: string) => {
    const c = createRedisConnection(redisUrl, name);
    connections.push(c);
    return c;
  };

  beforeEach(async () => {
    prefix = uniquePrefix('jobs');
    const connection = connect('jobs-test');
    // The real retry policy of the queue, with a short delay so the test does not wait seconds.
    queue = new Queue('token-refresh', {
      connection,
      prefix,
      defaultJobOptions: { ...defaultJobOptions('token-refresh'), backoff: { type: 'fixed', delay: 20 } },
    });
    events = new QueueEvents('token-refresh', { connection: connect('jobs-events'), prefix });
    await events.waitUntilReady();
    const queues = Object.fromEntries(QUEUE_NAMES.map((n) => [n, queue])) as unknown as ConstructorParameters<
      typeof JobProducer
    >[0];
    producer = new JobProducer(queues);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await events.close();
    await queue.close();
    await Promise.all(connections.map((c) => c.quit()));
    connections = [];
  });

  // These tests exercise the generic dispatcher with the refresh job; the sweep is not enqueued here.
  function startWorker(handlers: Pick<JobHandlers<'token-refresh'>, 'REFRESH_AUTHORIZATION'>): void {
    const all: JobHandlers<'token-refresh'> = { ...handlers, SWEEP_DUE_REFRESHES: async () => undefined };
    worker = new Worker('token-refresh', (job: Job) => dispatchJob('token-refresh', all, job), {
      connection: connect('jobs-worker'),
      prefix,
      ...processorOptions('token-refresh'),
    });
  }

  it('takes every queue’s retry and retention policy from the settings table', () => {
    for (const name of QUEUE_NAMES) {
      expect(defaultJobOptions(name)).toMatchObject({
        attempts: QUEUE_SETTINGS[name].attempts,
        backoff: { type: 'exponential', delay: QUEUE_SETTINGS[name].backoffMs },
        removeOnComplete: { count: QUEUE_SETTINGS[name].keepCompleted },
      });
      expect(processorOptions(name).concurrency).toBe(QUEUE_SETTINGS[name].concurrency);
    }
  });

  it('runs a job once however often it is enqueued under the same jobId', async () => {
    const seen: string[] = [];
    await Promise.all(
      [1, 2, 3].map(() =>
        producer.enqueue(
          'token-refresh',
          'REFRESH_AUTHORIZATION',
          { orgId: 'o1', authorizationId: 'a1' },
          { jobId: 'refresh-a1' },
        ),
      ),
    );
    const done = new Promise<void>((resolve) => events.on('completed', () => resolve()));
    startWorker({
      REFRESH_AUTHORIZATION: async (payload) => {
        seen.push(payload.authorizationId);
      },
    });
    await done;
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(['a1']);
  });

  it('retries a failing handler with backoff until it succeeds', async () => {
    let calls = 0;
    startWorker({
      REFRESH_AUTHORIZATION: async () => {
        calls++;
        if (calls < 3) throw new Error('provider answered 503');
        return 'ok';
      },
    });
    const job = await producer.enqueue(
      'token-refresh',
      'REFRESH_AUTHORIZATION',
      { orgId: 'o1', authorizationId: 'a2' },
      { jobId: 'refresh-a2' },
    );
    await expect(job.waitUntilFinished(events, 10_000)).resolves.toBe('ok');
    expect(calls).toBe(3);
  });

  it('fails a job with no handler for good instead of retrying it', async () => {
    startWorker({ REFRESH_AUTHORIZATION: async () => 'ok' });
    const job = await queue.add('NO_SUCH_JOB', {}, { jobId: 'unknown-1' });
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/no handler for job 'NO_SUCH_JOB'/);
    const failed = await queue.getJob('unknown-1');
    expect(failed?.attemptsMade).toBe(1);
  });

  it('refuses job ids BullMQ would misread', () => {
    expect(() =>
      producer.enqueue(
        'token-refresh',
        'REFRESH_AUTHORIZATION',
        { orgId: 'o', authorizationId: 'a' },
        { jobId: 'a:b' },
      ),
    ).toThrow(/must not contain ':'/);
  });
});
