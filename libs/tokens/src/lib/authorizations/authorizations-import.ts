import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EnvelopeCipher } from '@broker/crypto';
import { aheadDueAt } from '../refresh/refresh-timing';

const CREDENTIALS = 'tokens.credentials';

/** One grant to import: who, where, the tokens in clear, and optionally its history. */
export interface ImportedAuthorization {
  providerId: string;
  userId: string;
  oauthClientId: string;
  scopes: string[];
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date | null;
  /** When these tokens were issued (default: now); their lifetime is measured from it. */
  writtenAt?: Date;
  /** When a caller last used it (default: never, so it is kept alive rather than refreshed ahead). */
  lastUsedAt?: Date | null;
  /** When it was last refreshed (default: never; its keep-alive counts from `writtenAt`). */
  lastRefreshedAt?: Date | null;
  /** Its next look from the refresh schedule (default: ahead of expiry when it has a refresh token). */
  refreshDueAt?: Date | null;
}

/**
 * Bulk import of existing grants (a migration from another token store, or a benchmark's seed):
 * many authorizations per statement, each token envelope-encrypted exactly as a consent stores it
 * (its own data key, bound to its credential row). Rows that already exist (same org, provider and
 * user) are skipped, not replaced. Returns the ids created, in input order (null for a skipped one).
 */
export class AuthorizationsImport {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
  ) {}

  async insertMany(orgId: string, items: ImportedAuthorization[]): Promise<(string | null)[]> {
    if (!items.length) return [];
    const now = new Date();
    const ids = items.map(() => randomUUID());
    const credentialIds = items.map(() => randomUUID());
    const enc = (value: string, i: number, column: string) =>
      this.cipher.encrypt(value, { table: CREDENTIALS, column, orgId, rowId: credentialIds[i] });
    const access = items.map((it, i) => enc(it.accessToken, i, 'access_token'));
    const refresh = items.map((it, i) => (it.refreshToken ? enc(it.refreshToken, i, 'refresh_token') : null));
    const due = items.map((it) =>
      it.refreshDueAt !== undefined
        ? it.refreshDueAt
        : it.refreshToken && it.expiresAt
          ? aheadDueAt(it.expiresAt, it.writtenAt ?? now)
          : null,
    );
    return this.dataSource.transaction(async (em) => {
      const inserted = (await em.query(
        `INSERT INTO tokens.authorizations (id, org_id, provider_id, user_id, oauth_client_id, scopes, status, credential_id, last_used_at, last_refreshed_at, created_at, updated_at)
         SELECT v.id, $1, v.provider_id, v.user_id, v.client_id, string_to_array(v.scopes, ' '), 'active', v.credential_id, v.last_used_at, v.last_refreshed_at, v.written_at, v.written_at
           FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[])
             AS v(id, provider_id, user_id, client_id, scopes, credential_id, last_used_at, last_refreshed_at, written_at)
         ON CONFLICT (org_id, provider_id, user_id, (COALESCE(account_id, ''))) DO NOTHING
         RETURNING id`,
        [
          orgId,
          ids,
          items.map((it) => it.providerId),
          items.map((it) => it.userId),
          items.map((it) => it.oauthClientId),
          items.map((it) => it.scopes.join(' ')),
          credentialIds,
          items.map((it) => it.lastUsedAt ?? null),
          items.map((it) => it.lastRefreshedAt ?? null),
          items.map((it) => it.writtenAt ?? now),
        ],
      )) as { id: string }[];
      const kept = new Set(inserted.map((r) => r.id));
      const rows = items.map((_, i) => i).filter((i) => kept.has(ids[i]));
      if (rows.length) {
        await em.query(
          `INSERT INTO ${CREDENTIALS} (id, org_id, authorization_id, access_token, refresh_token, token_type, expires_at, key_id, refresh_due_at, created_at, updated_at)
           SELECT v.id, $1, v.authorization_id, v.access_token, v.refresh_token, 'Bearer', v.expires_at, $2, v.due, v.written_at, v.written_at
             FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])
               AS v(id, authorization_id, access_token, refresh_token, expires_at, due, written_at)`,
          [
            orgId,
            this.cipher.activeKeyId,
            rows.map((i) => credentialIds[i]),
            rows.map((i) => ids[i]),
            rows.map((i) => access[i]),
            rows.map((i) => refresh[i]),
            rows.map((i) => items[i].expiresAt),
            rows.map((i) => due[i]),
            rows.map((i) => items[i].writtenAt ?? now),
          ],
        );
      }
      return ids.map((id) => (kept.has(id) ? id : null));
    });
  }
}
