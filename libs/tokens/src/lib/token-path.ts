import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuthorizationStatus, BrokerEventType } from '@broker/contracts';
import { EncryptionContext, EnvelopeCipher } from '@broker/crypto';
import { ProviderCallError, ProviderTokenSet, refreshTokens } from '@broker/provider-adapters';
import { EventSink, ProviderAccess, TokensError, refreshAheadDue } from './provider-access';
import { aheadDueAt } from './refresh/refresh-timing';
import { afterRefreshPath, refreshResultOf, tokenObserver } from './observability/token-observer';

const CREDENTIALS = 'tokens.credentials';
const CANDIDATES = 'tokens.refresh_candidates';

export interface TokenPathOptions {
  /** How long a refresh lease lasts (another replica may take over after it). */
  leaseMs: number;
  /**
   * Hard timeout of the provider call. The holder renews its lease every quarter lease while the
   * call runs, so a slow but live call keeps the lease (no second refresh spends the same refresh
   * token); a holder that dies stops renewing and its lease lapses within `leaseMs`.
   */
  providerTimeoutMs: number;
  /** How often a caller waiting on another replica's refresh re-reads the row. */
  pollMs: number;
  /** A token is never served with less life than this, whatever the caller accepts. */
  minimumServedSeconds: number;
  /**
   * How long a decrypted token may be served from this process's memory without reading the row
   * again. Every change this process makes, and every broker event from other replicas, drops the
   * entry at once; this bound covers a missed event.
   */
  memoryTtlMs: number;
}

export const DEFAULT_TOKEN_PATH_OPTIONS: TokenPathOptions = { leaseMs: 20_000, providerTimeoutMs: 45_000, pollMs: 50, minimumServedSeconds: 5, memoryTtlMs: 2_000 };

/**
 * Fault injection for end-to-end tests (never wired in production): lets a test stop a replica at
 * the worst moment, between the provider's answer and the database write.
 */
export interface TokenPathFaults {
  afterProviderAnswer?: () => Promise<void>;
}

/**
 * Told of every token served to a caller (authorization id, and the served token's expiry as the
 * token set's identity): the refresh schedule refreshes ahead only what is in use.
 */
export type UsageRecorder = (authorizationId: string, tokenSetKey: number) => void;
/** The consumer's policy as the token path asks it: throws to refuse serving this authorization's token. */
export type AdmitCheck = (facts: { userId: string; providerId: string; scopes: string[] }) => Promise<void>;

/** Provider of `TokenPathFaults` (optional). */
export const TOKEN_PATH_FAULTS = Symbol('TOKEN_PATH_FAULTS');

/** An access token handed to a caller, with what it belongs to. */
export interface ServedToken {
  accessToken: string;
  tokenType: string;
  expiresAt: Date | null;
  authorizationId: string;
  providerId: string;
  userId: string;
  scopes: string[];
  /** The rest of the authorization row, so a REST answer needs no second read. */
  oauthClientId: string;
  credentialId: string;
  createdAt: Date;
  refreshTokenExpiresAt: Date | null;
  /** Whether this call refreshed it (for metrics and tests). */
  refreshed: boolean;
}

interface Row {
  org_id: string;
  status: AuthorizationStatus;
  provider_id: string;
  user_id: string;
  scopes: string[];
  oauth_client_id: string;
  created_at: Date;
  refresh_token_expires_at: Date | null;
  credential_id: string | null;
  access_token: string | null;
  refresh_token: string | null;
  token_type: string | null;
  expires_at: Date | null;
  generation: number | null;
  lease_until: Date | null;
  updated_at: Date | null;
}

interface Lease {
  id: string;
  fence: string;
  generation: number;
  refresh_token: string | null;
  /** Set when the previous holder's lease lapsed unreleased: it stopped (crashed) mid-refresh. */
  abandoned_until: Date | null;
}

