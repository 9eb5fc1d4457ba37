import { DataSource, EntityManager } from 'typeorm';
import { BusException } from '@broker/bus';
import type {
  CreateOAuthSetupRequest,
  ListOAuthSetupsQuery,
  OAuthSetup,
  OAuthSetupStatus,
  OpenedSetup,
  Page,
  SetupOutcome,
  UpdateOAuthSetupRequest,
} from '@broker/contracts';
import { isUuid } from '../jobs/jobs.service';
import { ProviderEntity } from '../providers/provider.entity';
import { RecordedDelivery, WebhooksService } from '../webhooks/webhooks.service';
import {
  authMethodId,
  authMethodOf,
  catalogueProviderId,
  configProblems,
  credentialsOf,
  deploymentOf,
  deploymentScopes,
} from './auth-method';
import { ListCursors, ListPosition } from './list-cursor';
import { describeScope } from './scope-words';
import { SetupLinks } from './setup-link';
import { uuid7 } from './uuid7';

const SETUPS = 'registry.oauth_setups';
const OPEN: OAuthSetupStatus[] = ['unused', 'opened'];

interface SetupRow {
  id: string;
  org_id: string;
  provider_id: string;
  user_id: string;
  status: OAuthSetupStatus;
  is_ephemeral: boolean;
  name: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  redirect_url: string | null;
  config: { scopes?: string[] };
  authorization_id: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
  finished_at: Date | null;
}

/** Who creates or reads setups: the org, the caller's subject, and whether it is a service account (not a person). */
export interface SetupCaller {
  orgId: string;
  sub: string;
  isService: boolean;
}

