import { Processor } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { ProviderDeletionWorkflow } from '@broker/workflows';

/**
 * The `provider-deletion` queue's consumer: a checked DELETE_PROVIDER payload goes to the
 * deletion workflow (`libs/workflows`) with which delivery this is (after the last one a failure
 * fails the job record for good).
 */
@Injectable()
@Processor('provider-deletion', processorOptions('provider-deletion'))
export class ProviderDeletionProcessor extends QueueProcessor<'provider-deletion'> {
  protected readonly queue = 'provider-deletion' as const;
  protected readonly handlers: JobHandlers<'provider-deletion'> = {
    DELETE_PROVIDER: (payload, job: Job) =>
      this.deletion.run(payload, {
        entryId: job.id,
        last: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      }),
  };

  constructor(private readonly deletion: ProviderDeletionWorkflow) {
    super();
  }
}