/**
 * The hot path. A token with enough life left is decrypted and served: one indexed read, no
 * write, no provider call. Otherwise one refresh per authorization across every replica: callers
 * in this process share one promise; across processes a lease on the credential row, taken with a
 * fencing counter, decides who calls the provider; the others poll the row. The new tokens are
 * written first thing, by compare-and-swap on (fence, generation); a holder that lost its lease
 * keeps them as an encrypted candidate that a resolver adopts if nobody else moved the row on.
 */
export class TokenPath {
  private readonly inflight = new Map<string, Promise<ServedToken>>();
  /** Recently served tokens (decrypted) by authorization id: the hot path skips the database. */
  private readonly memory = new Map<string, { orgId: string; token: ServedToken; lifetime: number; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
    private readonly providers: ProviderAccess,
    private readonly fetchImpl: typeof fetch,
    private readonly publish: EventSink,
    private readonly options: TokenPathOptions = DEFAULT_TOKEN_PATH_OPTIONS,
    private readonly recordUse: UsageRecorder = () => undefined,
    private readonly faults?: TokenPathFaults,
  ) {}

  /**
   * A token of the authorization valid for at least `minValiditySeconds` more, refreshing it if
   * needed, or a TokensError (GONE when the authorization needs re-consent). Bounded by `deadline`.
   * With `userId`, an authorization of another user is NOT_FOUND (checked before any refresh).
   * `admit`: the consumer's policy, asked with the authorization's facts before anything is served
   * or refreshed (it throws to refuse).
   */
  async acquire(orgId: string, authorizationId: string, minValiditySeconds?: number, deadline = Date.now() + 10_000, userId?: string, admit?: AdmitCheck): Promise<ServedToken> {
    const served = await this.acquireToken(orgId, authorizationId, minValiditySeconds, deadline, userId, admit);
    this.recordUse(authorizationId, served.expiresAt?.getTime() ?? 0);
    return served;
  }

  private async acquireToken(orgId: string, authorizationId: string, minValiditySeconds: number | undefined, deadline: number, userId: string | undefined, admit: AdmitCheck | undefined): Promise<ServedToken> {
    const hot = this.memory.get(authorizationId);
    if (hot && hot.orgId === orgId && hot.until > Date.now()) {
      if (userId !== undefined && hot.token.userId !== userId) throw new TokensError('NOT_FOUND', 'authorization not found');
      await admit?.({ userId: hot.token.userId, providerId: hot.token.providerId, scopes: hot.token.scopes });
      const want = Math.max(minValiditySeconds ?? Math.min(60, hot.lifetime / 4), this.options.minimumServedSeconds);
      const need = Math.min(want, Math.max(hot.lifetime - 5, this.options.minimumServedSeconds));
      if (remaining(hot.token.expiresAt) >= need) {
        await this.requireActiveProvider(orgId, hot.token.providerId);
        tokenObserver.acquired('memory');
        return { ...hot.token, refreshed: false };
      }
    }
    const row = await this.read(orgId, authorizationId);
    if (row && userId !== undefined && row.user_id !== userId) throw new TokensError('NOT_FOUND', 'authorization not found');
    if (row) await admit?.({ userId: row.user_id, providerId: row.provider_id, scopes: row.scopes });
    if (row) await this.requireActiveProvider(orgId, row.provider_id);
    // Without an explicit need, ask for a quarter of the token's lifetime (at most a minute): a
    // provider issuing 20-second tokens must not be refreshed on every call.
    const wanted = minValiditySeconds ?? Math.min(60, lifetimeSeconds(row) / 4);
    const min = Math.max(wanted, this.options.minimumServedSeconds);
    const served = this.serveable(row, authorizationId, min);
    if (served) {
      this.remember(orgId, served, lifetimeSeconds(row));
      tokenObserver.acquired('database');
      return served;
    }
    return this.singleFlight(orgId, authorizationId, min, deadline, row?.generation ?? 0).then(afterRefreshPath);
  }

