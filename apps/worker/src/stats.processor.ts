import { Processor } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { isOpen } from '@broker/workflows';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { AUTHORIZATION_STATUSES, AuthorizationStatus, JobDetail, JobPayload } from '@broker/contracts';
import { JobsService, ProvidersService } from '@broker/registry';
import { AuthorizationsService } from '@broker/tokens';

/**
 * STATS: per provider of the org, authorizations by status and refresh outcomes, stored in the job's
 * details as `provider.<id>.<status>` and `provider.<id>.refresh.succeeded|failed` (string values, as
 * the seed's `handler.keyValue`).
 */
@Injectable()
@Processor('stats', processorOptions('stats'))
export class StatsProcessor extends QueueProcessor<'stats'> {
  private readonly logger = new Logger('Stats');
  protected readonly queue = 'stats' as const;
  protected readonly handlers: JobHandlers<'stats'> = { STATS: (payload) => this.stats(payload) };

  constructor(
    private readonly providers: ProvidersService,
    private readonly jobs: JobsService,
    private readonly authorizations: AuthorizationsService,
  ) {
    super();
  }

  private async stats({ orgId, jobId }: JobPayload<'stats', 'STATS'>): Promise<void> {
    // Only a STATS job an org created through the API (its record) runs, and only for that org.
    const record = await this.jobs.find(jobId);
    if (!isOpen(record) || record.type !== 'STATS' || record.orgId !== orgId) {
      this.logger.warn(`ignored a STATS job (${jobId}) that no recorded job request matches`);
      return;
    }
    if (!(await this.jobs.start(jobId))) return;
    const providers = await this.providers.list(orgId, { orderBy: 'createdAt' });
    const rows = await this.authorizations.statsByProvider(orgId);
    const details: JobDetail[] = [
      { name: 'providers', value: String(providers.length) },
      { name: 'authorizations', value: String(rows.reduce((n, r) => n + r.count, 0)) },
    ];
    for (const provider of providers) {
      const mine = rows.filter((r) => r.providerId === provider.id);
      // While the provider is not active every authorization of it reads invalidProviderState (derived, as on the API).
      const countOf = (status: AuthorizationStatus) =>
        provider.status === 'active'
          ? (mine.find((r) => r.status === status)?.count ?? 0)
          : status === 'invalidProviderState'
            ? mine.reduce((n, r) => n + r.count, 0)
            : 0;
      for (const status of AUTHORIZATION_STATUSES)
        details.push({ name: `provider.${provider.id}.${status}`, value: String(countOf(status)) });
      details.push({
        name: `provider.${provider.id}.refresh.succeeded`,
        value: String(mine.reduce((n, r) => n + r.refreshSucceeded, 0)),
      });
      details.push({
        name: `provider.${provider.id}.refresh.failed`,
        value: String(mine.reduce((n, r) => n + r.refreshFailed, 0)),
      });
    }
    await this.jobs.complete(jobId, details);
  }
}
