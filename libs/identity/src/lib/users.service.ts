import { DataSource, EntityManager } from 'typeorm';
import type { RevocationEntry, UserInfoResponse } from '@broker/contracts';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { UserEntity } from './entities/user.entity';
import { RevocationsService } from './revocation/revocations.service';

export interface UserProfile {
  sub: string;
  givenName?: string | null;
  familyName?: string | null;
  email?: string | null;
  zoneinfo?: string | null;
  /** The upstream provider says the e-mail address is verified (`email_verified: true`). */
  emailVerified?: boolean;
}

/**
 * The people of each org: invited (created) by an operator, linked to their upstream identity when
 * they sign in, looked up as token subjects; disabled or deleted with their tokens revoked.
 */
export class UsersService {
  private readonly revocations: RevocationsService;

  constructor(
    private readonly dataSource: DataSource,
    revocations?: RevocationsService,
  ) {
    this.revocations = revocations ?? new RevocationsService(dataSource);
  }

  /**
   * Creates (invites) the user or refreshes their profile; `registered_at` keeps the first time.
   * `scopes`, when given, replaces what the person may do when they sign in (see `setScopes`).
   */
  async upsert(orgId: string, profile: UserProfile, scopes?: string[]): Promise<UserEntity> {
    const repo = this.dataSource.getRepository(UserEntity);
    await repo.upsert(
      {
        orgId,
        sub: profile.sub,
        givenName: profile.givenName ?? null,
        familyName: profile.familyName ?? null,
        email: profile.email ?? null,
        zoneinfo: profile.zoneinfo ?? null,
        ...(scopes ? { scopes: [...new Set(scopes)] } : {}),
      },
      { conflictPaths: ['orgId', 'sub'] },
    );
    return repo.findOneByOrFail({ orgId, sub: profile.sub });
  }

  /**
   * Creates (invites) the user unless one with this subject exists; `created` is false then, and
   * nothing changes. `scopes`: what the person may do when they sign in (none by default).
   */
  async create(
    orgId: string,
    profile: UserProfile,
    scopes: string[] = [],
  ): Promise<{ user: UserEntity; created: boolean }> {
    const repo = this.dataSource.getRepository(UserEntity);
    const inserted = await repo
      .createQueryBuilder()
      .insert()
      .values({
        orgId,
        sub: profile.sub,
        givenName: profile.givenName ?? null,
        familyName: profile.familyName ?? null,
        email: profile.email ?? null,
        zoneinfo: profile.zoneinfo ?? null,
        scopes: [...new Set(scopes)],
      })
      .orIgnore()
      .returning('id')
      .execute();
    return {
      user: await repo.findOneByOrFail({ orgId, sub: profile.sub }),
      created: (inserted.raw as unknown[]).length > 0,
    };
  }

  /** The org's users, oldest first. */
  list(orgId: string): Promise<UserEntity[]> {
    return this.dataSource
      .getRepository(UserEntity)
      .find({ where: { orgId }, order: { registeredAt: 'ASC', sub: 'ASC' } });
  }

  /** Replaces what the person may do (their tokens from a sign-in: client scopes ∩ these); false if unknown. */
  async setScopes(orgId: string, sub: string, scopes: string[]): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      'UPDATE identity.users SET scopes = $3 WHERE org_id = $1 AND sub = $2',
      [orgId, sub, [...new Set(scopes)]],
    )) as [unknown, number];
    return count > 0;
  }

  /** The org's user with this subject if it exists and is not disabled. */
  async findActive(orgId: string, sub: string): Promise<UserEntity | null> {
    const user = await this.find(orgId, sub);
    return user && !user.disabled ? user : null;
  }

  /** Disables a user: no sign-in, no renewal, and every token they hold is refused within seconds. */
  disable(orgId: string, sub: string): Promise<boolean> {
    return this.changeUser(orgId, sub, async (em, user) => {
      await em.query('UPDATE identity.users SET disabled = true WHERE id = $1', [user.id]);
      return this.revokeEverything(em, user);
    });
  }

  /** Enables a disabled user again (their earlier tokens stay revoked). */
  enable(orgId: string, sub: string): Promise<boolean> {
    return this.changeUser(orgId, sub, async (em, user) => {
      await em.query('UPDATE identity.users SET disabled = false WHERE id = $1', [user.id]);
      return [];
    });
  }

  /** Deletes a user and revokes everything they hold (tokens, refresh tokens, codes not yet redeemed). */
  delete(orgId: string, sub: string): Promise<boolean> {
    return this.changeUser(orgId, sub, async (em, user) => {
      const entries = await this.revokeEverything(em, user);
      await em.query('DELETE FROM identity.users WHERE id = $1', [user.id]);
      return entries;
    });
  }

  /** Revokes every token the user holds until now (refresh tokens included); they stay enabled. */
  revokeAllOfUser(orgId: string, sub: string): Promise<boolean> {
    return this.changeUser(orgId, sub, (em, user) => this.revokeEverything(em, user));
  }

  private async revokeEverything(em: EntityManager, user: UserEntity): Promise<RevocationEntry[]> {
    await em.query(
      'UPDATE identity.refresh_tokens SET revoked_at = now() WHERE org_id = $1 AND sub = $2 AND revoked_at IS NULL',
      [user.orgId, user.sub],
    );
    await em.query(
      'UPDATE identity.authorization_codes SET consumed_at = now() WHERE org_id = $1 AND sub = $2 AND consumed_at IS NULL',
      [user.orgId, user.sub],
    );
    return [await this.revocations.revokeSubject(em, user.orgId, user.sub)];
  }

  private async changeUser(
    orgId: string,
    sub: string,
    change: (em: EntityManager, user: UserEntity) => Promise<RevocationEntry[]>,
  ): Promise<boolean> {
    let entries: RevocationEntry[] | undefined;
    await this.dataSource.transaction(async (em) => {
      const user = await em
        .getRepository(UserEntity)
        .findOne({ where: { orgId, sub }, lock: { mode: 'pessimistic_write' } });
      if (!user) return;
      entries = await change(em, user);
    });
    if (!entries) return false;
    this.revocations.committed(entries);
    return true;
  }

  /** The org's user with this subject, if any (never another org's). */
  find(orgId: string, sub: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ orgId, sub });
  }

  /**
   * Seed 003 UserInfoResponse for a subject of the org: a person, or a service account (an OAuth
   * client acting as itself), whose name is the client's name.
   */
  async userInfo(orgId: string, sub: string): Promise<UserInfoResponse | null> {
    const user = await this.find(orgId, sub);
    if (user) {
      const name = [user.givenName, user.familyName].filter(Boolean).join(' ') || user.email || user.sub;
      return {
        sub: user.sub,
        given_name: user.givenName,
        family_name: user.familyName,
        email: user.email,
        registered_at: user.registeredAt.toISOString(),
        name,
      };
    }
    const client = await this.dataSource.getRepository(OAuthClientEntity).findOneBy({ id: sub, orgId });
    if (!client) return null;
    return {
      sub,
      given_name: null,
      family_name: null,
      email: null,
      registered_at: client.createdAt.toISOString(),
      name: client.name,
    };
  }
}