  /**
   * A provider that is not `active` (an admin marked it `invalid`, or it is being deleted) serves
   * none of its stored tokens: FORBIDDEN, checked on every path before a token leaves (the hot
   * path included). The authorization itself is left as it is, so re-activating the provider
   * serves its tokens again without a new consent. The provider's status comes from the
   * ProviderAccess port (cached briefly in the token-broker, dropped at once on a provider change).
   */
  private async requireActiveProvider(orgId: string, providerId: string): Promise<void> {
    const credentials = await this.providers(orgId, providerId);
    if (!credentials) throw new TokensError('NOT_FOUND', 'the provider of this authorization no longer exists');
    if (credentials.provider.status !== 'active') throw providerBlocked(credentials.provider.status);
  }

  /** Drops what this process remembers of an authorization (its events, or another replica's). */
  forget(authorizationId: string): void {
    this.memory.delete(authorizationId);
  }

  /** Drops everything remembered (e.g. after the event subscription was interrupted). */
  forgetAll(): void {
    this.memory.clear();
  }

  private remember(orgId: string, token: ServedToken, lifetime: number): void {
    if (this.options.memoryTtlMs <= 0) return;
    if (this.memory.size > 50_000) this.memory.clear();
    this.memory.set(token.authorizationId, { orgId, token: { ...token, refreshed: false }, lifetime, until: Date.now() + this.options.memoryTtlMs });
  }

  /**
   * The worker's refresh ahead of expiry: refreshes when the row says it is due (null otherwise:
   * a job that comes early, forged or not, does nothing) unless someone already did since the job
   * was planned (then the row is newer and its token is served as it is). Asks for the token's whole
   * lifetime, which only a token written in the last few seconds counts as having.
   */
  async refreshAhead(orgId: string, authorizationId: string, minValiditySeconds: number): Promise<ServedToken | null> {
    const row = await this.read(orgId, authorizationId);
    // The job that asks comes from Redis: only the row decides whether a refresh is due now.
    if (row?.status === 'active' && !(row.expires_at && row.updated_at && refreshAheadDue(row.updated_at, row.expires_at))) return null;
    const lifetime = lifetimeSeconds(row);
    const min = Math.max(Number.isFinite(lifetime) ? lifetime : minValiditySeconds, this.options.minimumServedSeconds);
    const served = this.serveable(row, authorizationId, min);
    if (served) return served;
    return this.singleFlight(orgId, authorizationId, min, Date.now() + this.options.leaseMs, row?.generation ?? 0);
  }

  /**
   * The worker's scheduled refresh of a token set it claimed from the schedule (`generation`: the
   * one claimed), through the same single-flight path as callers. `elsewhere` when the row was
   * rewritten by someone else (that write planned the next refresh); `not-refreshed` when the
   * provider failed transiently (the still-valid token stays). Dead or gone: TokensError. Acts on
   * the row only: the schedule is PostgreSQL's, never a job's word.
   */
  async refreshDue(orgId: string, authorizationId: string, generation: number): Promise<'refreshed' | 'elsewhere' | 'not-refreshed'> {
    const row = await this.read(orgId, authorizationId);
    if (!row) throw new TokensError('NOT_FOUND', 'authorization not found');
    if (row.generation !== generation) return 'elsewhere';
    const lifetime = lifetimeSeconds(row);
    const min = Math.max(Number.isFinite(lifetime) ? lifetime : this.options.minimumServedSeconds, this.options.minimumServedSeconds);
    const served = await this.singleFlight(orgId, authorizationId, min, Date.now() + this.options.leaseMs, generation);
    if (served.refreshed) return 'refreshed';
    const after = await this.read(orgId, authorizationId);
    return after && after.generation !== generation ? 'elsewhere' : 'not-refreshed';
  }

