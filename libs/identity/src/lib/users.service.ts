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
