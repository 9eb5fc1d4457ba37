import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { JOB_TYPES, QUEUE_NAMES, QueueName } from '@broker/contracts';
import { JobProducer, createRedisConnection } from '@broker/bus';
import type { JobEntity } from '@broker/registry';
import { testRedisUrl, uniquePrefix } from '@broker/testing';
import { JobDispatch, QUEUE_OF_RECORDED_JOB } from '../src';

function record(type: JobEntity['type'], orgId: string | null, providerId?: string): JobEntity {
  return {
    id: randomUUID(),
    orgId,
    type,
    status: 'PENDING',
    details: providerId ? [{ name: 'provider_id', value: providerId }] : [],
  } as JobEntity;
}

describe('JobDispatch: the one job-to-queue mapping (registry requests, worker reconciler, rotation check)', () => {
  const redisUrl = testRedisUrl();
  const connection = createRedisConnection(redisUrl, 'job-dispatch-test');
  let queues: Record<QueueName, Queue>;
  let dispatch: JobDispatch;

  beforeEach(() => {
    const prefix = uniquePrefix('dispatch');
    queues = Object.fromEntries(QUEUE_NAMES.map((n) => [n, new Queue(n, { connection, prefix })])) as Record<
      QueueName,
      Queue
    >;
    dispatch = new JobDispatch(
      new JobProducer(queues),
      queues['provider-deletion'],
      queues.stats,
      queues['key-rotation'],
    );
  });

  afterEach(async () => {
    await Promise.all(Object.values(queues).map((q) => q.close()));
  });

  afterAll(async () => {
    await connection.quit();
  });

  it('names a queue for every recorded job type', () => {
    for (const type of JOB_TYPES) expect(QUEUE_NAMES).toContain(QUEUE_OF_RECORDED_JOB[type]);
  });

  it('queues each record under its own id on its queue, with ids only in the payload', async () => {
    const orgId = randomUUID();
    const providerId = randomUUID();
    const deletion = record('DELETE_PROVIDER', orgId, providerId);
    const stats = record('STATS', orgId);
    const rotation = record('ROTATE_KEYS', null);
    for (const job of [deletion, stats, rotation]) await dispatch.enqueue(job);

    const queued = await queues['provider-deletion'].getJob(deletion.id);
    expect(queued?.name).toBe('DELETE_PROVIDER');
    expect(queued?.data).toMatchObject({ orgId, providerId, jobId: deletion.id });
    expect((await queues.stats.getJob(stats.id))?.data).toMatchObject({ orgId, jobId: stats.id });
    expect((await queues['key-rotation'].getJob(rotation.id))?.data).toMatchObject({ jobId: rotation.id });
    expect(dispatch.queueOf(deletion)).toBe(queues['provider-deletion']);
    expect(dispatch.queueOf(stats)).toBe(queues.stats);
    expect(dispatch.queueOf(rotation)).toBe(queues['key-rotation']);
    // Nothing landed on a queue that does not run the type.
    expect(await queues['key-rotation'].getJob(deletion.id)).toBeUndefined();
    expect(await queues.stats.getJob(rotation.id)).toBeUndefined();
  });

  it('queues a record queued again only once (the record id is the queue entry id)', async () => {
    const job = record('STATS', randomUUID());
    await dispatch.enqueue(job);
    await dispatch.enqueue(job);
    expect(await queues.stats.getJobCountByTypes('waiting', 'delayed', 'active')).toBe(1);
  });

  it('never queues an org job whose record has no org', async () => {
    const deletion = record('DELETE_PROVIDER', null, randomUUID());
    const stats = record('STATS', null);
    await dispatch.enqueue(deletion);
    await dispatch.enqueue(stats);
    expect(await queues['provider-deletion'].getJob(deletion.id)).toBeUndefined();
    expect(await queues.stats.getJob(stats.id)).toBeUndefined();
  });
});