  /**
   * `since`: the generation the caller saw. A token refreshed after that is the best there is: it is
   * served even when the provider's lifetime is shorter than the caller asked for (no refresh loop).
   */
  private async singleFlight(orgId: string, authorizationId: string, min: number, deadline: number, since: number): Promise<ServedToken> {
    for (;;) {
      const running = this.inflight.get(authorizationId);
      if (!running) break;
      const result = await withDeadline(running, deadline).catch((err: unknown) => {
        if (err instanceof TokensError) throw err;
        return null;
      });
      // A refresh that finished after we came is the freshest token there is.
      if (result && remaining(result.expiresAt) >= this.options.minimumServedSeconds) return { ...result, refreshed: false };
      // The shared refresh failed transiently: look again ourselves.
      const row = await this.read(orgId, authorizationId);
      const served = this.serveable(row, authorizationId, min, since);
      if (served) return served;
      if (this.inflight.get(authorizationId) === running) this.inflight.delete(authorizationId);
    }
    const promise = this.refreshWithLease(orgId, authorizationId, min, deadline, since).finally(() => {
      if (this.inflight.get(authorizationId) === promise) this.inflight.delete(authorizationId);
    });
    this.inflight.set(authorizationId, promise);
    return withDeadline(promise, deadline);
  }

  private async refreshWithLease(orgId: string, authorizationId: string, min: number, deadline: number, since: number): Promise<ServedToken> {
    for (;;) {
      const lease = await this.takeLease(orgId, authorizationId);
      if (!lease) {
        // Another replica holds the lease: wait for its write (or for the lease to lapse).
        if (Date.now() > deadline) throw new TokensError('UNAVAILABLE', 'the token is being refreshed; try again');
        tokenObserver.leaseWaited();
        await sleep(this.options.pollMs);
        const row = await this.read(orgId, authorizationId);
        const served = this.serveable(row, authorizationId, min, since);
        if (served) return served;
        continue;
      }
      return this.refreshHolding(orgId, authorizationId, lease, min, since);
    }
  }

  private async refreshHolding(orgId: string, authorizationId: string, lease: Lease, min: number, since: number): Promise<ServedToken> {
    if (lease.abandoned_until) {
      // Its holder renews a lease while it waits on the provider: one that lapsed means the holder
      // stopped mid-refresh (or is stuck). If the provider had rotated the refresh token for it,
      // that token is lost and the refresh below will be refused: say so for the operator.
      await this.audit(
        orgId,
        authorizationId,
        'refresh.abandoned',
        `the previous refresh lease lapsed at ${new Date(lease.abandoned_until).toISOString()} without a write (its replica stopped or stalled); a refresh token it may have received is not known here`,
      );
    }
    // A sibling may have written just before we took the lease.
    const before = await this.read(orgId, authorizationId);
    const already = this.serveable(before, authorizationId, min, since);
    if (already) {
      await this.releaseLease(lease);
      return already;
    }
    if (!before || before.status !== 'active') {
      await this.releaseLease(lease);
      throw gone(before?.status ?? 'expired');
    }
    if (!lease.refresh_token) {
      await this.releaseLease(lease);
      await this.setStatus(orgId, authorizationId, before, 'expired', 'the access token expired and the provider gave no refresh token');
      throw gone('expired');
    }
    const credentials = await this.providers(orgId, before.provider_id);
    if (!credentials) {
      await this.releaseLease(lease);
      throw new TokensError('NOT_FOUND', 'the provider of this authorization no longer exists');
    }
    if (credentials.provider.status !== 'active') {
      // Blocked, not dead: the authorization stays as it is for when the provider is re-activated.
      await this.releaseLease(lease);
      throw providerBlocked(credentials.provider.status);
    }
    const refreshToken = this.cipher.decryptString(lease.refresh_token, ctx(orgId, lease.id, 'refresh_token'));
    let tokens: ProviderTokenSet;
    const heartbeat = setInterval(() => void this.renewLease(lease).catch(() => undefined), Math.max(this.options.leaseMs / 4, 250));
    try {
      tokens = await refreshTokens(
        { provider: credentials.resolved, clientId: credentials.provider.clientId, clientSecret: credentials.clientSecret, fetch: this.fetchImpl, timeoutMs: this.options.providerTimeoutMs },
        refreshToken,
      );
    } catch (err) {
      clearInterval(heartbeat);
      tokenObserver.refreshed(refreshResultOf(err), credentials.resolved.type);
      return this.refreshFailed(orgId, authorizationId, lease, before, min, err);
    }
    clearInterval(heartbeat);
    tokenObserver.refreshed('ok', credentials.resolved.type);
    await this.faults?.afterProviderAnswer?.();
    // Persist before anything else is done with the answer (a rotated refresh token must not be lost).
    this.forget(authorizationId);
    const written = await this.write(orgId, lease, tokens);
    if (!written) await this.keepCandidate(orgId, authorizationId, lease, tokens);
    // A rotated refresh token comes with its own lifetime (GitHub's refresh_token_expires_in), or none known.
    const refreshTokenExpiresAt = written && tokens.refreshToken ? (tokens.refreshTokenExpiresAt ?? null) : before.refresh_token_expires_at;
    await this.dataSource.query(
      `UPDATE tokens.authorizations SET refresh_succeeded = refresh_succeeded + 1, last_refreshed_at = now(), updated_at = now(), refresh_token_expires_at = $3
        WHERE id = $1 AND org_id = $2`,
      [authorizationId, orgId, refreshTokenExpiresAt],
    );
    this.emit('authorization.refreshed', orgId, authorizationId, before, 'active');
    return {
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      expiresAt: tokens.expiresAt ?? null,
      authorizationId,
      providerId: before.provider_id,
      userId: before.user_id,
      scopes: before.scopes,
      ...facts(before, lease.id),
      refreshTokenExpiresAt,
      refreshed: true,
    };
  }

