import type { DataSource } from 'typeorm';
import type { EnvelopeCipher } from '@broker/crypto';
import type { EventSink, ProviderAccess } from '../ports';
import { TokenPathParts, assembleTokenPath } from './assembly';
import type { AdmitCheck, ServedToken, TokenPathFaults, UsageRecorder } from './options';
import { DEFAULT_TOKEN_PATH_OPTIONS, TokenPathOptions } from './options';
import { authorizationMissing, requireActiveProvider } from './refusals';
import { lifetimeSeconds, refreshAheadNotDue } from './serveable';
import { afterRefreshPath, tokenObserver } from '../observability/token-observer';

/**
 * The hot path. A token with enough life left is decrypted and served: one indexed read, no
 * write, no provider call (and within `memoryTtlMs` of the last read, not even that: HotTokens).
 * Otherwise one refresh per authorization across every replica (RefreshFlight): callers in this
 * process share one promise; across processes a lease on the credential row, taken with a fencing
 * counter, decides who calls the provider (LeasedRefresh); the others poll the row.
 */
export class TokenPath {
  private readonly parts: TokenPathParts;

  constructor(
    dataSource: DataSource,
    cipher: EnvelopeCipher,
    private readonly providers: ProviderAccess,
    fetchImpl: typeof fetch,
    publish: EventSink,
    private readonly options: TokenPathOptions = DEFAULT_TOKEN_PATH_OPTIONS,
    private readonly recordUse: UsageRecorder = () => undefined,
    faults?: TokenPathFaults,
  ) {
    this.parts = assembleTokenPath({ dataSource, cipher, providers, fetchImpl, publish, options, faults });
  }

  /**
   * A token of the authorization valid for at least `minValiditySeconds` more, refreshing it if
   * needed, or a TokensError (GONE when the authorization needs re-consent). Bounded by `deadline`.
   * With `userId`, an authorization of another user is NOT_FOUND (checked before any refresh).
   * `admit`: the consumer's policy, asked with the authorization's facts before anything is served
   * or refreshed (it throws to refuse).
   */
  async acquire(
    orgId: string,
    authorizationId: string,
    minValiditySeconds?: number,
    deadline = Date.now() + 10_000,
    userId?: string,
    admit?: AdmitCheck,
  ): Promise<ServedToken> {
    const served = await this.serve(orgId, authorizationId, minValiditySeconds, deadline, userId, admit);
    this.recordUse(authorizationId, served.expiresAt?.getTime() ?? 0);
    return served;
  }

  private async serve(
    orgId: string,
    id: string,
    minValiditySeconds: number | undefined,
    deadline: number,
    userId?: string,
    admit?: AdmitCheck,
  ): Promise<ServedToken> {
    const { hot, credentials, serveable, flight } = this.parts;
    const remembered = hot.get(orgId, id);
    if (remembered) {
      const { token } = remembered;
      if (userId !== undefined && token.userId !== userId) throw authorizationMissing();
      await admit?.({ userId: token.userId, providerId: token.providerId, scopes: token.scopes });
      if (hot.lastsFor(remembered, minValiditySeconds)) {
        await requireActiveProvider(this.providers, orgId, token.providerId);
        tokenObserver.acquired('memory');
        return { ...token, refreshed: false };
      }
    }
    const row = await credentials.read(orgId, id);
    if (row && userId !== undefined && row.user_id !== userId) throw authorizationMissing();
    if (row) await admit?.({ userId: row.user_id, providerId: row.provider_id, scopes: row.scopes });
    if (row) await requireActiveProvider(this.providers, orgId, row.provider_id);
    // Without an explicit need, ask for a quarter of the token's lifetime (at most a minute): a
    // provider issuing 20-second tokens must not be refreshed on every call.
    const wanted = minValiditySeconds ?? Math.min(60, lifetimeSeconds(row) / 4);
    const min = Math.max(wanted, this.options.minimumServedSeconds);
    const served = serveable.from(row, id, min);
    if (served) {
      hot.remember(orgId, served, lifetimeSeconds(row));
      tokenObserver.acquired('database');
      return served;
    }
    return flight.refresh(orgId, id, min, deadline, row?.generation ?? 0).then(afterRefreshPath);
  }

  /** Drops what this process remembers of an authorization (its events, or another replica's). */
  forget(authorizationId: string): void {
    this.parts.hot.forget(authorizationId);
  }

  /** Drops everything remembered (e.g. after the event subscription was interrupted). */
  forgetAll(): void {
    this.parts.hot.clear();
  }

  /**
   * The worker's refresh ahead of expiry: refreshes when the row says it is due (null otherwise:
   * a job that comes early, forged or not, does nothing) unless someone already did since the job
   * was planned (then the row is newer and its token is served as it is). Asks for the token's whole
   * lifetime, which only a token written in the last few seconds counts as having.
   */
  async refreshAhead(orgId: string, id: string, minValiditySeconds: number): Promise<ServedToken | null> {
    const { credentials, serveable, flight } = this.parts;
    const row = await credentials.read(orgId, id);
    // The job that asks comes from Redis: only the row decides whether a refresh is due now.
    if (row?.status === 'active' && refreshAheadNotDue(row)) return null;
    const min = serveable.wholeLifetime(row, minValiditySeconds);
    const served = serveable.from(row, id, min);
    if (served) return served;
    return flight.refresh(orgId, id, min, Date.now() + this.options.leaseMs, row?.generation ?? 0);
  }

  /**
   * The worker's scheduled refresh of a token set it claimed from the schedule (`generation`: the
   * one claimed), through the same single-flight path as callers. `elsewhere` when the row was
   * rewritten by someone else (that write planned the next refresh); `not-refreshed` when the
   * provider failed transiently (the still-valid token stays). Dead or gone: TokensError. Acts on
   * the row only: the schedule is PostgreSQL's, never a job's word.
   */
  async refreshDue(
    orgId: string,
    id: string,
    generation: number,
  ): Promise<'refreshed' | 'elsewhere' | 'not-refreshed'> {
    const { credentials, serveable, flight } = this.parts;
    const row = await credentials.read(orgId, id);
    if (!row) throw authorizationMissing();
    if (row.generation !== generation) return 'elsewhere';
    const min = serveable.wholeLifetime(row, this.options.minimumServedSeconds);
    const served = await flight.refresh(orgId, id, min, Date.now() + this.options.leaseMs, generation);
    if (served.refreshed) return 'refreshed';
    const after = await credentials.read(orgId, id);
    return after && after.generation !== generation ? 'elsewhere' : 'not-refreshed';
  }

  /** Resolves every authorization's leftover refresh candidates (after a crash between keeping and adopting). */
  resolveAllCandidates(): Promise<number> {
    return this.parts.candidates.resolveAll();
  }

  /** Adopts or discards an authorization's refresh candidates; returns how many were adopted. */
  resolveCandidates(orgId: string, authorizationId: string): Promise<number> {
    return this.parts.candidates.resolve(orgId, authorizationId);
  }
}
