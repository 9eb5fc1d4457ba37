import { InjectQueue, Processor } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { JobPayload } from '@broker/contracts';
import type { ResolvedProvider } from '@broker/provider-adapters';
import { ProvidersService, SecureConfigsService, toOAuthProvider } from '@broker/registry';
import { LoadingCache, SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { ProviderCredentials, RefreshSweeper, SweepReport, TokenPath, TokensError } from '@broker/tokens';

/** Refresh-ahead needs at least this much life left after refreshing to be worth it. */
const AHEAD_MIN_VALIDITY_SECONDS = 5;
/** The job scheduler of the sweep: one per cluster (BullMQ keys it by this id on the queue). */
export const REFRESH_SWEEP_SCHEDULER = 'refresh-sweep';
/** How often a worker checks that the sweep's scheduler still exists (a Redis flush removes it). */
const SCHEDULER_CHECK_MS = 30_000;

/**
 * The token-refresh queue:
 * - SWEEP_DUE_REFRESHES, every few seconds from a job scheduler: the refresh sweep over the
 *   PostgreSQL schedule (see RefreshSweeper). A lost run (crash, shutdown, Redis flush) loses
 *   nothing: the rows stay due and the next run takes them; the scheduler itself is re-created at
 *   start-up and whenever a worker finds it missing.
 * - REFRESH_AUTHORIZATION: per-token jobs queued by an older version; refreshes through the same
 *   single-flight path as callers, only when the token row says a refresh is due (a job that comes
 *   early, forged into Redis or a stale duplicate, does nothing). A dead authorization ends it; a
 *   transient failure is retried.
 */
@Injectable()
@Processor('token-refresh', processorOptions('token-refresh'))
export class TokenRefreshProcessor
  extends QueueProcessor<'token-refresh'>
  implements BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('TokenRefresh');
  protected readonly queue = 'token-refresh' as const;
  protected readonly handlers: JobHandlers<'token-refresh'> = {
    REFRESH_AUTHORIZATION: (payload) => this.refresh(payload),
    SWEEP_DUE_REFRESHES: () => this.sweep(),
  };
  private stopping = false;
  private checker?: NodeJS.Timeout;

  constructor(
    private readonly tokens: TokenPath,
    private readonly sweeper: RefreshSweeper,
    @InjectQueue('token-refresh') private readonly refreshQueue: Queue,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    super();
  }

  override async onApplicationBootstrap(): Promise<void> {
    await super.onApplicationBootstrap();
    await this.ensureScheduler();
    this.checker = setInterval(
      () =>
        void this.ensureScheduler(true).catch((err: Error) =>
          this.logger.warn(`sweep scheduler check failed: ${err.message}`),
        ),
      SCHEDULER_CHECK_MS,
    );
    this.checker.unref();
  }

  override async beforeApplicationShutdown(): Promise<void> {
    // A sweep in progress hands its unprocessed rows back and ends, so the worker can close.
    this.stopping = true;
    clearInterval(this.checker);
    await super.beforeApplicationShutdown();
  }

  onApplicationShutdown(): void {
    clearInterval(this.checker);
  }

  /** Creates the sweep's job scheduler (idempotent); with `onlyIfMissing`, only when it is gone. */
  async ensureScheduler(onlyIfMissing = false): Promise<void> {
    if (onlyIfMissing && (await this.refreshQueue.getJobScheduler(REFRESH_SWEEP_SCHEDULER))) return;
    await this.refreshQueue.upsertJobScheduler(
      REFRESH_SWEEP_SCHEDULER,
      { every: this.config.refresh.sweepEverySeconds * 1000 },
      { name: 'SWEEP_DUE_REFRESHES', data: {} },
    );
    if (onlyIfMissing)
      this.logger.warn('the refresh sweep scheduler was missing (Redis flushed?): created again');
  }

  private async sweep(): Promise<SweepReport> {
    const every = this.config.refresh.sweepEverySeconds * 1000;
    const report = await this.sweeper.sweep(
      {
        batch: 200,
        lookaheadMs: this.config.refresh.lookaheadSeconds * 1000,
        // Claimed rows come back to the schedule after this if the sweep dies with them.
        holdMs: 60_000,
        // Long enough to drain a wave; the next run (every few seconds) takes over after it.
        budgetMs: Math.max(every * 4, 20_000),
        concurrency: 64,
      },
      () => this.stopping,
    );
    const refreshed = report.refreshedInUse + report.refreshedKeepAlive;
    if (refreshed || report.failed || report.dropped) {
      const lags = [...report.lagsMs].sort((a, b) => a - b);
      const lag = lags.length
        ? `; lag p50 ${lags[Math.floor(lags.length / 2)]} ms, max ${lags[lags.length - 1]} ms`
        : '';
      this.logger.log(
        `sweep: ${report.claimed} claimed, ${report.refreshedInUse} refreshed ahead, ${report.refreshedKeepAlive} kept alive, ${report.deferred} deferred to keep-alive, ` +
          `${report.dropped} off the schedule, ${report.failed} failed (retried later)${lag}`,
      );
    }
    return { ...report, lagsMs: [] };
  }

  private async refresh({
    orgId,
    authorizationId,
  }: JobPayload<'token-refresh', 'REFRESH_AUTHORIZATION'>): Promise<void> {
    try {
      const served = await this.tokens.refreshAhead(orgId, authorizationId, AHEAD_MIN_VALIDITY_SECONDS);
      if (!served) this.logger.log(`authorization ${authorizationId}: no refresh due yet; job ignored`);
    } catch (err) {
      // Dead, gone, or blocked by its provider's status (the next acquire after a re-activation refreshes and schedules again).
      if (
        err instanceof TokensError &&
        (err.code === 'GONE' || err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN')
      ) {
        this.logger.log(`authorization ${authorizationId} is not refreshable now (${err.code})`);
        return;
      }
      throw err;
    }
  }
}

/** How long the worker reuses a provider's credentials it read (its refreshes come in waves). */
const PROVIDER_CACHE_MS = 5_000;

/**
 * Provider credentials for the worker's refreshes, straight from the registry domain lib, kept for
 * a few seconds so a wave of refreshes of one provider reads and decrypts its secret once, not once
 * per refresh (`fresh` bypasses it).
 */
export function registryProviderAccess(providers: ProvidersService, secrets: SecureConfigsService) {
  const cache = new LoadingCache<string, ProviderCredentials | null>({
    max: 1_000,
    ttlMs: PROVIDER_CACHE_MS,
  });
  const load = async (orgId: string, providerId: string): Promise<ProviderCredentials | null> => {
    const provider = await providers.find(orgId, providerId);
    if (!provider?.secureConfigId) return null;
    const clientSecret = await secrets.reveal(orgId, provider.secureConfigId);
    if (clientSecret === null) return null;
    return {
      provider: toOAuthProvider(provider),
      resolved: provider.resolved as ResolvedProvider,
      clientSecret,
      ...(provider.githubApp ? { githubApp: provider.githubApp } : {}),
    };
  };
  return (
    orgId: string,
    providerId: string,
    options?: { fresh?: boolean },
  ): Promise<ProviderCredentials | null> =>
    cache.get(`${orgId}/${providerId}`, () => load(orgId, providerId), { fresh: options?.fresh });
}
