import { DataSource } from 'typeorm';
import type { UserInfoResponse } from '@broker/contracts';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { UserEntity } from './entities/user.entity';

export interface UserProfile {
  sub: string;
  givenName?: string | null;
  familyName?: string | null;
  email?: string | null;
  zoneinfo?: string | null;
}

/** The people of each org: created or updated when they sign in, looked up as token subjects. */
export class UsersService {
  constructor(private readonly dataSource: DataSource) {}

  /** Creates the user or refreshes their profile; `registered_at` keeps the first sign-in. */
  async upsert(orgId: string, profile: UserProfile): Promise<UserEntity> {
    const repo = this.dataSource.getRepository(UserEntity);
    await repo.upsert(
      {
        orgId,
        sub: profile.sub,
        givenName: profile.givenName ?? null,
        familyName: profile.familyName ?? null,
        email: profile.email ?? null,
        zoneinfo: profile.zoneinfo ?? null,
      },
      { conflictPaths: ['orgId', 'sub'] },
    );
    return repo.findOneByOrFail({ orgId, sub: profile.sub });
  }

  /** Creates the user unless one with this subject exists; `created` is false (and nothing changes) then. */
  async create(orgId: string, profile: UserProfile): Promise<{ user: UserEntity; created: boolean }> {
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
      })
      .orIgnore()
      .returning('id')
      .execute();
    return { user: await repo.findOneByOrFail({ orgId, sub: profile.sub }), created: (inserted.raw as unknown[]).length > 0 };
  }

  /** The org's users, oldest first. */
  list(orgId: string): Promise<UserEntity[]> {
    return this.dataSource.getRepository(UserEntity).find({ where: { orgId }, order: { registeredAt: 'ASC', sub: 'ASC' } });
  }

  /** Sets the disabled flag; false when the org has no such user. */
  async setDisabled(orgId: string, sub: string, disabled: boolean): Promise<boolean> {
    const result = await this.dataSource.getRepository(UserEntity).update({ orgId, sub }, { disabled });
    return (result.affected ?? 0) > 0;
  }

  /** Deletes the user with their authorization codes and refresh tokens; false when the org has no such user. */
  async delete(orgId: string, sub: string): Promise<boolean> {
    return this.dataSource.transaction(async (em) => {
      await em.query('DELETE FROM identity.refresh_tokens WHERE org_id = $1 AND sub = $2', [orgId, sub]);
      await em.query('DELETE FROM identity.authorization_codes WHERE org_id = $1 AND sub = $2', [orgId, sub]);
      const result = await em.getRepository(UserEntity).delete({ orgId, sub });
      return (result.affected ?? 0) > 0;
    });
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
    return { sub, given_name: null, family_name: null, email: null, registered_at: client.createdAt.toISOString(), name: client.name };
  }
}
