import { Logger } from '@nestjs/common';
import { adapterFor } from '@broker/provider-adapters';
import { ProviderAccess } from '../ports';
import { TokensError } from '../tokens-error';
import { TokenPath } from '../token-path';
import { ClaimedRefresh, RefreshSchedule } from './refresh-schedule';
import { decide, retryAt } from './refresh-timing';

/** Runs one provider call under that provider's limits (concurrency, rate): the worker's Redis-backed gate. */
export interface ProviderGate {
  run<T>(providerId: string, fn: () => Promise<T>): Promise<T>;
}

export interface SweepOptions {
  /** Rows claimed per batch. */
  batch: number;
  /** Rows due within this many ms are taken now (a little early beats a little late). */
  lookaheadMs: number;
  /** How long claimed rows are held before another sweep may take them (a sweep that died). */
  holdMs: number;
  /** The sweep stops claiming after this long (the next scheduled sweep carries on). */
  budgetMs: number;
  /** Refreshes in flight at once in this sweep, over all providers. */
  concurrency: number;
}

export interface SweepReport {
  claimed: number;
  /** Refreshed because a caller used the token set since it was written. */
  refreshedInUse: number;
  /** Refreshed only to keep an idle grant alive at its provider. */
  refreshedKeepAlive: number;
  /** Idle rows moved to their keep-alive time. */
  deferred: number;
  /** Rows taken off the schedule (dead, no refresh token, nothing to keep alive). */
  dropped: number;
  /** Rows rewritten since they were claimed (nothing to do). */
  skipped: number;
  /** Transient failures, retried later. */
  failed: number;
  /** Rows handed back unprocessed because the sweep was stopping. */
  released: number;
  /** How late each refresh finished against its due time (ms; early ones count 0). */
  lagsMs: number[];
}

const PROVIDER_BLOCKED_RETRY_MS = 3_600_000;

/**
 * The worker's refresh sweep: claims due token sets from the schedule, decides for each whether it
 * is refreshed ahead (in use), kept alive (idle, its provider's idle window is near), moved to its
 * keep-alive time, or taken off the schedule, and refreshes through the token path's single flight
 * under each provider's limits. Everything it acts on comes from PostgreSQL.
 */
export class RefreshSweeper {
  private readonly logger = new Logger('RefreshSweep');

  constructor(
    private readonly schedule: RefreshSchedule,
    private readonly tokens: TokenPath,
    private readonly providers: ProviderAccess,
    private readonly gate: ProviderGate,
  ) {}

  async sweep(o: SweepOptions, stopping: () => boolean = () => false): Promise<SweepReport> {
    const report: SweepReport = {
      claimed: 0,
      refreshedInUse: 0,
      refreshedKeepAlive: 0,
      deferred: 0,
      dropped: 0,
      skipped: 0,
      failed: 0,
      released: 0,
      lagsMs: [],
    };
    const idleWindows = new Map<string, Promise<number | null>>();
    const idleOf = (c: ClaimedRefresh) => {
      const key = `${c.orgId}/${c.providerId}`;
      let known = idleWindows.get(key);
      if (!known) {
        known = this.providers(c.orgId, c.providerId).then(
          (p) => (p ? adapterFor(p.resolved).capabilities(p.resolved).refreshTokenIdleSeconds : null),
          // Unknown for now (registry unreachable): treat as the shortest common window rather than never.
          () => 14 * 86_400,
        );
        idleWindows.set(key, known);
      }
      return known;
    };
    const end = Date.now() + o.budgetMs;
    while (!stopping() && Date.now() < end) {
      const claims = await this.schedule.claim(o.batch, o.lookaheadMs, o.holdMs);
      if (!claims.length) break;
      report.claimed += claims.length;
      const now = Date.now();
      const moves: { claim: ClaimedRefresh; dueAt: Date | null }[] = [];
      const refresh: { claim: ClaimedRefresh; reason: 'in-use' | 'keep-alive' }[] = [];
      for (const claim of claims) {
        const keepAlive = {
          lastRefreshAt: claim.lastRefreshAt,
          idleSeconds: await idleOf(claim),
          refreshTokenExpiresAt: claim.refreshTokenExpiresAt,
        };
        const decision = decide(claim, keepAlive, now, o.lookaheadMs);
        if (decision.action === 'refresh') refresh.push({ claim, reason: decision.reason });
        else if (decision.action === 'later') {
          moves.push({ claim, dueAt: decision.at });
          report.deferred++;
        } else {
          moves.push({ claim, dueAt: null });
          report.dropped++;
        }
      }
      await this.schedule.reschedule(moves);
      const unprocessed: ClaimedRefresh[] = [];
      const outcomes: { claim: ClaimedRefresh; dueAt: Date | null }[] = [];
      await forEachLimited(refresh, o.concurrency, async ({ claim, reason }) => {
        if (stopping()) {
          unprocessed.push(claim);
          return;
        }
        const outcome = await this.gate.run(claim.providerId, () => this.refreshOne(claim));
        if (outcome === 'refreshed') {
          report.lagsMs.push(Math.max(0, Date.now() - claim.dueAt.getTime()));
          if (reason === 'in-use') report.refreshedInUse++;
          else report.refreshedKeepAlive++;
        } else if (outcome === 'skipped') report.skipped++;
        else {
          outcomes.push({ claim, dueAt: outcome.retryAt });
          if (outcome.retryAt) report.failed++;
          else report.dropped++;
        }
      });
      await this.schedule.reschedule(outcomes);
      if (unprocessed.length) {
        await this.schedule.release(unprocessed);
        report.released += unprocessed.length;
      }
    }
    return report;
  }

  private async refreshOne(
    claim: ClaimedRefresh,
  ): Promise<'refreshed' | 'skipped' | { retryAt: Date | null }> {
    try {
      const outcome = await this.tokens.refreshDue(claim.orgId, claim.authorizationId, claim.generation);
      if (outcome === 'refreshed') return 'refreshed';
      if (outcome === 'elsewhere') return 'skipped';
      // The provider failed transiently (the token path kept the still-valid token and audited why).
      return { retryAt: retryAt(claim.dueAt, Date.now()) };
    } catch (err) {
      if (err instanceof TokensError) {
        // Dead (the token path recorded why) or gone: nothing more to plan.
        if (err.code === 'GONE' || err.code === 'NOT_FOUND') return { retryAt: null };
        // Blocked by its provider's status: look again in an hour (a re-activation and a caller come sooner).
        if (err.code === 'FORBIDDEN') return { retryAt: new Date(Date.now() + PROVIDER_BLOCKED_RETRY_MS) };
      }
      this.logger.debug(
        `refresh of authorization ${claim.authorizationId} failed, retried later: ${(err as Error).message}`,
      );
      return { retryAt: retryAt(claim.dueAt, Date.now()) };
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function forEachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}
