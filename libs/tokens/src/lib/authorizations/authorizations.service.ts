import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuthorizationStatus, BrokerEvent } from '@broker/contracts';
import { DecryptionError, EncryptionContext, EnvelopeCipher } from '@broker/crypto';
import { AuthorizationEntity } from './authorization.entity';
import { CredentialEntity } from './credential.entity';

const CREDENTIALS = 'tokens.credentials';

/** A token set as the provider issued it (in clear only in memory). */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string | null;
  tokenType?: string;
  expiresAt?: Date | null;
  /** When the refresh token itself expires, where the provider says (GitHub's `refresh_token_expires_in`). */
  refreshTokenExpiresAt?: Date | null;
}

export interface NewAuthorization {
  providerId: string;
  userId: string;
  oauthClientId: string;
  scopes: string[];
  externalUser?: Record<string, unknown> | null;
  tokens: TokenSet;
}

/** Per provider and status: how many authorizations, and how their refreshes went. */
export interface ProviderAuthorizationStats {
  providerId: string;
  status: AuthorizationStatus;
  count: number;
  refreshSucceeded: number;
  refreshFailed: number;
}

/**
 * Authorizations and their encrypted token sets. Tokens are bound (associated data) to their
 * credential row, column and org: a ciphertext moved elsewhere does not decrypt.
 */
