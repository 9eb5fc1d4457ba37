import { randomUUID } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import type { AuthorizationStatus, BrokerEvent } from '@broker/contracts';
import { EnvelopeCipher } from '@broker/crypto';
import { AuthorizationEntity } from './authorization.entity';
import { CredentialEntity } from './credential.entity';
import { credentialContext as context } from './credential-context';
import { CredentialRewrap } from './credential-rewrap';
import { accountOf } from './provider-account';
import { aheadDueAt } from '../refresh/refresh-timing';

export { accountOf } from './provider-account';

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
  ) {
    this.rewrap = new CredentialRewrap(dataSource, cipher);
  }

  private readonly rewrap: CredentialRewrap;

  /**
   * Creates (or replaces, for a re-authorization of the same account) an authorization and its
   * tokens. The account is the provider's user (`externalUser.sub`): consenting with another account
   * at the same provider adds an authorization, with the same one replaces it. A re-authorization
   * answered without a refresh token (Google without `prompt=consent`, many providers on a second
   * consent) keeps the refresh token the account already had there: the provider did not revoke
   * it, and dropping it would end offline access. Not when the previous authorization was dead
   * (`expired`...) or of another OAuth client: its refresh token would be refused.
   */
  async store(orgId: string, input: NewAuthorization): Promise<AuthorizationEntity> {
    const account = accountOf(input.externalUser);
    return this.dataSource.transaction(async (em) => {
      const repo = em.getRepository(AuthorizationEntity);
      const same = { orgId, providerId: input.providerId, userId: input.userId };
      let previous = await repo.findOne({
        where: { ...same, accountId: account.id ?? IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      // An authorization whose account was never known (stored before accounts, or the provider
      // would not say) becomes this account's rather than staying beside it.
      if (!previous && account.id)
        previous = await repo.findOne({
          where: { ...same, accountId: IsNull() },
          lock: { mode: 'pessimistic_write' },
        });
      let keptRefreshToken: string | null = null;
      let keptRefreshExpiry: Date | null = null;
      if (
        !input.tokens.refreshToken &&
        previous?.status === 'active' &&
        previous.oauthClientId === input.oauthClientId
      ) {
        const old = await em
          .getRepository(CredentialEntity)
          .findOneBy({ orgId, authorizationId: previous.id });
        if (old?.refreshToken) {
          keptRefreshToken = this.cipher.decryptString(
            old.refreshToken,
            context(orgId, old.id, 'refresh_token'),
          );
          keptRefreshExpiry = previous.refreshTokenExpiresAt;
        }
      }
      const values = {
        oauthClientId: input.oauthClientId,
        scopes: input.scopes,
        // TypeORM's deep-partial type cannot express an arbitrary JSON object.
        externalUser: (input.externalUser ?? null) as never,
        status: 'active' as const,
        accountId: account.id,
        accountLabel: account.label,
        refreshTokenExpiresAt: input.tokens.refreshToken
          ? (input.tokens.refreshTokenExpiresAt ?? null)
          : keptRefreshExpiry,
      };
      let authorization: AuthorizationEntity;
      if (previous) {
        await repo.update({ id: previous.id, orgId }, values);
        authorization = await repo.findOneByOrFail({ id: previous.id, orgId });
      } else {
        authorization = await repo.save(repo.create({ ...same, ...values }));
      }
      await em.getRepository(CredentialEntity).delete({ authorizationId: authorization.id });
      const credentialId = randomUUID();
      const access = this.cipher.encrypt(
        input.tokens.accessToken,
        context(orgId, credentialId, 'access_token'),
      );
      const refreshToken = input.tokens.refreshToken || keptRefreshToken;
      await em.getRepository(CredentialEntity).insert({
        id: credentialId,
        orgId,
        authorizationId: authorization.id,
        accessToken: access,
        refreshToken: refreshToken
          ? this.cipher.encrypt(refreshToken, context(orgId, credentialId, 'refresh_token'))
          : null,
        tokenType: input.tokens.tokenType ?? 'Bearer',
        expiresAt: input.tokens.expiresAt ?? null,
        keyId: this.cipher.keyIdOf(access),
        refreshDueAt:
          refreshToken && input.tokens.expiresAt ? aheadDueAt(input.tokens.expiresAt, new Date()) : null,
      });
      authorization.credentialId = credentialId;
      const saved = await repo.save(authorization);
      // A newly linked account counts as in use (the same transaction time as its token set's write),
      // so its first refresh is planned ahead of expiry. After save(), which writes back what it loaded.
      await em.query(`UPDATE tokens.authorizations SET last_used_at = now() WHERE id = $1`, [
        authorization.id,
      ]);
      return saved;
    });
  }

  /**
   * Whether PostgreSQL records what a broker event claims. Events travel on Redis, which is not a
   * trust boundary: before an event causes anything outside (a webhook), it is checked here, so a
   * forged one claims something the database does not hold and is dropped.
   */
  async confirms(event: BrokerEvent): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(event.authorizationId)) return false;
    const row = await this.dataSource
      .getRepository(AuthorizationEntity)
      .findOneBy({ id: event.authorizationId, orgId: event.orgId });
    if (event.type === 'authorization.revoked') {
      if (row) return false;
      const audit = (await this.dataSource.query(
        `SELECT 1 FROM tokens.audit_events WHERE org_id = $1 AND authorization_id = $2 AND type = 'unlinked' LIMIT 1`,
        [event.orgId, event.authorizationId],
      )) as unknown[];
      return audit.length > 0;
    }
    if (!row || row.providerId !== event.providerId || row.userId !== event.userId) return false;
    return event.type === 'authorization.expired' ? row.status !== 'active' : row.status === 'active';
  }

  /** Every authorization of a provider in the org (for deletion). */
  forProvider(orgId: string, providerId: string): Promise<AuthorizationEntity[]> {
    return this.dataSource
      .getRepository(AuthorizationEntity)
      .find({ where: { orgId, providerId }, order: { createdAt: 'ASC' } });
  }

  /** Every authorization of a user in the org (their linked provider accounts). */
  forUser(orgId: string, userId: string): Promise<AuthorizationEntity[]> {
    return this.dataSource
      .getRepository(AuthorizationEntity)
      .find({ where: { orgId, userId }, order: { createdAt: 'ASC' } });
  }

  /** The authorization's tokens in clear (for a call to the provider); null when it has none. */
  async tokens(orgId: string, authorizationId: string): Promise<TokenSet | null> {
    const row = await this.dataSource.getRepository(CredentialEntity).findOneBy({ orgId, authorizationId });
    if (!row) return null;
    return {
      accessToken: this.cipher.decryptString(row.accessToken, context(orgId, row.id, 'access_token')),
      refreshToken: row.refreshToken
        ? this.cipher.decryptString(row.refreshToken, context(orgId, row.id, 'refresh_token'))
        : null,
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
      await em.query(
        `INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, 'unlinked', $3)`,
        [orgId, id, detail],
      );
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
    return rows.map((r) => ({
      providerId: r.provider_id,
      status: r.status,
      count: r.count,
      refreshSucceeded: r.ok,
      refreshFailed: r.failed,
    }));
  }

  /** How many token sets each keyring key wraps (for key rotation: a key may go once it wraps nothing). */
  valuesByKey(): Promise<Record<string, number>> {
    return this.rewrap.valuesByKey();
  }

  /** How many token sets are still wrapped by a key other than the active one. */
  countDue(): Promise<number> {
    return this.rewrap.countDue();
  }

  /** Re-wraps up to `limit` token sets after `afterId` under the active key (`CredentialRewrap.rewrapBatch`). */
  rewrapBatch(
    limit: number,
    afterId?: string,
  ): Promise<{ scanned: number; rewrapped: number; conflicts: number; failed: number; lastId?: string }> {
    return this.rewrap.rewrapBatch(limit, afterId);
  }
}
