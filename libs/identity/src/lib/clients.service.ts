import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { GrantType, RevocationEntry } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { OrgEntity } from './entities/org.entity';
import { OAuthError } from './oauth-error';
import { DELEGATE_SCOPE } from '@broker/auth-kit';
import { RevocationsService } from './revocation/revocations.service';

const SECRET_PURPOSE = 'client_secret';

export interface NewClient {
  orgId: string;
  name: string;
  grantTypes: GrantType[];
  scopes: string[];
  redirectUris?: string[];
  /**
   * Lets people who sign in through this client get `tokens:delegate` (if their own scopes hold it).
   * Required, and only meaningful, for an `authorization_code` client whose scopes include it.
   */
  allowUserDelegation?: boolean;
}

/** The client cannot be created as asked (a message for the operator). */
export class ClientPolicyError extends Error {}

/** A created client with its secret; the secret is shown this once and never stored. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Orgs and the broker's OAuth clients: creation and authentication by id and secret. */
export class ClientsService {
  // A hash to compare against when the client id is unknown, so timing does not reveal which ids exist.
  private readonly decoyHash: string;

  private readonly revocations: RevocationsService;

  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: KeyedHasher,
    revocations?: RevocationsService,
  ) {
    this.decoyHash = hasher.hash(SECRET_PURPOSE, randomBytes(32).toString('base64url'));
    this.revocations = revocations ?? new RevocationsService(dataSource);
  }

  /** Creates the org if it does not exist yet. */
  async ensureOrg(id: string, name: string): Promise<void> {
    // Plain SQL: names only the columns it writes (an entity upsert would also return every defaulted column).
    await this.dataSource.query(
      `INSERT INTO identity.orgs (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name WHERE identity.orgs.name IS DISTINCT FROM EXCLUDED.name`,
      [id, name],
    );
  }

  /** Creates a client with a fresh random secret. */
  async createClient(
    input: NewClient,
    clientId = `cl_${randomBytes(12).toString('hex')}`,
  ): Promise<ClientCredentials> {
    checkDelegationPolicy(input);
    const clientSecret = randomBytes(32).toString('base64url');
    // updateEntity(false): no RETURNING of defaulted columns (works against a schema migrated before the newest ones).
    await this.dataSource
      .getRepository(OAuthClientEntity)
      .createQueryBuilder()
      .insert()
      .values(this.row(input, clientId, clientSecret))
      .updateEntity(false)
      .execute();
    return { clientId, clientSecret };
  }

  /**
   * Creates or updates a client with a secret chosen by the operator (the bootstrap admin client):
   * running it again with the same values changes nothing; a new secret replaces the old one.
   */
  async ensureClient(input: NewClient, clientId: string, clientSecret: string): Promise<void> {
    checkDelegationPolicy(input);
    await this.dataSource
      .getRepository(OAuthClientEntity)
      .createQueryBuilder()
      .insert()
      .values(this.row(input, clientId, clientSecret))
      .orUpdate(
        ['org_id', 'name', 'secret_hash', 'grant_types', 'scopes', 'redirect_uris', 'allow_user_delegation'],
        ['id'],
      )
      .updateEntity(false)
      .execute();
  }

  private row(input: NewClient, clientId: string, clientSecret: string): Partial<OAuthClientEntity> {
    return {
      id: clientId,
      orgId: input.orgId,
      name: input.name,
      secretHash: this.hasher.hash(SECRET_PURPOSE, clientSecret),
      grantTypes: input.grantTypes,
      scopes: input.scopes,
      redirectUris: input.redirectUris ?? [],
      allowUserDelegation: input.allowUserDelegation === true,
    };
  }

  /**
   * The client whose id and secret match; `invalid_client` otherwise (same answer and timing for
   * every cause, a disabled client or org included).
   */
  async authenticate(clientId: string, clientSecret: string): Promise<OAuthClientEntity> {
    const found = await this.dataSource
      .getRepository(OAuthClientEntity)
      .createQueryBuilder('c')
      .innerJoin(OrgEntity, 'o', 'o.id = c.org_id')
      .addSelect('o.disabled', 'org_disabled')
      .where('c.id = :clientId', { clientId })
      .getRawAndEntities<{ org_disabled: boolean }>();
    const client = found.entities[0];
    const ok = this.hasher.matches(SECRET_PURPOSE, clientSecret, client?.secretHash ?? this.decoyHash);
    // A client identified by URL has no secret: any secret sent for it is refused like a wrong one.
    if (
      !client ||
      !ok ||
      client.disabled ||
      client.kind === 'metadata_document' ||
      found.raw[0]?.org_disabled
    )
      throw new OAuthError('invalid_client', 'client authentication failed');
    return client;
  }

  /** The client (enabled or not), or null. */
  find(clientId: string): Promise<OAuthClientEntity | null> {
    return this.dataSource.getRepository(OAuthClientEntity).findOneBy({ id: clientId });
  }

  /** The org's clients, oldest first. */
  listForOrg(orgId: string): Promise<OAuthClientEntity[]> {
    return this.dataSource
      .getRepository(OAuthClientEntity)
      .find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The client if it exists and is enabled (a renewal must not outlive the client's right to it). */
  async findActive(orgId: string, clientId: string): Promise<OAuthClientEntity | null> {
    const client = await this.dataSource.getRepository(OAuthClientEntity).findOneBy({ id: clientId, orgId });
    return client && !client.disabled ? client : null;
  }

  /**
   * Disables a client: it can no longer authenticate, and every token it holds or issued is refused
   * everywhere within seconds. `orgId` limits it to one org (the admin API); the CLI may omit it.
   * False when there is no such client.
   */
  disable(clientId: string, orgId?: string): Promise<boolean> {
    return this.changeClient(clientId, orgId, async (em, client) => {
      await em.query('UPDATE identity.oauth_clients SET disabled = true WHERE id = $1', [client.id]);
      return [await this.revocations.revokeClient(em, client.orgId, client.id)];
    });
  }

  /** Enables a disabled client again (its earlier tokens stay revoked). */
  enable(clientId: string, orgId?: string): Promise<boolean> {
    return this.changeClient(clientId, orgId, async (em, client) => {
      await em.query('UPDATE identity.oauth_clients SET disabled = false WHERE id = $1', [client.id]);
      return [];
    });
  }

  /** Deletes a client, its codes and refresh tokens, and revokes every token it holds or issued. */
  delete(clientId: string, orgId?: string): Promise<boolean> {
    return this.changeClient(clientId, orgId, async (em, client) => {
      // Its codes and refresh tokens go with it (ON DELETE CASCADE); its access tokens by the entry.
      const entry = await this.revocations.revokeClient(em, client.orgId, client.id);
      await em.query('DELETE FROM identity.oauth_clients WHERE id = $1', [client.id]);
      return [entry];
    });
  }

  /** Revokes every token the client holds or issued until now (its refresh tokens too); it stays enabled. */
  revokeAllOfClient(clientId: string, orgId?: string): Promise<boolean> {
    return this.changeClient(clientId, orgId, async (em, client) => {
      await em.query(
        `UPDATE identity.refresh_tokens SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL`,
        [client.id],
      );
      return [await this.revocations.revokeClient(em, client.orgId, client.id)];
    });
  }

  private async changeClient(
    clientId: string,
    orgId: string | undefined,
    change: (em: EntityManager, client: OAuthClientEntity) => Promise<RevocationEntry[]>,
  ): Promise<boolean> {
    let entries: RevocationEntry[] | undefined;
    await this.dataSource.transaction(async (em) => {
      const client = await em.getRepository(OAuthClientEntity).findOne({
        where: orgId === undefined ? { id: clientId } : { id: clientId, orgId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!client) return;
      entries = await change(em, client);
    });
    if (!entries) return false;
    this.revocations.committed(entries);
    return true;
  }
}

/** `tokens:delegate` on a code-flow client needs the explicit flag (see NewClient.allowUserDelegation). */
function checkDelegationPolicy(input: NewClient): void {
  if (
    input.grantTypes.includes('authorization_code') &&
    input.scopes.includes(DELEGATE_SCOPE) &&
    input.allowUserDelegation !== true
  ) {
    throw new ClientPolicyError(
      `${DELEGATE_SCOPE} lets its holder act as any user of the org: an authorization_code client gets it only with allowUserDelegation (admin CLI: --allow-user-delegation)`,
    );
  }
}
