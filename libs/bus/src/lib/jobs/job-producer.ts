import type { Job, Queue } from 'bullmq';
import { JobName, JobPayload, QueueName } from '@broker/contracts';
import { reportQueueErrors } from '../redis-connection';
import { withTraceparent } from './job-trace';

export interface EnqueueOptions {
  /** Dedupe key: a job with the same id already waiting, delayed or active is not added again. */
  jobId: string;
  delayMs?: number;
}

/**
 * Adds typed jobs: the payload type follows from the queue and job name, so producers and
 * processors cannot disagree. Payloads carry ids only.
 */
export class JobProducer {
  constructor(private readonly queues: Record<QueueName, Queue>) {
    for (const [name, queue] of Object.entries(queues)) reportQueueErrors(queue, `queue ${name}`);
  }

  enqueue<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    payload: JobPayload<Q, N>,
    options: EnqueueOptions,
  ): Promise<Job> {
    if (options.jobId.includes(':')) throw new Error(`job id '${options.jobId}' must not contain ':'`);
    // The active span's traceparent rides along (tracing on), so the job's processing joins the trace.
    return this.queues[queue].add(name, withTraceparent(payload), {
      jobId: options.jobId,
      delay: options.delayMs,
    });
  }
}
