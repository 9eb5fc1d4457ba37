import { DataSource } from 'typeorm';

/** A credential row claimed from the schedule, with what the decision needs. */
export interface ClaimedRefresh {
  credentialId: string;
  orgId: string;
  authorizationId: string;
  providerId: string;
  status: string;
  /** The due time it was claimed at (restored when it is handed back unprocessed). */
  dueAt: Date;
  hasRefreshToken: boolean;
  /** The token set's generation (bumped by every refresh write): identifies the token set claimed. */
  generation: number;
  writtenAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  /** A caller was served this token set since it was written. */
  usedSinceWritten: boolean;
  /** When its refresh token was last used or issued: the last refresh, else when it was linked. */
  lastRefreshAt: Date;
  refreshTokenExpiresAt: Date | null;
}

interface ClaimRow {
  credential_id: string;
  org_id: string;
  authorization_id: string;
  provider_id: string;
  status: string;
  due_at: Date;
  has_refresh_token: boolean;
  generation: number;
  written_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  used: boolean;
  last_refresh_at: Date;
  refresh_token_expires_at: Date | null;
}

/**
 * The refresh schedule's storage: `tokens.credentials.refresh_due_at` (indexed) is the only record
 * of when each token set is looked at next, so nothing of it lives in Redis and nothing is lost
 * with a Redis flush or a crash. Due rows are claimed in batches with `FOR UPDATE SKIP LOCKED`
 * (so several sweeps, in one worker or many, never take the same row) and held for `holdMs` by
 * moving their due time forward: a sweep that dies mid-batch leaves them due again after that.
 */
export class RefreshSchedule {
  constructor(private readonly dataSource: DataSource) {}

  /** Claims up to `limit` rows due within `lookaheadMs`, earliest first, holding them for `holdMs`. */
  async claim(limit: number, lookaheadMs: number, holdMs: number): Promise<ClaimedRefresh[]> {
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id, refresh_due_at FROM tokens.credentials
          WHERE refresh_due_at <= now() + ($1::int * interval '1 millisecond')
          ORDER BY refresh_due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE tokens.credentials c SET refresh_due_at = now() + ($3::int * interval '1 millisecond')
         FROM due, tokens.authorizations a
        WHERE c.id = due.id AND a.id = c.authorization_id
       RETURNING c.id AS credential_id, c.org_id, c.authorization_id, a.provider_id, a.status, due.refresh_due_at AS due_at,
                 (c.refresh_token IS NOT NULL) AS has_refresh_token, c.generation, c.updated_at AS written_at, c.expires_at, a.last_used_at,
                 COALESCE(a.last_used_at >= c.updated_at, false) AS used,
                 COALESCE(a.last_refreshed_at, c.created_at) AS last_refresh_at, a.refresh_token_expires_at`,
      [Math.round(lookaheadMs), limit, Math.round(holdMs)],
    )) as [ClaimRow[], number];
    return rows.map((r) => ({
      credentialId: r.credential_id,
      orgId: r.org_id,
      authorizationId: r.authorization_id,
      providerId: r.provider_id,
      status: r.status,
      dueAt: r.due_at,
      hasRefreshToken: r.has_refresh_token,
      generation: r.generation,
      writtenAt: r.written_at,
      expiresAt: r.expires_at,
      lastUsedAt: r.last_used_at,
      usedSinceWritten: r.used,
      lastRefreshAt: r.last_refresh_at,
      refreshTokenExpiresAt: r.refresh_token_expires_at,
    }));
  }

  /**
   * Moves claimed rows to new due times (null: off the schedule), in one statement. Only rows whose
   * token set is still the one that was claimed: a row refreshed meanwhile keeps the due time its
   * write set.
   */
  async reschedule(changes: { claim: ClaimedRefresh; dueAt: Date | null }[]): Promise<void> {
    if (!changes.length) return;
    await this.dataSource.query(
      `UPDATE tokens.credentials c SET refresh_due_at = v.due_at
         FROM unnest($1::uuid[], $2::timestamptz[], $3::int[]) AS v(id, due_at, generation)
        WHERE c.id = v.id AND c.generation = v.generation`,
      [
        changes.map((c) => c.claim.credentialId),
        changes.map((c) => c.dueAt),
        changes.map((c) => c.claim.generation),
      ],
    );
  }

  /** Hands claimed rows back unprocessed (a sweep stopping): due again at the time they were claimed at. */
  release(claims: ClaimedRefresh[]): Promise<void> {
    return this.reschedule(claims.map((claim) => ({ claim, dueAt: claim.dueAt })));
  }

  /** How many rows are on the schedule and how many are due now (for logs and benchmarks). */
  async counts(): Promise<{ scheduled: number; due: number }> {
    const [r] = (await this.dataSource.query(
      `SELECT count(*)::int AS scheduled, count(*) FILTER (WHERE refresh_due_at <= now())::int AS due FROM tokens.credentials WHERE refresh_due_at IS NOT NULL`,
    )) as { scheduled: number; due: number }[];
    return r;
  }
}
