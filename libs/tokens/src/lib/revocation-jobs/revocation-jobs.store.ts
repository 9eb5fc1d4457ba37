import { DataSource } from 'typeorm';
import type {
  NotRevokedUpstream,
  RevocationJob,
  RevocationReport,
  RevocationTargetKind,
} from '@broker/contracts';

interface JobRow {
  id: string;
  target_kind: RevocationTargetKind;
  target_id: string;
  status: RevocationJob['status'];
  reason: string;
  requested_by: string;
  report: RevocationReport;
  created_at: Date;
  finished_at: Date | null;
}

export const EMPTY_REPORT: RevocationReport = {
  revokedUpstream: 0,
  removedLocally: 0,
  grantsWithdrawn: 0,
  brokerTokensRevoked: false,
  notRevokedUpstream: [],
  failures: [],
};

/** An authorization a blast-radius job takes away. */
export interface TargetAuthorization {
  id: string;
  userId: string;
  providerId: string;
}

/**
 * Blast-radius revocation jobs (`tokens.revocation_jobs`) and the authorizations they reach. The
 * report holds ids and reasons only.
 */
export class RevocationJobsStore {
  constructor(private readonly dataSource: DataSource) {}

  async create(
    orgId: string,
    kind: RevocationTargetKind,
    targetId: string,
    reason: string,
    requestedBy: string,
  ): Promise<RevocationJob> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO tokens.revocation_jobs (org_id, target_kind, target_id, status, reason, requested_by, report)
       VALUES ($1, $2, $3, 'running', $4, $5, $6) RETURNING *`,
      [orgId, kind, targetId, reason, requestedBy, JSON.stringify(EMPTY_REPORT)],
    )) as JobRow[];
    return toJob(row);
  }

  async finish(id: string, status: 'done' | 'failed', report: RevocationReport): Promise<void> {
    await this.dataSource.query(
      `UPDATE tokens.revocation_jobs SET status = $2, report = $3, finished_at = now() WHERE id = $1`,
      [id, status, JSON.stringify(report)],
    );
  }

  /** The job of this org (null for another org's, as for an unknown one). */
  async get(orgId: string, id: string): Promise<RevocationJob | null> {
    const [row] = (await this.dataSource.query(
      `SELECT * FROM tokens.revocation_jobs WHERE id = $1 AND org_id = $2`,
      [id, orgId],
    )) as JobRow[];
    return row ? toJob(row) : null;
  }

  /**
   * Jobs a stopped process left `running` (it died mid-job) are marked failed, so no one waits on
   * them; running them again is a new call (every step is idempotent).
   */
  async failAbandoned(olderThanMs: number): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `UPDATE tokens.revocation_jobs SET status = 'failed', finished_at = now(),
              report = jsonb_set(report, '{failures}', (report->'failures') || '[{"authorizationId": "", "error": "the job was interrupted (the service stopped): start it again"}]'::jsonb)
        WHERE status = 'running' AND created_at < now() - ($1::int * interval '1 millisecond')`,
      [olderThanMs],
    )) as [unknown, number];
    return count;
  }

  /** Every authorization of a user, or at a provider, in the org. */
  async authorizationsOf(
    orgId: string,
    by: { userId: string } | { providerId: string },
  ): Promise<TargetAuthorization[]> {
    const rows = (await this.dataSource.query(
      'userId' in by
        ? `SELECT id, user_id, provider_id FROM tokens.authorizations WHERE org_id = $1 AND user_id = $2 ORDER BY created_at`
        : `SELECT id, user_id, provider_id FROM tokens.authorizations WHERE org_id = $1 AND provider_id = $2::uuid ORDER BY created_at`,
      [orgId, 'userId' in by ? by.userId : by.providerId],
    )) as { id: string; user_id: string; provider_id: string }[];
    return rows.map((r) => ({ id: r.id, userId: r.user_id, providerId: r.provider_id }));
  }

  /**
   * What a consumer was served that may still work at the provider (per the ledger: tokens not yet
   * expired, or of unknown expiry), one entry per authorization that still exists (a removed one was
   * revoked upstream or reported when it was removed).
   */
  async stillValidServedTo(orgId: string, consumer: string): Promise<NotRevokedUpstream[]> {
    const rows = (await this.dataSource.query(
      `SELECT DISTINCT ON (l.authorization_id) l.authorization_id, l.provider_id, l.subject, l.attenuated, l.token_expires_at
         FROM tokens.token_ledger l
         JOIN tokens.authorizations a ON a.id = l.authorization_id AND a.org_id = l.org_id
        WHERE l.org_id = $1 AND l.consumer = $2 AND (l.token_expires_at IS NULL OR l.token_expires_at > now())
        ORDER BY l.authorization_id, l.last_served_at DESC`,
      [orgId, consumer],
    )) as {
      authorization_id: string;
      provider_id: string;
      subject: string;
      attenuated: boolean;
      token_expires_at: Date | null;
    }[];
    return rows.map((r) => ({
      authorizationId: r.authorization_id,
      providerId: r.provider_id,
      userId: r.subject,
      reason: `a ${r.attenuated ? 'narrowed ' : ''}provider token served to this consumer stays valid at the provider ${r.token_expires_at ? `until ${r.token_expires_at.toISOString()}` : '(no known expiry)'}: it is the user's authorization's own token; revoke that authorization (a user or provider job) to end it`,
    }));
  }
}

function toJob(r: JobRow): RevocationJob {
  return {
    id: r.id,
    target: { kind: r.target_kind, id: r.target_id },
    status: r.status,
    reason: r.reason,
    requestedBy: r.requested_by,
    createdAt: r.created_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    report: r.report,
  };
}
