import { DataSource, EntityManager } from 'typeorm';
import { BusException } from '@broker/bus';
import type {
  CreateOAuthSetupRequest,
  ListOAuthSetupsQuery,
  OAuthSetup,
  OpenedSetup,
  Page,
  UpdateOAuthSetupRequest,
} from '@broker/contracts';
import { isUuid } from '../jobs/jobs.service';
import { ProviderEntity } from '../providers/provider.entity';
import { RecordedDelivery, WebhooksService } from '../webhooks/webhooks.service';
import { deploymentScopes } from './auth-method';
import { ListCursors } from './list-cursor';
import { checkNewSetup } from './new-setup-check';
import { describeScope } from './scope-words';
import { SetupLinks } from './setup-link';
import { SetupOutcomes } from './setup-outcomes';
import { SetupPages } from './setup-page';
import { OAuthSetupsOptions, OPEN, SETUPS, SetupCaller, SetupRow, effectiveStatus } from './setup-row';
import { setupView } from './setup-view';
import { uuid7 } from './uuid7';

export type { OAuthSetupsOptions, SetupCaller } from './setup-row';

/**
 * Seed 002 OAuth setups of the org's deployments (registered providers). A setup links one user's
 * account (the caller, or the user a service account names) through the hosted page at its `url`;
 * its lifecycle is unused → opened → completed | failed | expired, each step a conditional update,
 * so a finished or expired setup can never be used again. People see their own setups; service
 * accounts see the org's.
 */
export class OAuthSetupsService {
  constructor(
    private readonly dataSource: DataSource,
    webhooks: WebhooksService,
    private readonly links: SetupLinks,
    cursors: ListCursors,
    private readonly options: OAuthSetupsOptions,
  ) {
    this.pages = new SetupPages(dataSource, cursors);
    this.outcomes = new SetupOutcomes(dataSource, webhooks, options.ephemeralRetentionMs);
  }

  private readonly pages: SetupPages;
  private readonly outcomes: SetupOutcomes;

  /** A cursor-paginated page of the deployment's setups, in `order` of creation (default `desc`: newest first). */
  async list(
    caller: SetupCaller,
    deploymentId: string,
    query: ListOAuthSetupsQuery,
  ): Promise<Page<OAuthSetup>> {
    const deployment = await this.deployment(caller.orgId, deploymentId);
    const { rows, pagination } = await this.pages.read(caller, deployment.id, query);
    return { items: rows.map((row) => this.toSetup(row, deployment)), pagination };
  }

  async get(caller: SetupCaller, deploymentId: string, id: string): Promise<OAuthSetup> {
    const deployment = await this.deployment(caller.orgId, deploymentId);
    return this.toSetup(await this.require(this.dataSource.manager, caller, deployment.id, id), deployment);
  }

  async create(
    caller: SetupCaller,
    deploymentId: string,
    body: CreateOAuthSetupRequest,
  ): Promise<OAuthSetup> {
    const deployment = await this.deployment(caller.orgId, deploymentId);
    const now = Date.now();
    const { userId, expiresAt } = checkNewSetup(caller, deployment, body, this.options, now);
    const id = uuid7(now);
    const [row] = (await this.dataSource.query(
      `INSERT INTO ${SETUPS} (id, org_id, provider_id, user_id, is_ephemeral, name, description, metadata, redirect_url, config, link_hash, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *`,
      [
        id,
        caller.orgId,
        deployment.id,
        userId,
        body.is_ephemeral ?? false,
        body.name,
        body.description ?? null,
        body.metadata ? JSON.stringify(body.metadata) : null,
        body.redirect_url ?? null,
        JSON.stringify(body.config ?? {}),
        SetupLinks.hash(this.links.token(id)),
        expiresAt,
        // The same instant as the id's timestamp and the default expiry (exactly SETUP_TTL_SECONDS later).
        new Date(now),
      ],
    )) as SetupRow[];
    return this.toSetup(row, deployment);
  }

  async update(
    caller: SetupCaller,
    deploymentId: string,
    id: string,
    changes: UpdateOAuthSetupRequest,
  ): Promise<OAuthSetup> {
    const deployment = await this.deployment(caller.orgId, deploymentId);
    return this.dataSource.transaction(async (em) => {
      const row = await this.require(em, caller, deployment.id, id, true);
      const [[updated]] = (await em.query(
        `UPDATE ${SETUPS} SET name = $2, description = $3, metadata = $4, updated_at = now() WHERE id = $1 RETURNING *`,
        [
          row.id,
          changes.name === undefined ? row.name : changes.name,
          changes.description === undefined ? row.description : changes.description,
          changes.metadata === undefined
            ? row.metadata
              ? JSON.stringify(row.metadata)
              : null
            : JSON.stringify(changes.metadata),
        ],
      )) as [SetupRow[], number];
      return this.toSetup(updated, deployment);
    });
  }

