import { DataSource } from 'typeorm';
import { DecryptionError, EnvelopeCipher } from '@broker/crypto';
import { CREDENTIALS, credentialContext as context } from './credential-context';

/** Key rotation's side of the token sets: what each key wraps, and re-wrapping under the active key. */
export class CredentialRewrap {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
  ) {}

  /** How many token sets each keyring key wraps (for key rotation: a key may go once it wraps nothing). */
  async valuesByKey(): Promise<Record<string, number>> {
    const rows = (await this.dataSource.query(
      `SELECT key_id, count(*)::int AS n FROM ${CREDENTIALS} GROUP BY key_id`,
    )) as { key_id: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }

  /** How many token sets are still wrapped by a key other than the active one. */
  async countDue(): Promise<number> {
    const rows = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM ${CREDENTIALS} WHERE key_id <> $1`,
      [this.cipher.activeKeyId],
    )) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  /**
   * Re-wraps up to `limit` token sets after `afterId` under the active key, written in one
   * statement with a compare-and-swap on each row's version (a row refreshed meanwhile is left as
   * its writer wrote it: under the active key already). Rows that do not decrypt are counted as
   * failed and left alone.
   */
  async rewrapBatch(
    limit: number,
    afterId = '00000000-0000-0000-0000-000000000000',
  ): Promise<{ scanned: number; rewrapped: number; conflicts: number; failed: number; lastId?: string }> {
    const rows = (await this.dataSource.query(
      `SELECT id, org_id, access_token, refresh_token, version FROM ${CREDENTIALS} WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3`,
      [this.cipher.activeKeyId, afterId, limit],
    )) as {
      id: string;
      org_id: string;
      access_token: string;
      refresh_token: string | null;
      version: number;
    }[];
    const progress = { scanned: rows.length, rewrapped: 0, conflicts: 0, failed: 0, lastId: rows.at(-1)?.id };
    const done: { id: string; version: number; access: string; refresh: string | null }[] = [];
    for (const row of rows) {
      try {
        const access = this.cipher.rewrap(row.access_token, context(row.org_id, row.id, 'access_token'));
        const refresh = row.refresh_token
          ? this.cipher.rewrap(row.refresh_token, context(row.org_id, row.id, 'refresh_token'))
          : null;
        done.push({ id: row.id, version: row.version, access, refresh });
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err;
        progress.failed++;
      }
    }
    if (!done.length) return progress;
    const [written] = (await this.dataSource.query(
      // updated_at is left alone: it is when the tokens were written (their lifetime is measured from it).
      `UPDATE ${CREDENTIALS} c SET access_token = v.access, refresh_token = v.refresh, key_id = $5, version = c.version + 1
         FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS v(id, version, access, refresh)
        WHERE c.id = v.id AND c.version = v.version
       RETURNING c.id`,
      [
        done.map((d) => d.id),
        done.map((d) => d.version),
        done.map((d) => d.access),
        done.map((d) => d.refresh),
        this.cipher.activeKeyId,
      ],
    )) as [unknown[], number];
    progress.rewrapped = written.length;
    progress.conflicts = done.length - written.length;
    return progress;
  }
}
