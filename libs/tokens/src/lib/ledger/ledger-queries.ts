import { DataSource } from 'typeorm';
import type {
  LedgerActor,
  LedgerEntry,
  LedgerPage,
  LedgerPath,
  LedgerQuery,
  TokenRestriction,
} from '@broker/contracts';

/** A `tokens.token_ledger` row as PostgreSQL returns it. */
interface Row {
  id: string;
  token_fingerprint: string;
  consumer: string;
  actor: LedgerActor | null;
  subject: string;
  authorization_id: string;
  provider_id: string;
  path: LedgerPath;
  restriction: TokenRestriction | null;
  attenuated: boolean;
  token_expires_at: Date | null;
  first_served_at: Date;
  last_served_at: Date;
  serve_count: number;
}

/** "Who received tokens of this user / from this consumer … since …", newest first, paged. */
export async function searchLedger(
  dataSource: DataSource,
  orgId: string,
  q: LedgerQuery,
): Promise<LedgerPage> {
  const rows = (await dataSource.query(
    `SELECT * FROM tokens.token_ledger
      WHERE org_id = $1
        AND ($2::text IS NULL OR subject = $2) AND ($3::text IS NULL OR consumer = $3)
        AND ($4::uuid IS NULL OR authorization_id = $4) AND ($5::uuid IS NULL OR provider_id = $5)
        AND ($6::timestamptz IS NULL OR last_served_at >= $6)
        AND ($7::bigint IS NULL OR id < $7)
      ORDER BY id DESC LIMIT $8`,
    [
      orgId,
      q.subject ?? null,
      q.consumer ?? null,
      q.authorizationId ?? null,
      q.providerId ?? null,
      q.since ?? null,
      q.cursor ?? null,
      q.limit + 1,
    ],
  )) as Row[];
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  return { items: page.map(toEntry), next: more ? (page.at(-1)?.id ?? null) : null };
}

/** "Which consumer got this token": every row with this fingerprint. */
export async function ledgerRowsByFingerprint(
  dataSource: DataSource,
  orgId: string,
  fingerprint: string,
): Promise<LedgerEntry[]> {
  const rows = (await dataSource.query(
    `SELECT * FROM tokens.token_ledger WHERE org_id = $1 AND token_fingerprint = $2 ORDER BY id DESC LIMIT 1000`,
    [orgId, fingerprint],
  )) as Row[];
  return rows.map(toEntry);
}

/**
 * Removes rows not served for `retentionDays` if this replica wins the transaction-scoped
 * advisory lock; returns how many went, or null when another replica holds it.
 */
export function purgeLedgerRows(dataSource: DataSource, retentionDays: number): Promise<number | null> {
  return dataSource.transaction(async (em) => {
    const [lock] = (await em.query(
      `SELECT pg_try_advisory_xact_lock(hashtext('tokens.token_ledger retention')) AS ok`,
    )) as { ok: boolean }[];
    if (!lock?.ok) return null;
    const [, count] = (await em.query(
      `DELETE FROM tokens.token_ledger WHERE last_served_at < now() - ($1::int * interval '1 day')`,
      [retentionDays],
    )) as [unknown, number];
    return count;
  });
}

function toEntry(r: Row): LedgerEntry {
  return {
    tokenFingerprint: r.token_fingerprint,
    consumer: r.consumer,
    actor: r.actor,
    subject: r.subject,
    authorizationId: r.authorization_id,
    providerId: r.provider_id,
    path: r.path,
    restriction: r.restriction,
    attenuated: r.attenuated,
    tokenExpiresAt: r.token_expires_at ? r.token_expires_at.toISOString() : null,
    firstServedAt: r.first_served_at.toISOString(),
    lastServedAt: r.last_served_at.toISOString(),
    serveCount: r.serve_count,
  };
}
