import type { JobsOptions, WorkerOptions } from 'bullmq';
import { QUEUE_SETTINGS, QueueName } from '@broker/contracts';

/** Default options of every job on `queue`: retries with jittered exponential backoff, bounded retention. */
export function defaultJobOptions(queue: QueueName): JobsOptions {
  const s = QUEUE_SETTINGS[queue];
  return {
    attempts: s.attempts,
    backoff: { type: 'exponential', delay: s.backoffMs, jitter: 0.5 },
    removeOnComplete: { count: s.keepCompleted },
    removeOnFail: { count: s.keepFailed },
  };
}

/** Worker options of `queue`'s processor: concurrency and stall detection from the settings table. */
export function processorOptions(queue: QueueName): Partial<WorkerOptions> {
  const s = QUEUE_SETTINGS[queue];
  // Stalled jobs (their worker died) are looked for as often as a lock can expire.
  return {
    concurrency: s.concurrency,
    lockDuration: s.lockDurationMs,
    stalledInterval: Math.min(s.lockDurationMs, 30_000),
    maxStalledCount: 3,
  };
}
