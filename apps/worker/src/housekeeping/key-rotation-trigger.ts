import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JobsService } from '@broker/registry';
import { JobDispatch, KeyRotationWorkflow } from '@broker/workflows';

/**
 * At start-up, when secrets or token sets are wrapped by a key that is no longer active, a
 * ROTATE_KEYS job is created (one at a time, under an advisory lock) and queued, so rotation needs
 * nothing but a config change and a restart.
 */
@Injectable()
export class KeyRotationTrigger implements OnApplicationBootstrap {
  private readonly logger = new Logger('KeyRotationTrigger');

  constructor(
    private readonly jobs: JobsService,
    private readonly rotation: KeyRotationWorkflow,
    private readonly dispatch: JobDispatch,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.scheduleIfDue().catch((err: Error) =>
      this.logger.warn(`rotation check failed: ${err.message}`),
    );
  }

  private async scheduleIfDue(): Promise<void> {
    const due = await this.rotation.remaining();
    if (due === 0) return;
    const job = await this.jobs.openSystemJob('ROTATE_KEYS');
    await this.dispatch.enqueue(job);
    this.logger.log(`${due} value(s) under an old encryption key: rotation job ${job.id} queued`);
  }
}
