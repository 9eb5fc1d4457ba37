import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { GrantType } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { OrgEntity } from './entities/org.entity';
import { OAuthError } from './oauth-error';

const SECRET_PURPOSE = 'client_secret';

export interface NewClient {
  orgId: string;
  name: string;
  grantTypes: GrantType[];
  scopes: string[];
  redirectUris?: string[];
}

/** A created client with its secret; the secret is shown this once and never stored. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Orgs and the broker's OAuth clients: creation and authentication by id and secret. */
export class ClientsService {
  // A hash to compare against when the client id is unknown, so timing does not reveal which ids exist.
  private readonly decoyHash: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: KeyedHasher,
  ) {
    this.decoyHash = hasher.hash(SECRET_PURPOSE, randomBytes(32).toString('base64url'));
  }

  /** Creates the org if it does not exist yet. */
  async ensureOrg(id: string, name: string): Promise<void> {
    await this.dataSource.getRepository(OrgEntity).upsert({ id, name }, { conflictPaths: ['id'], skipUpdateIfNoValuesChanged: true });
  }

  /** Creates a client with a fresh random secret. */
  async createClient(input: NewClient, clientId = `cl_${randomBytes(12).toString('hex')}`): Promise<ClientCredentials> {
    const clientSecret = randomBytes(32).toString('base64url');
    await this.dataSource.getRepository(OAuthClientEntity).insert(this.row(input, clientId, clientSecret));
    return { clientId, clientSecret };
  }

  /**
   * Creates or updates a client with a secret chosen by the operator (the bootstrap admin client):
   * running it again with the same values changes nothing; a new secret replaces the old one.
   */
  async ensureClient(input: NewClient, clientId: string, clientSecret: string): Promise<void> {
    await this.dataSource.getRepository(OAuthClientEntity).upsert(this.row(input, clientId, clientSecret), { conflictPaths: ['id'] });
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
    if (!client || !ok || client.disabled || found.raw[0]?.org_disabled) throw new OAuthError('invalid_client', 'client authentication failed');
    return client;
  }

  /** The client, or null. */
  find(clientId: string): Promise<OAuthClientEntity | null> {
    return this.dataSource.getRepository(OAuthClientEntity).findOneBy({ id: clientId });
  }

  /** The org's clients, oldest first. */
  listForOrg(orgId: string): Promise<OAuthClientEntity[]> {
    return this.dataSource.getRepository(OAuthClientEntity).find({ where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Sets the disabled flag (a disabled client cannot authenticate); false when there is no such client. */
  async setDisabled(clientId: string, disabled: boolean): Promise<boolean> {
    const result = await this.dataSource.getRepository(OAuthClientEntity).update({ id: clientId }, { disabled });
    return (result.affected ?? 0) > 0;
  }

  /** Deletes the client; its authorization codes and refresh tokens go with it. False when there is no such client. */
  async delete(clientId: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(OAuthClientEntity).delete({ id: clientId });
    return (result.affected ?? 0) > 0;
  }
}