export class AuthorizationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
  ) {}

  /**
   * Creates (or replaces, for a re-authorization of the same user and provider) an authorization
   * and its tokens. A re-authorization answered without a refresh token (Google without
   * `prompt=consent`, many providers on a second consent) keeps the refresh token the user already
   * had there: the provider did not revoke it, and dropping it would end offline access. Not when
   * the previous authorization was dead (`expired`...) or of another OAuth client: its refresh
   * token would be refused.
   */
  async store(orgId: string, input: NewAuthorization): Promise<AuthorizationEntity> {
    return this.dataSource.transaction(async (em) => {
      const repo = em.getRepository(AuthorizationEntity);
      const previous = await repo.findOne({ where: { orgId, providerId: input.providerId, userId: input.userId }, lock: { mode: 'pessimistic_write' } });
      let keptRefreshToken: string | null = null;
      let keptRefreshExpiry: Date | null = null;
      if (!input.tokens.refreshToken && previous?.status === 'active' && previous.oauthClientId === input.oauthClientId) {
        const old = await em.getRepository(CredentialEntity).findOneBy({ orgId, authorizationId: previous.id });
        if (old?.refreshToken) {
          keptRefreshToken = this.cipher.decryptString(old.refreshToken, context(orgId, old.id, 'refresh_token'));
          keptRefreshExpiry = previous.refreshTokenExpiresAt;
        }
      }
      await repo.upsert(
        {
          orgId,
          providerId: input.providerId,
          userId: input.userId,
          oauthClientId: input.oauthClientId,
          scopes: input.scopes,
          // TypeORM's deep-partial type cannot express an arbitrary JSON object.
          externalUser: (input.externalUser ?? null) as never,
          status: 'active',
          refreshTokenExpiresAt: input.tokens.refreshToken ? (input.tokens.refreshTokenExpiresAt ?? null) : keptRefreshExpiry,
        },
        { conflictPaths: ['orgId', 'providerId', 'userId'] },
      );
      const authorization = await repo.findOneByOrFail({ orgId, providerId: input.providerId, userId: input.userId });
      await em.getRepository(CredentialEntity).delete({ authorizationId: authorization.id });
      const credentialId = randomUUID();
      const access = this.cipher.encrypt(input.tokens.accessToken, context(orgId, credentialId, 'access_token'));
      const refreshToken = input.tokens.refreshToken || keptRefreshToken;
      await em.getRepository(CredentialEntity).insert({
        id: credentialId,
        orgId,
        authorizationId: authorization.id,
        accessToken: access,
        refreshToken: refreshToken ? this.cipher.encrypt(refreshToken, context(orgId, credentialId, 'refresh_token')) : null,
        tokenType: input.tokens.tokenType ?? 'Bearer',
        expiresAt: input.tokens.expiresAt ?? null,
        keyId: this.cipher.keyIdOf(access),
      });
      authorization.credentialId = credentialId;
      return repo.save(authorization);
    });
  }

  /**
   * Whether PostgreSQL records what a broker event claims. Events travel on Redis, which is not a
   * trust boundary: before an event causes anything outside (a webhook), it is checked here, so a
   * forged one claims something the database does not hold and is dropped.
   */
  async confirms(event: BrokerEvent): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(event.authorizationId)) return false;
    const row = await this.dataSource.getRepository(AuthorizationEntity).findOneBy({ id: event.authorizationId, orgId: event.orgId });
    if (event.type === 'authorization.revoked') {
      if (row) return false;
      const audit = (await this.dataSource.query(`SELECT 1 FROM tokens.audit_events WHERE org_id = $1 AND authorization_id = $2 AND type = 'unlinked' LIMIT 1`, [
        event.orgId,
        event.authorizationId,
      ])) as unknown[];
      return audit.length > 0;
    }
    if (!row || row.providerId !== event.providerId || row.userId !== event.userId) return false;
    return event.type === 'authorization.expired' ? row.status !== 'active' : row.status === 'active';
  }

  /** Every authorization of a provider in the org (for deletion). */
  forProvider(orgId: string, providerId: string): Promise<AuthorizationEntity[]> {
    return this.dataSource.getRepository(AuthorizationEntity).find({ where: { orgId, providerId }, order: { createdAt: 'ASC' } });
  }

  /** Every authorization of a user in the org (their linked provider accounts). */
  forUser(orgId: string, userId: string): Promise<AuthorizationEntity[]> {
    return this.dataSource.getRepository(AuthorizationEntity).find({ where: { orgId, userId }, order: { createdAt: 'ASC' } });
  }

  /** The authorization's tokens in clear (for a call to the provider); null when it has none. */
  async tokens(orgId: string, authorizationId: string): Promise<TokenSet | null> {
    const row = await this.dataSource.getRepository(CredentialEntity).findOneBy({ orgId, authorizationId });
    if (!row) return null;
    return {
      accessToken: this.cipher.decryptString(row.accessToken, context(orgId, row.id, 'access_token')),
      refreshToken: row.refreshToken ? this.cipher.decryptString(row.refreshToken, context(orgId, row.id, 'refresh_token')) : null,
      tokenType: row.tokenType,
      expiresAt: row.expiresAt,
    };
  }

  /** Removes the authorization and its tokens (idempotent). */
  async remove(orgId: string, id: string): Promise<void> {
    await this.dataSource.getRepository(AuthorizationEntity).delete({ orgId, id });
  }

  /**
   * Removes an authorization and records why, in one transaction: the `unlinked` audit entry is
   * what an `authorization.revoked` event about it is confirmed by (see `confirms`).
   */
  async unlink(orgId: string, id: string, detail: string): Promise<void> {
    await this.dataSource.transaction(async (em) => {
      await em.query(`INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, 'unlinked', $3)`, [orgId, id, detail]);
      await em.getRepository(AuthorizationEntity).delete({ orgId, id });
    });
  }

  /** Counts per provider and status, with refresh outcomes, for the org's STATS job. */
  async statsByProvider(orgId: string): Promise<ProviderAuthorizationStats[]> {
    const rows = (await this.dataSource.query(
      `SELECT provider_id, status, count(*)::int AS count, coalesce(sum(refresh_succeeded), 0)::int AS ok, coalesce(sum(refresh_failed), 0)::int AS failed
         FROM tokens.authorizations WHERE org_id = $1 GROUP BY provider_id, status ORDER BY provider_id, status`,
      [orgId],
    )) as { provider_id: string; status: AuthorizationStatus; count: number; ok: number; failed: number }[];
    return rows.map((r) => ({ providerId: r.provider_id, status: r.status, count: r.count, refreshSucceeded: r.ok, refreshFailed: r.failed }));
  }

  /** How many token sets each keyring key wraps (for key rotation: a key may go once it wraps nothing). */
  async valuesByKey(): Promise<Record<string, number>> {
    const rows = (await this.dataSource.query(`SELECT key_id, count(*)::int AS n FROM ${CREDENTIALS} GROUP BY key_id`)) as { key_id: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }

  /** How many token sets are still wrapped by a key other than the active one. */
  async countDue(): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT count(*)::int AS n FROM ${CREDENTIALS} WHERE key_id <> $1`, [this.cipher.activeKeyId])) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  /**
   * Re-wraps up to `limit` token sets after `afterId` under the active key; compare-and-swap on the
   * row version. Rows that do not decrypt are counted as failed and left alone.
   */
  async rewrapBatch(
    limit: number,
    afterId = '00000000-0000-0000-0000-000000000000',
  ): Promise<{ scanned: number; rewrapped: number; conflicts: number; failed: number; lastId?: string }> {
    const rows = (await this.dataSource.query(
      `SELECT id, org_id, access_token, refresh_token, version FROM ${CREDENTIALS} WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3`,
      [this.cipher.activeKeyId, afterId, limit],
    )) as { id: string; org_id: string; access_token: string; refresh_token: string | null; version: number }[];
    const progress = { scanned: rows.length, rewrapped: 0, conflicts: 0, failed: 0, lastId: rows.at(-1)?.id };
    for (const row of rows) {
      let access: string;
      let refresh: string | null;
      try {
        access = this.cipher.rewrap(row.access_token, context(row.org_id, row.id, 'access_token'));
        refresh = row.refresh_token ? this.cipher.rewrap(row.refresh_token, context(row.org_id, row.id, 'refresh_token')) : null;
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err;
        progress.failed++;
        continue;
      }
      const [, count] = (await this.dataSource.query(
        `UPDATE ${CREDENTIALS} SET access_token = $3, refresh_token = $4, key_id = $5, version = version + 1, updated_at = now() WHERE id = $1 AND version = $2`,
        [row.id, row.version, access, refresh, this.cipher.activeKeyId],
      )) as [unknown, number];
      if (count === 1) progress.rewrapped++;
      else progress.conflicts++;
    }
    return progress;
  }
}

function context(orgId: string, rowId: string, column: string): EncryptionContext {
  return { table: CREDENTIALS, column, orgId, rowId };
}