  private async refreshFailed(orgId: string, authorizationId: string, lease: Lease, before: Row, min: number, err: unknown): Promise<ServedToken> {
    await this.releaseLease(lease);
    const failure = err instanceof ProviderCallError ? err : new ProviderCallError('transient', 'refresh failed');
    await this.dataSource.query(`UPDATE tokens.authorizations SET refresh_failed = refresh_failed + 1, updated_at = now() WHERE id = $1 AND org_id = $2`, [
      authorizationId,
      orgId,
    ]);
    if (failure.kind === 'invalid_grant') {
      // A sibling may have rotated the refresh token under us: only a row that did not move is dead.
      const now = await this.read(orgId, authorizationId);
      if (now && now.generation !== lease.generation) {
        const served = this.serveable(now, authorizationId, min);
        if (served) return served;
      }
      await this.setStatus(orgId, authorizationId, before, 'expired', failure.message);
      throw gone('expired');
    }
    if (failure.kind === 'invalid_client') {
      await this.setStatus(orgId, authorizationId, before, 'invalidOAuthClient', failure.message);
      throw gone('invalidOAuthClient');
    }
    await this.audit(orgId, authorizationId, 'refresh.failed', `${failure.kind}: ${failure.message}`);
    // Transient: the authorization stays active; a token that is still valid is better than none.
    const current = this.serveable(await this.read(orgId, authorizationId), authorizationId, this.options.minimumServedSeconds);
    if (current) return current;
    throw new TokensError('UNAVAILABLE', `the provider could not refresh the token (${failure.message}); try again`);
  }

  /** Takes the refresh lease (fencing counter +1) unless a live one exists. */
  private async takeLease(orgId: string, authorizationId: string): Promise<Lease | null> {
    const [rows] = (await this.dataSource.query(
      `WITH prev AS (SELECT id, lease_until FROM ${CREDENTIALS} WHERE authorization_id = $1 AND org_id = $2 FOR UPDATE)
       UPDATE ${CREDENTIALS} c SET fence = c.fence + 1, lease_until = now() + ($3::int * interval '1 millisecond')
         FROM prev WHERE c.id = prev.id AND (prev.lease_until IS NULL OR prev.lease_until < now())
        RETURNING c.id, c.fence, c.generation, c.refresh_token, prev.lease_until AS abandoned_until`,
      [authorizationId, orgId, this.options.leaseMs],
    )) as [Lease[], number];
    return rows[0] ?? null;
  }

