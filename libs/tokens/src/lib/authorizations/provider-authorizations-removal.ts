import { DataSource } from 'typeorm';
import type { AuthorizationStatus } from '@broker/contracts';
import { DecryptionError, EnvelopeCipher } from '@broker/crypto';
import type { EventSink } from '../ports';
import type { RevocableToken } from './upstream-revocation';

const CREDENTIALS = 'tokens.credentials';

/** One authorization of a provider being deleted, with its tokens in clear (for the upstream revocation). */
export interface RemovalCandidate {
  id: string;
  userId: string;
  status: AuthorizationStatus;
  /** The token to revoke upstream: the refresh token when there is one (it ends the grant), else the access token. */
  token: RevocableToken | null;
}

interface AuditRow {
  id: string;
  authorization_id: string;
  detail: string;
}

/**
 * Removing every authorization of a provider that is being deleted, in batches a job can resume:
 * each batch is read in id order, revoked upstream by the caller, then removed in one transaction
 * with an `unlinked` audit row per authorization that names the job; `authorization.revoked` is
 * published for each once that transaction is committed. The audit rows are also the record of
 * what was announced: a job that died between a commit and its announcements announces the rest
 * when it resumes (`announcePending`), so every removed authorization is announced at least once.
 */
export class ProviderAuthorizationsRemoval {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
    private readonly publish: EventSink,
  ) {}

  /** How many authorizations the provider still has. */
  async remaining(orgId: string, providerId: string): Promise<number> {
    const [r] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM tokens.authorizations WHERE org_id = $1 AND provider_id = $2`,
      [orgId, providerId],
    )) as { n: number }[];
    return r.n;
  }

  /** The next `limit` authorizations of the provider (lowest ids first), tokens decrypted; a value that does not decrypt is not revoked, only removed. */
  async nextBatch(orgId: string, providerId: string, limit: number): Promise<RemovalCandidate[]> {
    const rows = (await this.dataSource.query(
      `SELECT a.id, a.user_id, a.status, c.id AS credential_id, c.access_token, c.refresh_token
         FROM tokens.authorizations a LEFT JOIN ${CREDENTIALS} c ON c.authorization_id = a.id
        WHERE a.org_id = $1 AND a.provider_id = $2 ORDER BY a.id LIMIT $3`,
      [orgId, providerId, limit],
    )) as {
      id: string;
      user_id: string;
      status: AuthorizationStatus;
      credential_id: string | null;
      access_token: string | null;
      refresh_token: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      status: r.status,
      token: this.revocable(orgId, r),
    }));
  }

  /**
   * Removes the batch (credentials cascade) with an `unlinked` audit row each, in one transaction,
   * then announces each removal. Returns the ids removed and the last audit row id (the job's
   * announcement checkpoint).
   */
  async removeBatch(
    orgId: string,
    providerId: string,
    jobId: string,
    batch: RemovalCandidate[],
  ): Promise<{ removed: string[]; lastAuditId: string | null }> {
    if (!batch.length) return { removed: [], lastAuditId: null };
    const audits = await this.dataSource.transaction(async (em) => {
      const removed = (await em.query(
        `DELETE FROM tokens.authorizations WHERE org_id = $1 AND provider_id = $2 AND id = ANY($3::uuid[]) RETURNING id, user_id, status`,
        [orgId, providerId, batch.map((b) => b.id)],
      )) as [{ id: string; user_id: string; status: AuthorizationStatus }[], number];
      const rows = removed[0];
      if (!rows.length) return [] as AuditRow[];
      return (await em.query(
        `INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail)
         SELECT $1, v.id, 'unlinked', v.detail FROM unnest($2::uuid[], $3::text[]) AS v(id, detail) ORDER BY v.id
         RETURNING id, authorization_id, detail`,
        [
          orgId,
          rows.map((r) => r.id),
          rows.map((r) =>
            JSON.stringify({
              reason: 'provider deleted',
              jobId,
              providerId,
              userId: r.user_id,
              status: r.status,
            }),
          ),
        ],
      )) as AuditRow[];
    });
    this.announce(orgId, audits);
    return {
      removed: audits.map((a) => a.authorization_id),
      lastAuditId: audits.reduce<string | null>(
        (m, a) => (m === null || BigInt(a.id) > BigInt(m) ? a.id : m),
        null,
      ),
    };
  }

  /**
   * Announces the removals this job recorded after audit row `afterAuditId` (a job that died between
   * a commit and its announcements); returns how many and the last audit row id.
   */
  async announcePending(
    orgId: string,
    jobId: string,
    afterAuditId: string | null,
  ): Promise<{ announced: number; lastAuditId: string | null }> {
    const rows = (await this.dataSource.query(
      `SELECT id, authorization_id, detail FROM tokens.audit_events
        WHERE org_id = $1 AND type = 'unlinked' AND id > $2::bigint AND detail LIKE $3 ORDER BY id`,
      [orgId, afterAuditId ?? '0', `%"jobId":"${jobId}"%`],
    )) as AuditRow[];
    this.announce(orgId, rows);
    return { announced: rows.length, lastAuditId: rows.at(-1)?.id ?? afterAuditId };
  }

  private announce(orgId: string, rows: AuditRow[]): void {
    const at = new Date().toISOString();
    for (const row of rows) {
      const d = JSON.parse(row.detail) as { providerId: string; userId: string; status: AuthorizationStatus };
      void this.publish({
        type: 'authorization.revoked',
        orgId,
        authorizationId: row.authorization_id,
        providerId: d.providerId,
        userId: d.userId,
        status: d.status,
        at,
      });
    }
  }

  private revocable(
    orgId: string,
    r: { credential_id: string | null; access_token: string | null; refresh_token: string | null },
  ): RemovalCandidate['token'] {
    if (!r.credential_id) return null;
    const open = (column: 'access_token' | 'refresh_token', value: string) =>
      this.cipher.decryptString(value, {
        table: CREDENTIALS,
        column,
        orgId,
        rowId: r.credential_id as string,
      });
    try {
      if (r.refresh_token) return { value: open('refresh_token', r.refresh_token), hint: 'refresh_token' };
      if (r.access_token) return { value: open('access_token', r.access_token), hint: 'access_token' };
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
    }
    return null;
  }
}