  /**
   * A browser opened the hosted link: unused → opened (opened stays opened: a reload, or a second
   * try after the provider failed). GONE with `status` when the link was used or has expired.
   */
  async open(linkToken: string): Promise<OpenedSetup> {
    if (!SetupLinks.wellFormed(linkToken)) throw new BusException('NOT_FOUND', 'This setup link is unknown.');
    const [row] = (await this.dataSource.query(`SELECT * FROM ${SETUPS} WHERE link_hash = $1`, [
      SetupLinks.hash(linkToken),
    ])) as SetupRow[];
    if (!row) throw new BusException('NOT_FOUND', 'This setup link is unknown.');
    const status = effectiveStatus(row);
    if (!OPEN.includes(status))
      throw new BusException(
        'GONE',
        `This setup link is ${status === 'expired' ? 'expired' : 'already used'}.`,
        [{ name: 'status', message: status }],
      );
    const deployment = await this.dataSource
      .getRepository(ProviderEntity)
      .findOneBy({ id: row.provider_id, orgId: row.org_id });
    if (!deployment) throw new BusException('NOT_FOUND', 'This setup link is unknown.');
    if (deployment.status !== 'active')
      throw new BusException('GONE', `The provider of this setup is ${deployment.status}.`, [
        { name: 'status', message: 'unavailable' },
      ]);
    const [, count] = (await this.dataSource.query(
      `UPDATE ${SETUPS} SET status = 'opened', updated_at = now() WHERE id = $1 AND status IN ('unused','opened') AND expires_at > now()`,
      [row.id],
    )) as [unknown, number];
    if (count !== 1)
      throw new BusException('GONE', 'This setup link is already used.', [
        { name: 'status', message: 'completed' },
      ]);
    const requestScopes = row.config.scopes?.length ? row.config.scopes : deploymentScopes(deployment);
    return {
      setupId: row.id,
      orgId: row.org_id,
      userId: row.user_id,
      providerId: row.provider_id,
      name: row.name,
      description: row.description,
      redirectUrl: row.redirect_url,
      requestScopes,
      scopes: requestScopes.map((scope) => ({ scope, ...describeScope(scope) })),
    };
  }

  /**
   * How the setup's consent ended (from the token-broker): opened → completed or failed, with the
   * `setup.completed|failed` webhooks (`SetupOutcomes.finish`).
   */
  finish(...args: Parameters<SetupOutcomes['finish']>): ReturnType<SetupOutcomes['finish']> {
    return this.outcomes.finish(...args);
  }

  /** Housekeeping: expires setups past `expires_at`, removes ended ephemeral ones (`SetupOutcomes.sweep`). */
  sweep(): Promise<{ expired: number; removed: number; deliveries: RecordedDelivery[] }> {
    return this.outcomes.sweep();
  }

  private async deployment(orgId: string, id: string): Promise<ProviderEntity> {
    const found = isUuid(id)
      ? await this.dataSource.getRepository(ProviderEntity).findOneBy({ id: id.toLowerCase(), orgId })
      : null;
    if (!found) throw new BusException('NOT_FOUND', 'Provider deployment not found.');
    return found;
  }

  private async require(
    em: EntityManager,
    caller: SetupCaller,
    deploymentId: string,
    id: string,
    lock = false,
  ): Promise<SetupRow> {
    const params = [id.toLowerCase(), caller.orgId, deploymentId, ...(caller.isService ? [] : [caller.sub])];
    const [row] = isUuid(id)
      ? ((await em.query(
          `SELECT * FROM ${SETUPS} WHERE id = $1 AND org_id = $2 AND provider_id = $3${caller.isService ? '' : ' AND user_id = $4'}${lock ? ' FOR UPDATE' : ''}`,
          params,
        )) as SetupRow[])
      : [];
    if (!row) throw new BusException('NOT_FOUND', 'OAuth setup not found.');
    return row;
  }

  private toSetup(row: SetupRow, deployment: ProviderEntity): OAuthSetup {
    return setupView(row, deployment, this.links, this.options.publicUrl);
  }
}
