import { Processor } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { JobPayload } from '@broker/contracts';
import { JobsService, SecureConfigsService } from '@broker/registry';
import { AuthorizationsService } from '@broker/tokens';
import { isOpen } from './provider-deletion.processor';

const BATCH = 100;

/**
 * ROTATE_KEYS: re-wraps every client secret and token set that is not under the active key, in
 * batches, each row by compare-and-swap on its version (a concurrent update is never lost: the
 * row is skipped and taken again by the next batch if still due). Progress is in the job's details.
 */
@Injectable()
@Processor('key-rotation', processorOptions('key-rotation'))
export class KeyRotationProcessor extends QueueProcessor<'key-rotation'> {
  private readonly logger = new Logger('KeyRotation');
  protected readonly queue = 'key-rotation' as const;
  protected readonly handlers: JobHandlers<'key-rotation'> = { ROTATE_KEYS: (payload) => this.rotate(payload) };

  constructor(
    private readonly jobs: JobsService,
    private readonly secrets: SecureConfigsService,
    private readonly authorizations: AuthorizationsService,
  ) {
    super();
  }

  private async rotate({ jobId }: JobPayload<'key-rotation', 'ROTATE_KEYS'>): Promise<void> {
    // Only the system job the worker recorded (at start-up, under an advisory lock) runs.
    const record = await this.jobs.find(jobId);
    if (!isOpen(record) || record.type !== 'ROTATE_KEYS' || record.orgId !== null) {
      this.logger.warn(`ignored a ROTATE_KEYS job (${jobId}) that no recorded rotation matches`);
      return;
    }
    if (!(await this.jobs.start(jobId))) return;
    const total = { rewrapped: 0, conflicts: 0, failed: 0 };
    const details = (remaining: number) => [
      { name: 'rewrapped', value: String(total.rewrapped) },
      { name: 'conflicts', value: String(total.conflicts) },
      { name: 'undecryptable', value: String(total.failed) },
      { name: 'remaining', value: String(remaining) },
    ];
    // One pass over each table in id order; rows changed meanwhile (conflicts) are due for the next pass.
    for (const domain of [this.secrets, this.authorizations]) {
      let afterId: string | undefined;
      for (;;) {
        const batch = await domain.rewrapBatch(BATCH, afterId);
        total.rewrapped += batch.rewrapped;
        total.conflicts += batch.conflicts;
        total.failed += batch.failed;
        await this.jobs.progress(jobId, details(await this.remaining()));
        if (!batch.lastId) break;
        afterId = batch.lastId;
      }
    }
    const remaining = await this.remaining();
    if (remaining > total.failed) throw new Error(`${remaining - total.failed} value(s) changed during the pass are still under an old key; another pass follows`);
    if (total.failed > 0) {
      // Fail closed: an undecryptable value is never re-encrypted or dropped; an operator must look.
      await this.jobs.fail(jobId, `${total.failed} value(s) do not decrypt (tampered or under a key missing from ENCRYPTION_KEYS)`, details(remaining));
      this.logger.error(`key rotation: ${total.failed} value(s) do not decrypt; they keep their old key`);
      return;
    }
    await this.jobs.complete(jobId, details(0));
    this.logger.log(`key rotation done: ${total.rewrapped} value(s) re-wrapped, ${total.conflicts} concurrent update(s) re-read`);
  }

  private async remaining(): Promise<number> {
    return (await this.secrets.countDue()) + (await this.authorizations.countDue());
  }
}
