import { Injectable, Logger } from '@nestjs/common';
import { JobsService, ProvidersService } from '@broker/registry';
import { JobDispatch } from '@broker/workflows';
import type { Sweeper } from './sweeper';

/** An open job record untouched this long is checked against its queue entry. */
const IDLE_AFTER_MS = 30_000;

/**
 * Keeps the job records (PostgreSQL) and the queues (Redis) in step: an open job whose queue entry
 * is missing (lost enqueue, flushed Redis) is queued again under its own id, so it can never run
 * twice at once; one whose queue entry failed for good is marked ERROR (and its provider
 * `deletion_failed`).
 */
@Injectable()
export class OpenJobsSweeper implements Sweeper {
  private readonly logger = new Logger('OpenJobsSweeper');

  constructor(
    private readonly jobs: JobsService,
    private readonly providers: ProvidersService,
    private readonly dispatch: JobDispatch,
  ) {}

  async sweep(): Promise<void> {
    for (const job of await this.jobs.idle(IDLE_AFTER_MS)) {
      const queued = await this.dispatch.queueOf(job).getJob(job.id);
      const state = queued ? await queued.getState() : 'missing';
      if (state === 'missing' || state === 'unknown' || state === 'completed') {
        // `completed` while the record is open: what ran under this id was not the recorded job
        // (a job forged into Redis finds nothing to do and ends): queue the real one again.
        if (queued && state === 'completed') await queued.remove();
        await this.dispatch.enqueue(job);
        this.logger.warn(`job ${job.id} (${job.type}) had no queue entry: queued again`);
      } else if (state === 'failed') {
        await this.jobs.fail(job.id, queued?.failedReason ?? 'failed');
        const providerId = job.details.find((d) => d.name === 'provider_id')?.value;
        if (job.type === 'DELETE_PROVIDER' && job.orgId && providerId)
          await this.providers.markDeletionFailed(job.orgId, providerId);
      }
    }
  }
}
