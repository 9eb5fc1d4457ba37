import { DataSource } from 'typeorm';
import type { RevocationEntry, RevocationKind, RevocationSnapshot } from '@broker/contracts';
import {
  QueryRunnerLike,
  RevocationList,
  RevocationRow,
  RevocationWriter,
  publishedRevocations,
  revocationEntryFromRow as toEntry,
  revocationKey,
  revocationsVersion,
} from '@broker/auth-kit';

/**
 * How long an entry that stops "every token issued before now" must be kept: the longest lifetime
 * an access token of the broker can have (ACCESS_TOKEN_TTL_SECONDS is capped at one day), plus
 * clock skew. Fixed rather than read from the config so that every writer (the token-broker, the
 * admin CLI) keeps entries long enough whatever the service's setting.
 */
export const REVOCATION_HORIZON_SECONDS = 86_400 + 300;

/**
 * Tokens issued up to this long after a revocation (1 to 2 s: `iat` has whole seconds) are refused
 * too: an issuance that checked the client or user just before the revocation committed must not
 * outlive it.
 */
export const REVOCATION_GRACE_SECONDS = 2;

type Query = (sql: string, params: unknown[]) => Promise<unknown>;

/** Called with the entries once a revocation is committed (the process's own list, the announcement). */
export type RevocationListener = (entries: RevocationEntry[]) => void;

/**
 * The revocations of the broker's access tokens in PostgreSQL (`identity.revocations`): written in
 * the same transaction as the change that causes them (a client disabled, a user deleted, a
 * refresh-token family revoked), read by the token-broker's replicas and served to every verifier.
 */
export class RevocationsService implements RevocationWriter {
  private readonly listeners: RevocationListener[] = [];

  constructor(private readonly dataSource: DataSource) {}

  /** Registers a listener for committed revocations (this process only). */
  onRevoked(listener: RevocationListener): void {
    this.listeners.push(listener);
  }

  /**
   * Every token of the client issued until now (and during the grace period). Call inside the
   * transaction that changes the client; then `committed(...)` with the returned entries.
   */
  revokeClient(em: QueryRunnerLike, orgId: string, clientId: string): Promise<RevocationEntry> {
    return this.write(em, 'client', orgId, clientId, notBeforeNow(), horizon());
  }

  /** Every token whose subject (or actor) is this user or service account, issued until now. */
  revokeSubject(em: QueryRunnerLike, orgId: string, sub: string): Promise<RevocationEntry> {
    return this.write(em, 'subject', orgId, sub, notBeforeNow(), horizon());
  }

  /** Every access token of a sign-in session (a refresh-token family), whenever issued. */
  revokeSession(em: QueryRunnerLike, orgId: string, familyId: string): Promise<RevocationEntry> {
    return this.write(em, 'session', orgId, familyId, null, horizon());
  }

  /** One access token (by `jti`) until it expires. */
  revokeToken(
    em: QueryRunnerLike,
    orgId: string,
    jti: string,
    expiresAtSeconds: number,
  ): Promise<RevocationEntry> {
    return this.write(em, 'token', orgId, jti, null, expiresAtSeconds + 60);
  }

  /** Tells this process's listeners about entries whose transaction has committed. */
  committed(entries: RevocationEntry[]): void {
    if (!entries.length) return;
    for (const listener of this.listeners) listener(entries);
  }

  /** Writes and announces in one go, outside any other transaction. */
  async revokeNow(write: (em: QueryRunnerLike) => Promise<RevocationEntry[]>): Promise<RevocationEntry[]> {
    const entries = await this.dataSource.transaction((em) => write(em));
    this.committed(entries);
    return entries;
  }

  /** The live entries as they are in PostgreSQL now. */
  read(): Promise<{ entries: RevocationEntry[]; version: string }> {
    return publishedRevocations(this.dataSource);
  }

  /** Drops entries that no longer stop any live token. */
  async purgeExpired(): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `DELETE FROM identity.revocations WHERE expires_at < now() - interval '1 hour'`,
    )) as [unknown, number];
    return count;
  }

  private async write(
    em: QueryRunnerLike,
    kind: RevocationKind,
    orgId: string,
    value: string,
    notBefore: Date | null,
    expiresAt: Date | number,
  ): Promise<RevocationEntry> {
    const query: Query = (sql, params) => em.query(sql, params);
    const expires = typeof expiresAt === 'number' ? new Date(expiresAt * 1000) : expiresAt;
    // One row per thing revoked: a second revocation moves "not before" forward (null = everything wins).
    const [row] = (await query(
      `INSERT INTO identity.revocations (key_hash, kind, org_id, not_before, expires_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key_hash) DO UPDATE SET
         not_before = CASE WHEN identity.revocations.not_before IS NULL OR EXCLUDED.not_before IS NULL THEN NULL
                           ELSE GREATEST(identity.revocations.not_before, EXCLUDED.not_before) END,
         expires_at = GREATEST(identity.revocations.expires_at, EXCLUDED.expires_at),
         updated_at = now()
       RETURNING key_hash, not_before, expires_at`,
      [revocationKey(kind, orgId, value), kind, orgId, notBefore, expires],
    )) as RevocationRow[];
    return toEntry(row);
  }
}

function notBeforeNow(): Date {
  return new Date((Math.floor(Date.now() / 1000) + REVOCATION_GRACE_SECONDS) * 1000);
}

function horizon(): Date {
  return new Date(Date.now() + REVOCATION_HORIZON_SECONDS * 1000);
}

/** The answer to a caller that holds `heldVersion` of the list (entries only when they changed). */
export function snapshotFor(list: RevocationList, heldVersion: string | undefined): RevocationSnapshot {
  const entries = list.snapshot();
  const version = revocationsVersion(entries);
  const ageMs = Math.min(list.ageMs(), 2 ** 31);
  return heldVersion === version ? { version, ageMs } : { version, ageMs, entries };
}