  /** Extends the lease while its holder still owns it (same fence). */
  private async renewLease(lease: Lease): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${CREDENTIALS} SET lease_until = now() + ($3::int * interval '1 millisecond') WHERE id = $1 AND fence = $2 AND lease_until IS NOT NULL`,
      [lease.id, lease.fence, this.options.leaseMs],
    );
  }

  private async releaseLease(lease: Lease): Promise<void> {
    await this.dataSource.query(`UPDATE ${CREDENTIALS} SET lease_until = NULL WHERE id = $1 AND fence = $2`, [lease.id, lease.fence]);
  }

  /** Compare-and-swap on (fence, generation); keeps the old refresh token when none came back. */
  private async write(orgId: string, lease: Lease, tokens: ProviderTokenSet): Promise<boolean> {
    const access = this.cipher.encrypt(tokens.accessToken, ctx(orgId, lease.id, 'access_token'));
    const refresh = tokens.refreshToken ? this.cipher.encrypt(tokens.refreshToken, ctx(orgId, lease.id, 'refresh_token')) : null;
    // The next refresh is planned by the same write (refresh ahead; the worker's sweep turns it into
    // a keep-alive if nobody uses this token set), so a written token is never left unscheduled.
    const [, count] = (await this.dataSource.query(
      `UPDATE ${CREDENTIALS} SET access_token = $4, refresh_token = COALESCE($5, refresh_token), token_type = $6, expires_at = $7, key_id = $8,
              generation = generation + 1, version = version + 1, lease_until = NULL, updated_at = now(),
              refresh_due_at = CASE WHEN COALESCE($5, refresh_token) IS NULL THEN NULL ELSE $9::timestamptz END
        WHERE id = $1 AND fence = $2 AND generation = $3`,
      [lease.id, lease.fence, lease.generation, access, refresh, tokens.tokenType, tokens.expiresAt ?? null, this.cipher.keyIdOf(access), dueAfterWrite(tokens.expiresAt)],
    )) as [unknown, number];
    return count === 1;
  }

  /** A write that lost its lease: the tokens are kept (encrypted), then adopted if the row did not move on. */
  private async keepCandidate(orgId: string, authorizationId: string, lease: Lease, tokens: ProviderTokenSet): Promise<void> {
    const id = randomUUID();
    const access = this.cipher.encrypt(tokens.accessToken, { table: CANDIDATES, column: 'access_token', orgId, rowId: id });
    const refresh = tokens.refreshToken ? this.cipher.encrypt(tokens.refreshToken, { table: CANDIDATES, column: 'refresh_token', orgId, rowId: id }) : null;
    await this.dataSource.query(
      `INSERT INTO ${CANDIDATES} (id, org_id, authorization_id, from_generation, access_token, refresh_token, token_type, expires_at, key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [id, orgId, authorizationId, lease.generation, access, refresh, tokens.tokenType, tokens.expiresAt ?? null, this.cipher.keyIdOf(access)],
    );
    await this.audit(orgId, authorizationId, 'refresh.candidate', `lease lost at generation ${lease.generation}: tokens kept as candidate ${id}`);
    await this.resolveCandidates(orgId, authorizationId);
  }

  /** Resolves every authorization's leftover candidates (after a crash between keeping and adopting). */
  async resolveAllCandidates(): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT DISTINCT org_id, authorization_id FROM ${CANDIDATES} LIMIT 1000`)) as { org_id: string; authorization_id: string }[];
    let adopted = 0;
    for (const r of rows) adopted += await this.resolveCandidates(r.org_id, r.authorization_id);
    return adopted;
  }

  /**
   * Adopts a candidate when the credential is still at the generation it was refreshed from (nobody
   * wrote meanwhile); discards candidates the row has moved past. Returns how many were adopted.
   */
  async resolveCandidates(orgId: string, authorizationId: string): Promise<number> {
    let adopted = 0;
    const candidates = (await this.dataSource.query(
      `SELECT id, from_generation, access_token, refresh_token, token_type, expires_at FROM ${CANDIDATES}
        WHERE authorization_id = $1 AND org_id = $2 ORDER BY created_at`,
      [authorizationId, orgId],
    )) as { id: string; from_generation: number; access_token: string; refresh_token: string | null; token_type: string; expires_at: Date | null }[];
    for (const c of candidates) {
      await this.dataSource.transaction(async (em) => {
        const [cred] = (await em.query(`SELECT id, generation FROM ${CREDENTIALS} WHERE authorization_id = $1 AND org_id = $2 FOR UPDATE`, [
          authorizationId,
          orgId,
        ])) as { id: string; generation: number }[];
        if (cred && cred.generation === c.from_generation) {
          const cctx = (column: string) => ({ table: CANDIDATES, column, orgId, rowId: c.id });
          const access = this.cipher.encrypt(this.cipher.decrypt(c.access_token, cctx('access_token')), ctx(orgId, cred.id, 'access_token'));
          const refresh = c.refresh_token
            ? this.cipher.encrypt(this.cipher.decrypt(c.refresh_token, cctx('refresh_token')), ctx(orgId, cred.id, 'refresh_token'))
            : null;
          await em.query(
            `UPDATE ${CREDENTIALS} SET access_token = $2, refresh_token = COALESCE($3, refresh_token), token_type = $4, expires_at = $5, key_id = $6,
                    generation = generation + 1, version = version + 1, lease_until = NULL, updated_at = now(),
                    refresh_due_at = CASE WHEN COALESCE($3, refresh_token) IS NULL THEN NULL ELSE $7::timestamptz END WHERE id = $1`,
            [cred.id, access, refresh, c.token_type, c.expires_at, this.cipher.keyIdOf(access), dueAfterWrite(c.expires_at)],
          );
          adopted++;
          await em.query(`INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, 'refresh.candidate.adopted', $3)`, [
            orgId,
            authorizationId,
            `candidate ${c.id}`,
          ]);
        } else {
          await em.query(`INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, 'refresh.candidate.discarded', $3)`, [
            orgId,
            authorizationId,
            `candidate ${c.id} from generation ${c.from_generation}; row at ${cred?.generation ?? 'none'}`,
          ]);
        }
        await em.query(`DELETE FROM ${CANDIDATES} WHERE id = $1`, [c.id]);
      });
    }
    return adopted;
  }

  private async read(orgId: string, authorizationId: string): Promise<Row | null> {
    if (!/^[0-9a-f-]{36}$/i.test(authorizationId)) return null;
    const rows = (await this.dataSource.query(
      `SELECT a.org_id, a.status, a.provider_id, a.user_id, a.scopes, a.oauth_client_id, a.created_at, a.refresh_token_expires_at, c.id AS credential_id, c.access_token, c.refresh_token, c.token_type, c.expires_at, c.generation, c.lease_until, c.updated_at
         FROM tokens.authorizations a LEFT JOIN ${CREDENTIALS} c ON c.authorization_id = a.id
        WHERE a.id = $1 AND a.org_id = $2`,
      [authorizationId, orgId],
    )) as Row[];
    return rows[0] ?? null;
  }

  /** The token, if the authorization is active and it has at least `min` seconds left; throws for a dead authorization. */
  private serveable(row: Row | null, authorizationId: string, min: number, since = Number.POSITIVE_INFINITY): ServedToken | null {
    if (!row) throw new TokensError('NOT_FOUND', 'authorization not found');
    if (row.status !== 'active') throw gone(row.status);
    if (!row.access_token || !row.credential_id) return null;
    // Never ask more than a fresh token could give (less 5 s): when the provider's lifetime is shorter
    // than the caller's need, a token refreshed moments ago is the best there is, not a reason to refresh again.
    const achievable = Math.max(lifetimeSeconds(row) - 5, this.options.minimumServedSeconds);
    const need = (row.generation ?? 0) > since ? this.options.minimumServedSeconds : Math.min(min, achievable);
    if (row.expires_at && remaining(row.expires_at) < need) return null;
    return {
      accessToken: this.cipher.decryptString(row.access_token, ctx(row.org_id, row.credential_id, 'access_token')),
      tokenType: row.token_type ?? 'Bearer',
      expiresAt: row.expires_at,
      authorizationId,
      providerId: row.provider_id,
      userId: row.user_id,
      scopes: row.scopes,
      ...facts(row, row.credential_id),
      refreshed: false,
    };
  }

  private async setStatus(orgId: string, authorizationId: string, row: Row, status: AuthorizationStatus, reason: string): Promise<void> {
    this.forget(authorizationId);
    const [, count] = (await this.dataSource.query(
      `UPDATE tokens.authorizations SET status = $3, updated_at = now() WHERE id = $1 AND org_id = $2 AND status = 'active'`,
      [authorizationId, orgId, status],
    )) as [unknown, number];
    await this.audit(orgId, authorizationId, `status.${status}`, reason);
    if (count === 1) this.emit('authorization.expired', orgId, authorizationId, row, status);
  }

  private async audit(orgId: string, authorizationId: string, type: string, detail: string): Promise<void> {
    await this.dataSource.query(`INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, $3, $4)`, [orgId, authorizationId, type, detail]);
  }

  private emit(type: BrokerEventType, orgId: string, authorizationId: string, row: Row, status: AuthorizationStatus): void {
    this.publish({ type, orgId, authorizationId, providerId: row.provider_id, userId: row.user_id, status, at: new Date().toISOString() });
  }
}

function facts(row: Row, credentialId: string): Pick<ServedToken, 'oauthClientId' | 'credentialId' | 'createdAt' | 'refreshTokenExpiresAt'> {
  return { oauthClientId: row.oauth_client_id, credentialId, createdAt: row.created_at, refreshTokenExpiresAt: row.refresh_token_expires_at };
}

/** The refresh-ahead time of a token set written now (null: it does not expire, nothing to plan). */
function dueAfterWrite(expiresAt: Date | null | undefined): Date | null {
  return expiresAt ? aheadDueAt(expiresAt, new Date()) : null;
}

function ctx(orgId: string, rowId: string, column: string): EncryptionContext {
  return { table: CREDENTIALS, column, orgId, rowId };
}

/** How long the current token lives in all (from its last write to its expiry); infinite when unknown. */
function lifetimeSeconds(row: Row | null): number {
  if (!row?.expires_at || !row.updated_at) return Number.POSITIVE_INFINITY;
  return (row.expires_at.getTime() - row.updated_at.getTime()) / 1000;
}

function remaining(expiresAt: Date | null): number {
  return expiresAt ? (expiresAt.getTime() - Date.now()) / 1000 : Number.POSITIVE_INFINITY;
}

/** The token operations' answer while the provider is not active (403 on REST, FORBIDDEN on the bus). */
function providerBlocked(status: string): TokensError {
  const why = status === 'invalid' ? 'marked invalid' : status === 'deleting' ? 'being deleted' : status;
  return new TokensError('FORBIDDEN', `The provider is ${why}: its tokens are not served until it is active again.`, [{ name: 'providerStatus', message: status }]);
}

function gone(status: AuthorizationStatus): TokensError {
  const why: Record<AuthorizationStatus, string> = {
    active: 'the authorization is active',
    expired: 'the authorization has expired: the user must authorize the provider again',
    invalidOAuthClient: "the provider refused the org's OAuth app credentials: fix the provider, then authorize again",
    invalidProviderState: 'the provider is not active',
  };
  return new TokensError('GONE', why[status], [{ name: 'status', message: status }]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  const ms = deadline - Date.now();
  if (ms <= 0) return Promise.reject(new TokensError('UNAVAILABLE', 'no token in time; try again'));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TokensError('UNAVAILABLE', 'no token in time; try again')), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}
