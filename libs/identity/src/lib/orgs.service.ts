import { DataSource } from 'typeorm';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { OrgEntity } from './entities/org.entity';
import { UserEntity } from './entities/user.entity';

/** An org with how many clients and users it has. */
export interface OrgSummary {
  id: string;
  name: string;
  disabled: boolean;
  createdAt: Date;
  clients: number;
  users: number;
}

/** What deleting an org removed with it. */
export interface DeletedOrg {
  clients: number;
  users: number;
  refreshTokens: number;
  authorizationCodes: number;
}

/**
 * The tenants (the seed's `team_id`): created by operators, listed, disabled and deleted. An org's
 * providers and authorizations live in other domains: whoever deletes an org checks those first.
 */
export class OrgsService {
  constructor(private readonly dataSource: DataSource) {}

  /** Creates the org; `created` is false (and nothing changes) when it already exists. */
  async create(id: string, name: string): Promise<{ org: OrgEntity; created: boolean }> {
    const repo = this.dataSource.getRepository(OrgEntity);
    const inserted = await repo.createQueryBuilder().insert().values({ id, name }).orIgnore().returning('id').execute();
    const created = (inserted.raw as unknown[]).length > 0;
    return { org: await repo.findOneByOrFail({ id }), created };
  }

  /** The org, or null. */
  find(id: string): Promise<OrgEntity | null> {
    return this.dataSource.getRepository(OrgEntity).findOneBy({ id });
  }

  /** Every org with its client and user counts, oldest first. */
  async list(): Promise<OrgSummary[]> {
    const orgs = await this.dataSource.getRepository(OrgEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    const counts = async (entity: typeof OAuthClientEntity | typeof UserEntity) =>
      new Map(
        ((await this.dataSource.getRepository(entity).createQueryBuilder('x').select('x.org_id', 'org').addSelect('count(*)::int', 'n').groupBy('x.org_id').getRawMany()) as { org: string; n: number }[]).map(
          (r) => [r.org, r.n],
        ),
      );
    const [clients, users] = await Promise.all([counts(OAuthClientEntity), counts(UserEntity)]);
    return orgs.map((o) => ({ id: o.id, name: o.name, disabled: o.disabled, createdAt: o.createdAt, clients: clients.get(o.id) ?? 0, users: users.get(o.id) ?? 0 }));
  }

  /** Sets the disabled flag; false when there is no such org. */
  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    const result = await this.dataSource.getRepository(OrgEntity).update({ id }, { disabled });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Deletes the org with its identity data: clients (their codes and refresh tokens go with them),
   * users and their grants. Null when there is no such org. One transaction: all or nothing.
   */
  async delete(id: string): Promise<DeletedOrg | null> {
    return this.dataSource.transaction(async (em) => {
      const org = await em.getRepository(OrgEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!org) return null;
      const count = async (sql: string) => ((await em.query(sql, [id])) as [unknown[], number])[1];
      const refreshTokens = await count('DELETE FROM identity.refresh_tokens WHERE org_id = $1');
      const authorizationCodes = await count('DELETE FROM identity.authorization_codes WHERE org_id = $1');
      const clients = (await em.getRepository(OAuthClientEntity).delete({ orgId: id })).affected ?? 0;
      const users = (await em.getRepository(UserEntity).delete({ orgId: id })).affected ?? 0;
      await em.getRepository(OrgEntity).delete({ id });
      return { clients, users, refreshTokens, authorizationCodes };
    });
  }
}
