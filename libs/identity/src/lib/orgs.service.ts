import { DataSource, EntityManager } from 'typeorm';
import type { RevocationEntry } from '@broker/contracts';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { OrgEntity } from './entities/org.entity';
import { UserEntity } from './entities/user.entity';
import { RevocationsService } from './revocation/revocations.service';

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
}

/**
 * The tenants (the seed's `team_id`): created by operators, listed, disabled and deleted. An org's
 * providers and linked accounts live in other domains: whoever deletes an org checks those first.
 */
export class OrgsService {
  private readonly revocations: RevocationsService;

  constructor(
    private readonly dataSource: DataSource,
    revocations?: RevocationsService,
  ) {
    this.revocations = revocations ?? new RevocationsService(dataSource);
  }

  /** Creates the org; `created` is false (and nothing changes) when it already exists. */
  async create(id: string, name: string): Promise<{ org: OrgEntity; created: boolean }> {
    const repo = this.dataSource.getRepository(OrgEntity);
    const inserted = await repo
      .createQueryBuilder()
      .insert()
      .values({ id, name })
      .orIgnore()
      .returning('id')
      .execute();
    return { org: await repo.findOneByOrFail({ id }), created: (inserted.raw as unknown[]).length > 0 };
  }

  /** The org, or null. */
  find(id: string): Promise<OrgEntity | null> {
    return this.dataSource.getRepository(OrgEntity).findOneBy({ id });
  }

  /** Every org with its client and user counts, oldest first. */
  async list(): Promise<OrgSummary[]> {
    const orgs = await this.dataSource
      .getRepository(OrgEntity)
      .find({ order: { createdAt: 'ASC', id: 'ASC' } });
    const countBy = async (table: 'oauth_clients' | 'users') =>
      new Map(
        (
          (await this.dataSource.query(
            `SELECT org_id, count(*)::int AS n FROM identity.${table} GROUP BY org_id`,
          )) as { org_id: string; n: number }[]
        ).map((r) => [r.org_id, r.n]),
      );
    const [clients, users] = await Promise.all([countBy('oauth_clients'), countBy('users')]);
    return orgs.map((o) => ({
      id: o.id,
      name: o.name,
      disabled: o.disabled,
      createdAt: o.createdAt,
      clients: clients.get(o.id) ?? 0,
      users: users.get(o.id) ?? 0,
    }));
  }

  /**
   * Disables the org: its clients can no longer authenticate, and every token they hold or issued
   * is revoked (refused everywhere within seconds). False when there is no such org.
   */
  disable(id: string): Promise<boolean> {
    return this.changeOrg(id, async (em) => {
      await em.query('UPDATE identity.orgs SET disabled = true WHERE id = $1', [id]);
      return this.revokeClients(em, id);
    });
  }

  /** Enables a disabled org again (the tokens revoked when it was disabled stay revoked). */
  enable(id: string): Promise<boolean> {
    return this.changeOrg(id, async (em) => {
      await em.query('UPDATE identity.orgs SET disabled = false WHERE id = $1', [id]);
      return [];
    });
  }

  /**
   * Revokes every token that the org's clients hold or issued until now (their refresh tokens too,
   * so every sign-in session ends); the org stays enabled. Null when there is no such org, else how
   * many clients that covered.
   */
  async revokeAll(id: string): Promise<number | null> {
    let clients = 0;
    const done = await this.changeOrg(id, async (em) => {
      const entries = await this.revokeClients(em, id);
      clients = entries.length;
      return entries;
    });
    return done ? clients : null;
  }

  /**
   * Deletes the org with its identity data — clients (with their codes and refresh tokens), users
   * and their grants — and revokes every token of its clients and users. Null when there is no such
   * org. One transaction: all or nothing.
   */
  async delete(id: string): Promise<DeletedOrg | null> {
    let deleted: DeletedOrg | null = null;
    const done = await this.changeOrg(id, async (em) => {
      const subjects = (await em.query('SELECT sub FROM identity.users WHERE org_id = $1', [id])) as {
        sub: string;
      }[];
      const entries = [
        ...(await this.revokeClients(em, id)),
        ...(await Promise.all(subjects.map((u) => this.revocations.revokeSubject(em, id, u.sub)))),
      ];
      const [, refreshTokens] = (await em.query('DELETE FROM identity.refresh_tokens WHERE org_id = $1', [
        id,
      ])) as [unknown, number];
      await em.query('DELETE FROM identity.authorization_codes WHERE org_id = $1', [id]);
      const clients = (await em.getRepository(OAuthClientEntity).delete({ orgId: id })).affected ?? 0;
      const users = (await em.getRepository(UserEntity).delete({ orgId: id })).affected ?? 0;
      await em.getRepository(OrgEntity).delete({ id });
      deleted = { clients, users, refreshTokens };
      return entries;
    });
    return done ? deleted : null;
  }

  /** Revokes what every client of the org holds or issued (refresh tokens included). */
  private async revokeClients(em: EntityManager, orgId: string): Promise<RevocationEntry[]> {
    const clients = (await em.query('SELECT id FROM identity.oauth_clients WHERE org_id = $1', [orgId])) as {
      id: string;
    }[];
    await em.query(
      'UPDATE identity.refresh_tokens SET revoked_at = now() WHERE org_id = $1 AND revoked_at IS NULL',
      [orgId],
    );
    return Promise.all(clients.map((c) => this.revocations.revokeClient(em, orgId, c.id)));
  }

  private async changeOrg(
    id: string,
    change: (em: EntityManager) => Promise<RevocationEntry[]>,
  ): Promise<boolean> {
    let entries: RevocationEntry[] | undefined;
    await this.dataSource.transaction(async (em) => {
      const org = await em
        .getRepository(OrgEntity)
        .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!org) return;
      entries = await change(em);
    });
    if (!entries) return false;
    this.revocations.committed(entries);
    return true;
  }
}
