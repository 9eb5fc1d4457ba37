import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobPayload } from '@broker/contracts';
import { JobsService, SecureConfigsService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AuthorizationsService } from '@broker/tokens';
import { isOpen } from '../recorded-jobs';
import { ROTATION_TABLES, resumeFrom, rotationDetails } from './rotation-checkpoint';

/**
 * ROTATE_KEYS: re-wraps every client secret (registry) and token set (tokens) that is not under the
 * active key, in batches of `KEY_ROTATION_BATCH`, at most `KEY_ROTATION_ROWS_PER_SECOND` rows a
 * second (so the token path keeps its latency while a million rows are re-wrapped), each row by
 * compare-and-swap on its version (a concurrent update is never lost: that row is under the active
 * key already, or is taken by the next pass). The job's details are its progress and its
 * checkpoint (`checkpoint`: the table and last id done): a worker that dies mid-rotation resumes
 * after the last batch written.
 */
@Injectable()
export class KeyRotationWorkflow {
  private readonly logger = new Logger('KeyRotation');

  constructor(
    private readonly jobs: JobsService,
    private readonly secrets: SecureConfigsService,
    private readonly authorizations: AuthorizationsService,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async run({ jobId }: JobPayload<'key-rotation', 'ROTATE_KEYS'>): Promise<void> {
    // Only the system job the worker recorded (at start-up, under an advisory lock) runs.
    const record = await this.jobs.find(jobId);
    if (!isOpen(record) || record.type !== 'ROTATE_KEYS' || record.orgId !== null) {
      this.logger.warn(`ignored a ROTATE_KEYS job (${jobId}) that no recorded rotation matches`);
      return;
    }
    if (!(await this.jobs.start(jobId))) return;
    const resumed = resumeFrom(await this.jobs.find(jobId));
    const total = resumed.totals;
    const due = resumed.due ?? (await this.remaining());
    const details = (remaining: number, checkpoint: string) =>
      rotationDetails(total, due, remaining, checkpoint);
    const { rotationBatch, rotationRowsPerSecond } = this.config.bulk;
    const started = Date.now();
    let rows = 0;
    // One pass over each table in id order, from the checkpoint; rows changed meanwhile (conflicts) are due for the next pass.
    for (const table of ROTATION_TABLES.slice(ROTATION_TABLES.indexOf(resumed.table))) {
      const domain = table === 'credentials' ? this.authorizations : this.secrets;
      let afterId = table === resumed.table ? resumed.afterId : undefined;
      for (;;) {
        const batch = await domain.rewrapBatch(rotationBatch, afterId);
        total.rewrapped += batch.rewrapped;
        total.conflicts += batch.conflicts;
        total.failed += batch.failed;
        if (!batch.lastId) break;
        afterId = batch.lastId;
        await this.jobs.progress(jobId, details(due - total.rewrapped - total.failed, `${table}:${afterId}`));
        // The pace: never more than rotationRowsPerSecond on average since this run started.
        rows += batch.scanned;
        if (rotationRowsPerSecond > 0) {
          const wait = (rows / rotationRowsPerSecond) * 1000 - (Date.now() - started);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }
    }
    const remaining = await this.remaining();
    if (remaining > total.failed) {
      // The next attempt (BullMQ retry) starts over from the first table: only rows still due are touched.
      await this.jobs.progress(jobId, details(remaining, ''));
      throw new Error(
        `${remaining - total.failed} value(s) changed during the pass are still under an old key; another pass follows`,
      );
    }
    if (total.failed > 0) {
      // Fail closed: an undecryptable value is never re-encrypted or dropped; an operator must look.
      await this.jobs.fail(
        jobId,
        `${total.failed} value(s) do not decrypt (tampered or under a key missing from ENCRYPTION_KEYS)`,
        details(remaining, ''),
      );
      this.logger.error(`key rotation: ${total.failed} value(s) do not decrypt; they keep their old key`);
      return;
    }
    await this.jobs.complete(jobId, details(0, ''));
    this.logger.log(
      `key rotation done: ${total.rewrapped} value(s) re-wrapped, ${total.conflicts} concurrent update(s) re-read`,
    );
  }

  /** Values still under an old key, in both domains. */
  async remaining(): Promise<number> {
    return (await this.secrets.countDue()) + (await this.authorizations.countDue());
  }
}
