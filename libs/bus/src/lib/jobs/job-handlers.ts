import { Job, UnrecoverableError } from 'bullmq';
import { JOB_PAYLOAD_SCHEMAS, JobMap, JobName, JobPayload, QueueName } from '@broker/contracts';
import { inJobSpan, splitTraceparent } from './job-trace';

/**
 * One handler per job name of a queue; the type makes the table total. `token` is the job's lock
 * token (what `job.moveToDelayed` needs for a job that re-schedules itself).
 */
export type JobHandlers<Q extends QueueName> = {
  [N in JobName<Q>]: (payload: JobPayload<Q, N>, job: Job, token?: string) => Promise<unknown>;
};

/**
 * Routes a job to its handler. Job data comes from Redis and is untrusted: a name without a handler,
 * or data that does not match the job's schema, fails for good (UnrecoverableError) rather than
 * being retried; a handler's error propagates so BullMQ retries it with backoff. Handlers still
 * act only on what PostgreSQL records (a job forged into Redis must find nothing to do).
 */
export function dispatchJob<Q extends QueueName>(
  queue: Q,
  handlers: JobHandlers<Q>,
  job: Job,
  token?: string,
): Promise<unknown> {
  const handler = (
    handlers as Record<string, ((p: unknown, j: Job, t?: string) => Promise<unknown>) | undefined>
  )[job.name];
  const schema = (
    JOB_PAYLOAD_SCHEMAS[queue] as Record<
      string,
      { safeParse(v: unknown): { success: boolean; data?: unknown } } | undefined
    >
  )[job.name];
  if (!handler || !schema)
    throw new UnrecoverableError(`queue '${queue}' has no handler for job '${job.name}'`);
  const { data, traceparent } = splitTraceparent(job.data);
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new UnrecoverableError(`job '${job.name}' on queue '${queue}' has invalid data: not acted on`);
  return inJobSpan(queue, job.name, traceparent, () =>
    handler(parsed.data as JobMap[Q][keyof JobMap[Q]], job, token),
  );
}
