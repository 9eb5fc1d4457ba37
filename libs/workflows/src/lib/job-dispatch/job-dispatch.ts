import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobProducer } from '@broker/bus';
import type { JobType, QueueName } from '@broker/contracts';
import type { JobEntity } from '@broker/registry';

/** The queue that runs each recorded job type (total: a new job type must name its queue). */
export const QUEUE_OF_RECORDED_JOB = {
  DELETE_PROVIDER: 'provider-deletion',
  STATS: 'stats',
  ROTATE_KEYS: 'key-rotation',
} as const satisfies Record<JobType, QueueName>;

/**
 * The one place a recorded job (the registry's `jobs` table) is put on its queue: by the registry
 * when a DELETE or a STATS request records one, by the worker when its reconciler finds an open
 * record without a queue entry or its start-up check records a key rotation. Always under the
 * record's own id (so a job queued again can never run twice at once), with ids only in the payload.
 */
@Injectable()
export class JobDispatch {
  private readonly queues: Record<(typeof QUEUE_OF_RECORDED_JOB)[JobType], Queue>;

  constructor(
    private readonly producer: JobProducer,
    @InjectQueue('provider-deletion') deletionQueue: Queue,
    @InjectQueue('stats') statsQueue: Queue,
    @InjectQueue('key-rotation') rotationQueue: Queue,
  ) {
    this.queues = { 'provider-deletion': deletionQueue, stats: statsQueue, 'key-rotation': rotationQueue };
  }

  /** The queue that runs this record's type. */
  queueOf(job: JobEntity): Queue {
    return this.queues[QUEUE_OF_RECORDED_JOB[job.type]];
  }

  /** Queues the recorded job (ids only in the payload); an org job without its org is never queued. */
  async enqueue(job: JobEntity): Promise<void> {
    const providerId = job.details.find((d) => d.name === 'provider_id')?.value ?? '';
    const options = { jobId: job.id };
    switch (job.type) {
      case 'DELETE_PROVIDER':
        if (job.orgId)
          await this.producer.enqueue(
            'provider-deletion',
            'DELETE_PROVIDER',
            { orgId: job.orgId, providerId, jobId: job.id },
            options,
          );
        return;
      case 'STATS':
        if (job.orgId)
          await this.producer.enqueue('stats', 'STATS', { orgId: job.orgId, jobId: job.id }, options);
        return;
      case 'ROTATE_KEYS':
        await this.producer.enqueue('key-rotation', 'ROTATE_KEYS', { jobId: job.id }, options);
        return;
    }
  }
}
