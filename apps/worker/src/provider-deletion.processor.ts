import { Processor } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { JobPayload } from '@broker/contracts';
import { JobEntity, JobsService, ProvidersService } from '@broker/registry';
import { AuthorizationsService, EVENT_SINK, EventSink } from '@broker/tokens';
import { UpstreamRevoker } from './upstream-revoker';

/**
 * DELETE_PROVIDER: revokes (best effort) and removes every authorization of the provider, then its
 * secret, then the provider. Each step is idempotent, so a retry (or another worker picking the job
 * up after this one died) carries on where it stopped. After the last attempt the job is ERROR and
 * the provider `deletion_failed` (a new DELETE retries).
 *
 * Each removed authorization is announced (a signed `authorization.revoked`, as an unlink is, with
 * the same `unlinked` audit entry that confirms it), so the token-brokers' memory, the consumers'
 * caches and the webhooks learn at once instead of serving from memory until it expires.
 */
@Injectable()
@Processor('provider-deletion', processorOptions('provider-deletion'))
export class ProviderDeletionProcessor extends QueueProcessor<'provider-deletion'> {
  private readonly logger = new Logger('ProviderDeletion');
  protected readonly queue = 'provider-deletion' as const;
  protected readonly handlers: JobHandlers<'provider-deletion'> = {
    DELETE_PROVIDER: (payload, job) => this.deleteProvider(payload, job),
  };

  constructor(
    private readonly providers: ProvidersService,
    private readonly jobs: JobsService,
    private readonly authorizations: AuthorizationsService,
    private readonly revoker: UpstreamRevoker,
    @Inject(EVENT_SINK) private readonly publish: EventSink,
  ) {
    super();
  }

  private async deleteProvider({ orgId, providerId, jobId }: JobPayload<'provider-deletion', 'DELETE_PROVIDER'>, job: Job): Promise<void> {
    // Job data comes from Redis: act only on a deletion a DELETE recorded (the job record names the
    // org and provider) of a provider that is being deleted. A forged job finds nothing to do.
    const record = await this.jobs.find(jobId);
    if (!isOpen(record) || record.type !== 'DELETE_PROVIDER' || record.orgId !== orgId || detail(record, 'provider_id') !== providerId) {
      this.logger.warn(`ignored a DELETE_PROVIDER job (${job.id}) that no recorded deletion request matches`);
      return;
    }
    const current = await this.providers.find(orgId, providerId);
    if (current && current.status !== 'deleting') {
      this.logger.warn(`ignored a DELETE_PROVIDER job (${job.id}): provider ${providerId} is ${current.status}, not being deleted`);
      return;
    }
    if (!(await this.jobs.start(jobId))) return; // finished already (a duplicate delivery)
    const removed = new Set(detail(record, 'authorization_ids')?.split(',').filter(Boolean) ?? []);
    let revoked = Number(detail(record, 'revoked') ?? 0);
    const details = () => [
      { name: 'provider_id', value: providerId },
      { name: 'authorization_ids', value: [...removed].join(',') },
      { name: 'revoked', value: String(revoked) },
    ];
    try {
      const provider = await this.providers.find(orgId, providerId);
      if (provider) {
        for (const authorization of await this.authorizations.forProvider(orgId, providerId)) {
          const upstream = await this.revoker.revokeBestEffort(provider, authorization);
          if (upstream) revoked++;
          await this.authorizations.unlink(orgId, authorization.id, `provider deleted; ${upstream ? 'revoked at the provider' : 'not revoked at the provider'}`);
          removed.add(authorization.id);
          await this.publish({
            type: 'authorization.revoked',
            orgId,
            authorizationId: authorization.id,
            providerId,
            userId: authorization.userId,
            status: authorization.status,
            at: new Date().toISOString(),
          });
          await this.jobs.progress(jobId, details());
        }
        await this.providers.removeDeleted(orgId, providerId);
      }
      await this.jobs.complete(jobId, details());
      this.logger.log(`provider ${providerId} deleted with ${removed.size} authorization(s), ${revoked} revoked upstream`);
    } catch (err) {
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        await this.jobs.fail(jobId, (err as Error).message ?? 'deletion failed', details());
        await this.providers.markDeletionFailed(orgId, providerId);
        this.logger.error(`deletion of provider ${providerId} failed for good: ${(err as Error).message}`);
      }
      throw err;
    }
  }
}

/** A job record that is still to be done (a finished or unknown one is never acted on again). */
export function isOpen(record: JobEntity | null): record is JobEntity {
  return !!record && (record.status === 'PENDING' || record.status === 'RUNNING');
}

function detail(record: JobEntity, name: string): string | undefined {
  return record.details.find((d) => d.name === name)?.value;
}
