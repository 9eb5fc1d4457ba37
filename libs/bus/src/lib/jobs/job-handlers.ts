import { Job, UnrecoverableError } from 'bullmq';
import { JobMap, JobName, JobPayload, QueueName } from '@broker/contracts';

/**
 * One handler per job name of a queue; the type makes the table total. `token` is the job's lock
 * token (what `job.moveToDelayed` needs for a job that re-schedules itself).
 */
export type JobHandlers<Q extends QueueName> = {
  [N in JobName<Q>]: (payload: JobPayload<Q, N>, job: Job, token?: string) => Promise<unknown>;
};

/**
 * Routes a job to its handler. A name without a handler fails for good (UnrecoverableError) rather
 * than being retried; a handler's error propagates so BullMQ retries it with backoff.
 */
export function dispatchJob<Q extends QueueName>(queue: Q, handlers: JobHandlers<Q>, job: Job, token?: string): Promise<unknown> {
  const handler = (handlers as Record<string, ((p: unknown, j: Job, t?: string) => Promise<unknown>) | undefined>)[job.name];
  if (!handler) throw new UnrecoverableError(`queue '${queue}' has no handler for job '${job.name}'`);
  return handler(job.data as JobMap[Q][keyof JobMap[Q]], job, token);
}
