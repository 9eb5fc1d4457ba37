import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobProducer } from '@broker/bus';
import type { JobEntity } from '@broker/registry';

/**
 * The queue of a recorded job (the registry's `jobs` table) and how it is queued: under the
 * record's own id, so a job queued again can never run twice at once.
 */
@Injectable()
export class JobDispatch {
  constructor(
    private readonly producer: JobProducer,
    @InjectQueue('provider-deletion') private readonly deletionQueue: Queue,
    @InjectQueue('stats') private readonly statsQueue: Queue,
    @InjectQueue('key-rotation') private readonly rotationQueue: Queue,
  ) {}

  /** The queue that runs this record's type. */
  queueOf(job: JobEntity): Queue {
    return job.type === 'DELETE_PROVIDER'
      ? this.deletionQueue
      : job.type === 'STATS'
        ? this.statsQueue
        : this.rotationQueue;
  }

  /** Queues the recorded job (ids only in the payload). */
  async enqueue(job: JobEntity): Promise<void> {
    const providerId = job.details.find((d) => d.name === 'provider_id')?.value ?? '';
    if (job.type === 'DELETE_PROVIDER' && job.orgId) {
      await this.producer.enqueue(
        'provider-deletion',
        'DELETE_PROVIDER',
        { orgId: job.orgId, providerId, jobId: job.id },
        { jobId: job.id },
      );
    } else if (job.type === 'STATS' && job.orgId) {
      await this.producer.enqueue('stats', 'STATS', { orgId: job.orgId, jobId: job.id }, { jobId: job.id });
    } else if (job.type === 'ROTATE_KEYS') {
      await this.producer.enqueue('key-rotation', 'ROTATE_KEYS', { jobId: job.id }, { jobId: job.id });
    }
  }
}
