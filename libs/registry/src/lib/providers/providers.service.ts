import { DataSource, EntityManager } from 'typeorm';
import { BusException } from '@broker/bus';
import type {
  CreateProviderRequest,
  GitHubAppSettings,
  ListProvidersQuery,
  OAuthProvider,
  ProviderStatus,
  ProviderType,
  UpdateProviderRequest,
} from '@broker/contracts';
import type { ResolvedProvider } from '@broker/provider-adapters';
import { JobEntity } from '../jobs/job.entity';
import { JobsService, isUuid } from '../jobs/jobs.service';
import { SecureConfigsService } from '../secure-configs/secure-configs.service';
import { ProviderEntity, ProviderInstanceConfig } from './provider.entity';

/** Resolves a provider's endpoints and metadata (the catalogue); throws an error with `fields` for bad settings. */
export type ProviderResolver = (
  type: ProviderType,
  instance: ProviderInstanceConfig,
) => Promise<ResolvedProvider>;

/** Status changes a user may make with PATCH (deletion states belong to DELETE and its job). */
const USER_STATUSES: ProviderStatus[] = ['active', 'invalid'];

/** Reads and writes an org's providers; every query is scoped by org. */
export class ProvidersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecureConfigsService,
    private readonly jobs: JobsService,
    private readonly resolve: ProviderResolver,
  ) {}

  /** The org's providers matching the filters (each filter is "any of"), newest first unless asked otherwise. */
  async list(orgId: string, query: ListProvidersQuery): Promise<OAuthProvider[]> {
    const qb = this.dataSource
      .getRepository(ProviderEntity)
      .createQueryBuilder('p')
      .where('p.org_id = :orgId', { orgId });
    // Ids and hosts compare without regard to case (a UUID or a DNS name written in capitals is the same one).
    if (query.ids?.length)
      qb.andWhere('p.id::text IN (:...ids)', { ids: query.ids.map((id) => id.toLowerCase()) });
    if (query.types?.length) qb.andWhere('p.type IN (:...types)', { types: query.types });
    if (query.host?.length)
      qb.andWhere('lower(p.host) IN (:...hosts)', { hosts: query.host.map((h) => h.toLowerCase()) });
    qb.orderBy('p.created_at', query.orderBy === 'createdAt' ? 'ASC' : 'DESC').addOrderBy('p.id', 'ASC');
    return (await qb.getMany()).map(toOAuthProvider);
  }

  async get(orgId: string, id: string): Promise<OAuthProvider> {
    return toOAuthProvider(await this.require(this.dataSource.manager, orgId, id));
  }

  /** The entity (with endpoints and config), whatever its status; null for unknown or other-org ids. */
  find(orgId: string, id: string): Promise<ProviderEntity | null> {
    return isUuid(id)
      ? this.dataSource.getRepository(ProviderEntity).findOneBy({ id, orgId })
      : Promise.resolve(null);
  }

  /** Registers a provider: its secret is encrypted into a secure config, its endpoints resolved. */
  async create(orgId: string, req: CreateProviderRequest): Promise<OAuthProvider> {
    const instance = instanceOf(req);
    const githubApp = githubAppOf(req.type, {}, req);
    let resolved: ResolvedProvider;
    try {
      resolved = await this.resolve(req.type, instance);
    } catch (err) {
      const fields = (err as { fields?: unknown }).fields;
      if (Array.isArray(fields))
        throw new BusException(
          'UNPROCESSABLE',
          (err as Error).message || 'Invalid provider settings.',
          fields,
        );
      throw err;
    }
    return this.dataSource.transaction(async (em) => {
      const secureConfigId = await this.secrets.create(em, orgId, req.clientSecret);
      const repo = em.getRepository(ProviderEntity);
      const saved = await repo.save(
        repo.create({
          orgId,
          name: req.name,
          type: req.type,
          status: 'active',
          clientId: req.clientId,
          customScopes: req.scopes ?? [],
          skipConsent: req.skipConsent ?? false,
          secureConfigId,
          metadata: resolved.metadata,
          host: resolved.metadata.host,
          config: instance,
          resolved,
          githubApp,
        }),
      );
      return toOAuthProvider(saved);
    });
  }

  /** PATCH: name, skipConsent, clientSecret and the user-settable statuses (active ↔ invalid). */
  async update(orgId: string, id: string, changes: UpdateProviderRequest): Promise<OAuthProvider> {
    if (changes.status !== undefined && !USER_STATUSES.includes(changes.status)) {
      throw new BusException('UNPROCESSABLE', 'Invalid status change.', [
        {
          name: 'status',
          message: `can be set to ${USER_STATUSES.join(' or ')}; deletion is DELETE /providers/{id}/`,
        },
      ]);
    }
    return this.dataSource.transaction(async (em) => {
      const provider = await this.require(em, orgId, id, true);
      if (provider.status === 'deleting' || provider.status === 'deletion_failed') {
        throw new BusException(
          'CONFLICT',
          `The provider is ${provider.status === 'deleting' ? 'being deleted' : 'in deletion_failed: send DELETE again to retry'}.`,
        );
      }
      if (changes.appSlug !== undefined || changes.appInstallUrl !== undefined)
        provider.githubApp = githubAppOf(provider.type, provider.githubApp ?? {}, changes);
      if (changes.name !== undefined) provider.name = changes.name;
      if (changes.skipConsent !== undefined) provider.skipConsent = changes.skipConsent;
      if (changes.status !== undefined) provider.status = changes.status;
      if (changes.clientSecret !== undefined) {
        if (provider.secureConfigId)
          await this.secrets.replace(em, orgId, provider.secureConfigId, changes.clientSecret);
        else provider.secureConfigId = await this.secrets.create(em, orgId, changes.clientSecret);
      }
      provider.version += 1;
      return toOAuthProvider(await em.getRepository(ProviderEntity).save(provider));
    });
  }

  /**
   * Starts a deletion: the provider goes to `deleting` and a DELETE_PROVIDER job record is created
   * (the caller queues it once this commits). A provider already being deleted returns its open job.
   */
  async requestDeletion(orgId: string, id: string): Promise<{ job: JobEntity; created: boolean }> {
    return this.dataSource.transaction(async (em) => {
      const provider = await this.require(em, orgId, id, true);
      if (provider.status === 'deleting') {
        const open = await this.jobs.openDeletion(em, orgId, id);
        if (open) return { job: open, created: false };
      }
      provider.status = 'deleting';
      await em.getRepository(ProviderEntity).save(provider);
      const job = await this.jobs.create(em, orgId, 'DELETE_PROVIDER', [{ name: 'provider_id', value: id }]);
      return { job, created: true };
    });
  }

  /** The last step of a deletion: the secret, then the provider (idempotent). */
  async removeDeleted(orgId: string, id: string, em?: EntityManager): Promise<void> {
    const run = async (tx: EntityManager) => {
      const provider = await tx
        .getRepository(ProviderEntity)
        .findOne({ where: { id, orgId }, lock: { mode: 'pessimistic_write' } });
      if (!provider) return;
      if (provider.secureConfigId) await this.secrets.remove(tx, orgId, provider.secureConfigId);
      await tx.getRepository(ProviderEntity).delete({ id, orgId });
    };
    await (em ? run(em) : this.dataSource.transaction(run));
  }

  /** A deletion that gave up: the provider is `deletion_failed` until a new DELETE retries it. */
  async markDeletionFailed(orgId: string, id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE registry.providers SET status = 'deletion_failed', updated_at = now() WHERE id = $1 AND org_id = $2 AND status = 'deleting'`,
      [id, orgId],
    );
  }

  private async require(em: EntityManager, orgId: string, id: string, lock = false): Promise<ProviderEntity> {
    const provider = isUuid(id)
      ? await em.getRepository(ProviderEntity).findOne({
          where: { id, orgId },
          ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
        })
      : null;
    if (!provider) throw new BusException('NOT_FOUND', 'OAuth provider not found.');
    return provider;
  }
}

function instanceOf(req: CreateProviderRequest): ProviderInstanceConfig {
  const instance: ProviderInstanceConfig = {};
  if (req.host !== undefined) instance.host = req.host;
  if (req.baseUrl !== undefined) instance.baseUrl = req.baseUrl;
  if (req.tenant !== undefined) instance.tenant = req.tenant;
  if (req.issuer !== undefined) instance.issuer = req.issuer;
  if (req.endpoints !== undefined) instance.endpoints = req.endpoints;
  return instance;
}

/**
 * The GitHub App settings after a create or update (`null` in `changes` clears one); only a
 * `github` provider has them (UNPROCESSABLE otherwise). Null when none is left.
 */
function githubAppOf(
  type: ProviderType,
  current: GitHubAppSettings,
  changes: { appSlug?: string | null; appInstallUrl?: string | null },
): GitHubAppSettings | null {
  const named = (['appSlug', 'appInstallUrl'] as const).filter(
    (f) => changes[f] !== undefined && changes[f] !== null,
  );
  if (named.length && type !== 'github') {
    throw new BusException(
      'UNPROCESSABLE',
      'Invalid provider settings.',
      named.map((name) => ({ name, message: 'only a github provider has GitHub App settings' })),
    );
  }
  const next: GitHubAppSettings = { ...current };
  if (changes.appSlug === null) delete next.slug;
  else if (changes.appSlug !== undefined) next.slug = changes.appSlug;
  if (changes.appInstallUrl === null) delete next.installUrl;
  else if (changes.appInstallUrl !== undefined) next.installUrl = changes.appInstallUrl;
  return next.slug || next.installUrl ? next : null;
}

/** The public shape of a provider (seed 000 `models.OAuthProvider`); never the secret. */
export function toOAuthProvider(p: ProviderEntity): OAuthProvider {
  return {
    id: p.id,
    orgId: p.orgId,
    name: p.name,
    type: p.type,
    status: p.status,
    clientId: p.clientId,
    customScopes: p.customScopes,
    skipConsent: p.skipConsent,
    secureConfigId: p.secureConfigId ?? '',
    metadata: p.metadata,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
