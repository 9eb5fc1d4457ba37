import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobPayload } from '@broker/contracts';
import { JobsService, ProvidersService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { ProviderAuthorizationsRemoval, forEachLimited } from '@broker/tokens';
import { detailOf, isOpen } from '../recorded-jobs';
import { UpstreamRevoker } from '../revocation/upstream-revoker';
import { LISTED_IDS, checkpointOf, deletionDetails } from './deletion-checkpoint';

/** Which delivery of the queue entry this run is (the processor reads it from BullMQ). */
export interface DeletionAttempt {
  /** The queue entry's id, for log lines. */
  entryId: string | undefined;
  /** No retry follows if this run fails: the job record then fails for good. */
  last: boolean;
}

/**
 * DELETE_PROVIDER: revokes (best effort, `DELETION_REVOKE_CONCURRENCY` calls at once) and removes
 * every authorization of the provider in batches of `DELETION_BATCH`, then its secret, then the
 * provider. Each batch is committed with its audit rows and announced (`authorization.revoked`);
 * the job's details are its checkpoint and progress (`total`, `removed`, `remaining`, `revoked`).
 * A worker that dies mid-job hands it to another (or to itself after a restart), which carries on
 * with what is left: only the batch in flight is revoked again (revocation is idempotent). After
 * the last attempt the job is ERROR and the provider `deletion_failed` (a new DELETE retries).
 *
 * Each removed authorization is announced (a signed `authorization.revoked`, as an unlink is, with
 * the same `unlinked` audit entry that confirms it), so the token-brokers' memory, the consumers'
 * caches and the webhooks learn at once instead of serving from memory until it expires.
 */
@Injectable()
export class ProviderDeletionWorkflow {
  private readonly logger = new Logger('ProviderDeletion');

  constructor(
    private readonly providers: ProvidersService,
    private readonly jobs: JobsService,
    private readonly removal: ProviderAuthorizationsRemoval,
    private readonly revoker: UpstreamRevoker,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async run(
    { orgId, providerId, jobId }: JobPayload<'provider-deletion', 'DELETE_PROVIDER'>,
    attempt: DeletionAttempt,
  ): Promise<void> {
    // Job data comes from Redis: act only on a deletion a DELETE recorded (the job record names the
    // org and provider) of a provider that is being deleted. A forged job finds nothing to do.
    const record = await this.jobs.find(jobId);
    if (
      !isOpen(record) ||
      record.type !== 'DELETE_PROVIDER' ||
      record.orgId !== orgId ||
      detailOf(record, 'provider_id') !== providerId
    ) {
      this.logger.warn(
        `ignored a DELETE_PROVIDER job (${attempt.entryId}) that no recorded deletion request matches`,
      );
      return;
    }
    const current = await this.providers.find(orgId, providerId);
    if (current && current.status !== 'deleting') {
      this.logger.warn(
        `ignored a DELETE_PROVIDER job (${attempt.entryId}): provider ${providerId} is ${current.status}, not being deleted`,
      );
      return;
    }
    if (!(await this.jobs.start(jobId))) return; // finished already (a duplicate delivery)
    const remainingAtStart = await this.removal.remaining(orgId, providerId);
    const cp = checkpointOf(record, remainingAtStart);
    const details = (remaining: number) => deletionDetails(providerId, cp, remaining);
    try {
      // Removals committed before a crash but not yet announced are announced first.
      const pending = await this.removal.announcePending(orgId, jobId, cp.announcedThrough);
      if (pending.announced)
        this.logger.log(
          `deletion of provider ${providerId}: ${pending.announced} removal(s) announced after a restart`,
        );
      cp.announcedThrough = pending.lastAuditId;
      await this.jobs.progress(jobId, details(remainingAtStart));
      const provider = await this.providers.find(orgId, providerId);
      if (provider) {
        const revoke = await this.revoker.forProvider(provider);
        for (;;) {
          const batch = await this.removal.nextBatch(orgId, providerId, this.config.bulk.deletionBatch);
          if (!batch.length) break;
          await forEachLimited(batch, this.config.bulk.revokeConcurrency, async (a) => {
            if (revoke && a.token && (await revoke(a.token, a.id))) cp.revoked++;
          });
          const { removed, lastAuditId } = await this.removal.removeBatch(orgId, providerId, jobId, batch);
          for (const id of removed) if (cp.ids.length < LISTED_IDS) cp.ids.push(id);
          if (lastAuditId) cp.announcedThrough = lastAuditId;
          await this.jobs.progress(jobId, details(await this.removal.remaining(orgId, providerId)));
        }
        await this.providers.removeDeleted(orgId, providerId);
      }
      await this.jobs.complete(jobId, details(0));
      this.logger.log(
        `provider ${providerId} deleted with ${cp.total} authorization(s), ${cp.revoked} revoked upstream`,
      );
    } catch (err) {
      if (attempt.last) {
        await this.jobs.fail(
          jobId,
          (err as Error).message ?? 'deletion failed',
          details(await this.removal.remaining(orgId, providerId).catch(() => 0)),
        );
        await this.providers.markDeletionFailed(orgId, providerId);
        this.logger.error(`deletion of provider ${providerId} failed for good: ${(err as Error).message}`);
      }
      throw err;
    }
  }
}
