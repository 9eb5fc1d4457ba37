import type { DataSource, EntityManager } from 'typeorm';
import type { RevocationEntry } from '@broker/contracts';
import { revocationsVersion } from './revocation-list';

/** Something that runs queries: the DataSource or a transaction's EntityManager. */
export type QueryRunnerLike = DataSource | EntityManager;

/** A row of `identity.revocations` as the verifiers (and the writer) read it. */
export interface RevocationRow {
  key_hash: string;
  not_before: Date | null;
  expires_at: Date;
}

export function revocationEntryFromRow(row: RevocationRow): RevocationEntry {
  const entry: RevocationEntry = { h: row.key_hash, exp: Math.floor(row.expires_at.getTime() / 1000) };
  if (row.not_before) entry.nb = Math.floor(row.not_before.getTime() / 1000);
  return entry;
}

/**
 * The live revocations as they are in PostgreSQL now (`identity.revocations`, written by the
 * identity domain): a read only, so a verifier with the database needs nothing of the domain.
 */
export async function publishedRevocations(
  db: QueryRunnerLike,
): Promise<{ entries: RevocationEntry[]; version: string }> {
  const rows = (await db.query(
    `SELECT key_hash, not_before, expires_at FROM identity.revocations WHERE expires_at > now()`,
  )) as RevocationRow[];
  const entries = rows.map(revocationEntryFromRow);
  return { entries, version: revocationsVersion(entries) };
}