export interface OAuthSetupsOptions {
  publicUrl: string;
  /** Lifetime of a setup without `expires_at`. */
  defaultTtlMs: number;
  /** The longest `expires_at` may be from now. */
  maxTtlMs: number;
  /** How long a finished or expired ephemeral setup is kept (so the app can read the outcome) before the sweep removes it. */
  ephemeralRetentionMs: number;
}

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
    private readonly webhooks: WebhooksService,
    private readonly links: SetupLinks,
    private readonly cursors: ListCursors,
    private readonly options: OAuthSetupsOptions,
  ) {}

  /** A cursor-paginated page of the deployment's setups, in `order` of creation (default `desc`: newest first). */
  async list(
    caller: SetupCaller,
    deploymentId: string,
    query: ListOAuthSetupsQuery,
  ): Promise<Page<OAuthSetup>> {
    const deployment = await this.deployment(caller.orgId, deploymentId);
    const limit = query.limit ?? 20;
    const position = this.position(deployment.id, query);
    const order = position?.order ?? query.order ?? 'desc';
    const base: unknown[] = [caller.orgId, deployment.id];
    let where = `org_id = $1 AND provider_id = $2`;
    if (!caller.isService) {
      base.push(caller.sub);
      where += ` AND user_id = $${base.length}`;
    }
    // "Comes before" / "comes after" in the list's order (ids are UUIDv7: creation order).
    const before = order === 'asc' ? '<' : '>';
    const after = order === 'asc' ? '>' : '<';
    // A page "before" the anchor is read walking backwards, then flipped; one row more than asked says whether more follow.
    const forward = position?.direction !== 'before';
    const params = [...base];
    let range = '';
    if (position) {
      params.push(position.anchor);
      range = ` AND id ${forward ? after : before} $${params.length}`;
    }
    params.push(limit + 1);
    const walk = (order === 'asc') === forward ? 'ASC' : 'DESC';
    const rows = (await this.dataSource.query(
      `SELECT * FROM ${SETUPS} WHERE ${where}${range} ORDER BY id ${walk} LIMIT $${params.length}`,
      params,
    )) as SetupRow[];
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    if (!forward) page.reverse();
    // Whether anything lies beyond the page's other end (beyond the anchor, inclusive, when the page is empty).
    const edge = forward ? page[0]?.id : page.at(-1)?.id;
    let beyond = false;
    if (edge || position) {
      const cmp = `${forward ? before : after}${edge ? '' : '='}`;
      const [found] = (await this.dataSource.query(
        `SELECT EXISTS (SELECT 1 FROM ${SETUPS} WHERE ${where} AND id ${cmp} $${base.length + 1}) AS beyond`,
        [...base, edge ?? position?.anchor],
      )) as { beyond: boolean }[];
      beyond = Boolean(found?.beyond);
    }
    const hasBefore = forward ? beyond : more;
    const hasAfter = forward ? more : beyond;
    const scope = deployment.id;
    const first = page[0]?.id;
    const last = page.at(-1)?.id;
    return {
      items: page.map((row) => this.toSetup(row, deployment)),
      pagination: {
        has_more_before: hasBefore,
        has_more_after: hasAfter,
        next_cursor: last ? this.cursors.encode({ anchor: last, direction: 'after', order }, scope) : null,
        previous_cursor: first
          ? this.cursors.encode({ anchor: first, direction: 'before', order }, scope)
          : null,
      },
    };
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
    const problems: { name: string; message: string }[] = [];
    if (deployment.status !== 'active')
      throw new BusException(
        'CONFLICT',
        `The deployment is ${deployment.status}; only an active one can take new setups.`,
      );
    if (
      body.provider_auth_credentials_id !== undefined &&
      body.provider_auth_credentials_id !== deployment.secureConfigId
    ) {
      problems.push({
        name: 'provider_auth_credentials_id',
        message: 'is not the credentials of this deployment',
      });
    }
    if (
      body.provider_auth_method_id !== undefined &&
      body.provider_auth_method_id !== authMethodId(deployment)
    ) {
      problems.push({
        name: 'provider_auth_method_id',
        message: `is not an auth method of this deployment (it has ${authMethodId(deployment)})`,
      });
    }
    for (const p of configProblems(deployment, body.config))
      problems.push({ name: p.field, message: p.message });
    let userId = caller.sub;
    if (caller.isService) {
      if (!body.user_id)
        problems.push({
          name: 'user_id',
          message: 'is required when a service creates a setup (the user whose account it links)',
        });
      else userId = body.user_id;
    } else if (body.user_id !== undefined && body.user_id !== caller.sub) {
      throw new BusException('FORBIDDEN', 'A person can create setups for their own account only.', [
        { name: 'user_id', message: 'must be your own user id' },
      ]);
    }
    const now = Date.now();
    let expiresAt = new Date(now + this.options.defaultTtlMs);
    if (body.expires_at !== undefined) {
      expiresAt = new Date(body.expires_at);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now)
        problems.push({ name: 'expires_at', message: 'must be a date-time in the future' });
      else if (expiresAt.getTime() > now + this.options.maxTtlMs)
        problems.push({
          name: 'expires_at',
          message: `must be at most ${Math.round(this.options.maxTtlMs / 3_600_000)} hours from now`,
        });
    }
    if (problems.length) throw new BusException('UNPROCESSABLE', 'Invalid OAuth setup.', problems);
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
   * How the setup's consent ended (from the token-broker): opened → completed (with the
   * authorization it produced) or failed, and the `setup.completed|failed` webhooks recorded in the
   * same transaction. A setup that already ended keeps its outcome.
   */
  async finish(
    orgId: string,
    setupId: string,
    result: SetupOutcome,
  ): Promise<{
    setupId: string;
    status: OAuthSetupStatus;
    redirectUrl: string | null;
    deliveries: RecordedDelivery[];
  }> {
    if (!isUuid(setupId)) throw new BusException('NOT_FOUND', 'OAuth setup not found.');
    return this.dataSource.transaction(async (em) => {
      const [[row]] = (await em.query(
        `UPDATE ${SETUPS} SET status = $3, authorization_id = $4, error = $5, finished_at = now(), updated_at = now()
          WHERE id = $1 AND org_id = $2 AND status IN ('unused','opened') RETURNING *`,
        [
          setupId,
          orgId,
          result.outcome,
          result.outcome === 'completed' ? result.authorizationId : null,
          result.outcome === 'failed' ? result.error.slice(0, 200) : null,
        ],
      )) as [SetupRow[], number];
      if (!row) {
        const [current] = (await em.query(`SELECT * FROM ${SETUPS} WHERE id = $1 AND org_id = $2`, [
          setupId,
          orgId,
        ])) as SetupRow[];
        if (!current) throw new BusException('NOT_FOUND', 'OAuth setup not found.');
        return {
          setupId,
          status: effectiveStatus(current),
          redirectUrl: current.redirect_url,
          deliveries: [],
        };
      }
      const deliveries = await this.webhooks.record(
        em,
        orgId,
        result.outcome === 'completed' ? 'setup.completed' : 'setup.failed',
        `setup:${row.id}:${row.status}`,
        setupEventData(row),
      );
      return { setupId, status: row.status, redirectUrl: row.redirect_url, deliveries };
    });
  }

  /**
   * Housekeeping (the worker's `setup-expiry` scheduler, once per cluster): setups past `expires_at`
   * become expired (with `setup.expired` webhooks), and ephemeral setups that ended more than the
   * retention ago are removed.
   */
  async sweep(): Promise<{ expired: number; removed: number; deliveries: RecordedDelivery[] }> {
    return this.dataSource.transaction(async (em) => {
      const [expired] = (await em.query(
        `UPDATE ${SETUPS} SET status = 'expired', finished_at = now(), updated_at = now()
          WHERE id IN (SELECT id FROM ${SETUPS} WHERE status IN ('unused','opened') AND expires_at <= now() ORDER BY expires_at LIMIT 500 FOR UPDATE SKIP LOCKED)
          RETURNING *`,
      )) as [SetupRow[], number];
      const deliveries: RecordedDelivery[] = [];
      for (const row of expired)
        deliveries.push(
          ...(await this.webhooks.record(
            em,
            row.org_id,
            'setup.expired',
            `setup:${row.id}:expired`,
            setupEventData(row),
          )),
        );
      const [, removed] = (await em.query(
        `DELETE FROM ${SETUPS} WHERE is_ephemeral AND status IN ('completed','failed','expired') AND finished_at <= now() - ($1::int * interval '1 millisecond')`,
        [this.options.ephemeralRetentionMs],
      )) as [unknown, number];
      return { expired: expired.length, removed, deliveries };
    });
  }

  private position(deploymentId: string, query: ListOAuthSetupsQuery): ListPosition | null {
    if (query.cursor !== undefined) {
      const position = this.cursors.decode(query.cursor, deploymentId);
      if (!position)
        throw new BusException('BAD_REQUEST', 'The cursor is not one this list gave out.', [
          { name: 'cursor', message: 'is not a valid cursor for this list' },
        ]);
      if (query.order !== undefined && query.order !== position.order) {
        throw new BusException('BAD_REQUEST', 'The cursor was made for the other order.', [
          { name: 'order', message: `must be ${position.order} with this cursor (or left out)` },
        ]);
      }
      return position;
    }
    const order = query.order ?? 'desc';
    const anchor = query.after ?? query.before;
    if (anchor !== undefined && !isUuid(anchor)) {
      throw new BusException('BAD_REQUEST', 'after and before take a setup id.', [
        { name: query.after !== undefined ? 'after' : 'before', message: 'must be a setup id' },
      ]);
    }
    if (query.after !== undefined) return { anchor: query.after, direction: 'after', order };
    if (query.before !== undefined) return { anchor: query.before, direction: 'before', order };
    return null;
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
    const status = effectiveStatus(row);
    const finishedAt = (row.finished_at ?? row.updated_at).toISOString();
    return {
      object: 'provider.oauth_setup',
      id: row.id,
      status,
      is_ephemeral: row.is_ephemeral,
      provider_id: catalogueProviderId(deployment),
      name: row.name,
      description: row.description,
      metadata: row.metadata,
      redirect_url: row.redirect_url,
      url: OPEN.includes(status)
        ? `${this.options.publicUrl}/connect/setup/${this.links.token(row.id)}`
        : null,
      auth_config:
        status === 'completed' && row.authorization_id
          ? {
              id: row.authorization_id,
              status: 'active',
              type: 'oauth2',
              name: row.name,
              description: row.description,
              metadata: row.metadata ?? {},
              provider_id: catalogueProviderId(deployment),
              provider_deployment_id: deployment.id,
              provider_auth_method_id: authMethodId(deployment),
              created_at: finishedAt,
              updated_at: finishedAt,
            }
          : null,
      credentials: credentialsOf(deployment),
      auth_method: authMethodOf(deployment),
      deployment: deploymentOf(deployment),
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
      expires_at: row.expires_at.toISOString(),
      user_id: row.user_id,
    };
  }
}

/** The status as a reader must see it: an open setup past `expires_at` is expired even before the sweep records it. */
function effectiveStatus(row: SetupRow): OAuthSetupStatus {
  return OPEN.includes(row.status) && row.expires_at.getTime() <= Date.now() ? 'expired' : row.status;
}

/** A setup webhook's data: ids and statuses only. */
function setupEventData(row: SetupRow): Record<string, string | null> {
  return {
    setup_id: row.id,
    provider_deployment_id: row.provider_id,
    user_id: row.user_id,
    status: row.status,
    authorization_id: row.authorization_id,
    error: row.error,
  };
}
