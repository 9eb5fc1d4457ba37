import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { BusException } from '@broker/bus';
import {
  CreateWebhookEndpointRequest,
  CreatedWebhookEndpoint,
  UpdateWebhookEndpointRequest,
  WEBHOOK_EVENT_TYPES,
  WebhookDelivery,
  WebhookEndpoint,
} from '@broker/contracts';
import { EgressDeniedError, EgressPolicy, checkUrlStatic } from '@broker/egress';
import { isUuid } from '../jobs/jobs.service';
import { SecureConfigsService } from '../secure-configs/secure-configs.service';
import { WebhookDeliveryLog } from './webhook-delivery-log';
import {
  DELIVERIES,
  DeliveryRow,
  DeliveryWork,
  ENDPOINTS,
  EndpointRow,
  RecordedDelivery,
  toDelivery,
  toEndpoint,
} from './webhook-rows';

export type { DeliveryWork, RecordedDelivery } from './webhook-rows';

/**
 * The org's webhook endpoints (secrets envelope-encrypted in `secure_configs`, shown once) and the
 * delivery log: one row per (endpoint, event), so an event recorded twice (several workers heard
 * it) is delivered once (`WebhookDeliveryLog`). Targets pass the same egress guard as provider hosts.
 */
export class WebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecureConfigsService,
    private readonly egress: EgressPolicy,
  ) {
    this.log = new WebhookDeliveryLog(dataSource, secrets);
  }

  private readonly log: WebhookDeliveryLog;

  async list(orgId: string): Promise<WebhookEndpoint[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM ${ENDPOINTS} WHERE org_id = $1 ORDER BY created_at, id`,
      [orgId],
    )) as EndpointRow[];
    return rows.map(toEndpoint);
  }

  async get(orgId: string, id: string): Promise<WebhookEndpoint> {
    return toEndpoint(await this.require(this.dataSource.manager, orgId, id));
  }

  async create(orgId: string, req: CreateWebhookEndpointRequest): Promise<CreatedWebhookEndpoint> {
    this.checkTarget(req.url);
    const secret = newSecret();
    const row = await this.dataSource.transaction(async (em) => {
      const secureConfigId = await this.secrets.create(em, orgId, secret);
      const [created] = (await em.query(
        `INSERT INTO ${ENDPOINTS} (org_id, url, description, event_types, secure_config_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [
          orgId,
          req.url,
          req.description ?? null,
          req.event_types?.length ? [...new Set(req.event_types)] : [...WEBHOOK_EVENT_TYPES],
          secureConfigId,
        ],
      )) as EndpointRow[];
      return created;
    });
    return { ...toEndpoint(row), secret };
  }

  async update(orgId: string, id: string, changes: UpdateWebhookEndpointRequest): Promise<WebhookEndpoint> {
    if (changes.url !== undefined) this.checkTarget(changes.url);
    return this.dataSource.transaction(async (em) => {
      const row = await this.require(em, orgId, id, true);
      const status = changes.status ?? row.status;
      const [updated] = (await em.query(
        `UPDATE ${ENDPOINTS} SET url = $3, description = $4, event_types = $5, status = $6, disabled_reason = $7, updated_at = now()
          WHERE id = $1 AND org_id = $2 RETURNING *`,
        [
          id,
          orgId,
          changes.url ?? row.url,
          changes.description === undefined ? row.description : changes.description,
          changes.event_types?.length ? [...new Set(changes.event_types)] : row.event_types,
          status,
          status === 'enabled'
            ? null
            : changes.status === 'disabled'
              ? 'disabled by the organisation'
              : row.disabled_reason,
        ],
      )) as [EndpointRow[], number];
      return toEndpoint((updated as unknown as EndpointRow[])[0]);
    });
  }

  /** Removes the endpoint, its secret and its delivery log. */
  async remove(orgId: string, id: string): Promise<void> {
    await this.dataSource.transaction(async (em) => {
      const row = await this.require(em, orgId, id, true);
      await em.query(`DELETE FROM ${ENDPOINTS} WHERE id = $1 AND org_id = $2`, [id, orgId]);
      await this.secrets.remove(em, orgId, row.secure_config_id);
    });
  }

  /** A new signing secret (the old one stops working at once); shown this once. */
  async rotateSecret(orgId: string, id: string): Promise<CreatedWebhookEndpoint> {
    const secret = newSecret();
    const row = await this.dataSource.transaction(async (em) => {
      const found = await this.require(em, orgId, id, true);
      await this.secrets.replace(em, orgId, found.secure_config_id, secret);
      return found;
    });
    return { ...toEndpoint(row), secret };
  }

  /** The endpoint's delivery log, newest first. */
  async deliveries(
    orgId: string,
    endpointId: string,
    limit = 50,
    after?: string,
  ): Promise<WebhookDelivery[]> {
    await this.require(this.dataSource.manager, orgId, endpointId);
    const params: unknown[] = [orgId, endpointId, Math.min(Math.max(limit, 1), 100)];
    let where = '';
    if (after) {
      if (!isUuid(after))
        throw new BusException('BAD_REQUEST', 'after must be a delivery id.', [
          { name: 'after', message: 'must be a delivery id' },
        ]);
      params.push(after);
      where = `AND (created_at, id) < (SELECT created_at, id FROM ${DELIVERIES} WHERE id = $4 AND org_id = $1)`;
    }
    const rows = (await this.dataSource.query(
      `SELECT * FROM ${DELIVERIES} WHERE org_id = $1 AND endpoint_id = $2 ${where} ORDER BY created_at DESC, id DESC LIMIT $3`,
      params,
    )) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  /**
   * Records an event for every enabled endpoint of the org that takes its type (in the caller's
   * transaction when given). `eventKey` names the source event: recording it again is a no-op.
   */
  record(...args: Parameters<WebhookDeliveryLog['record']>): ReturnType<WebhookDeliveryLog['record']> {
    return this.log.record(...args);
  }

  /** A pending delivery whose attempt is due, with its endpoint and secret (`WebhookDeliveryLog.work`). */
  work(orgId: string, deliveryId: string): Promise<DeliveryWork | null> {
    return this.log.work(orgId, deliveryId);
  }

  succeeded(work: DeliveryWork, statusCode: number): Promise<void> {
    return this.log.succeeded(work, statusCode);
  }

  /** Records a failed attempt: the next one at `nextAt`, or given up (`failed`) when null. */
  attemptFailed(
    work: DeliveryWork,
    statusCode: number | null,
    error: string,
    nextAt: Date | null,
  ): Promise<void> {
    return this.log.attemptFailed(work, statusCode, error, nextAt);
  }

  /** Ends a delivery whose endpoint is disabled (or whose secret is unreadable) without sending it. */
  abandon(orgId: string, deliveryId: string, reason: string): Promise<void> {
    return this.log.abandon(orgId, deliveryId, reason);
  }

  /** Disables an endpoint that has not accepted a delivery since `since`; true when this call disabled it. */
  disableIfFailingSince(orgId: string, endpointId: string, since: Date, reason: string): Promise<boolean> {
    return this.log.disableIfFailingSince(orgId, endpointId, since, reason);
  }

  /** Pending deliveries whose attempt is overdue (their queue entry may be lost): for the sweep to queue again. */
  overdue(graceMs: number, limit = 200): Promise<(RecordedDelivery & { attempts: number })[]> {
    return this.log.overdue(graceMs, limit);
  }

  private checkTarget(url: string): void {
    try {
      checkUrlStatic(url, this.egress);
    } catch (err) {
      if (err instanceof EgressDeniedError)
        throw new BusException('UNPROCESSABLE', 'This webhook URL is not allowed.', [
          { name: 'url', message: err.reason },
        ]);
      throw new BusException('UNPROCESSABLE', 'This webhook URL is not allowed.', [
        { name: 'url', message: 'must be an absolute https URL' },
      ]);
    }
  }

  private async require(em: EntityManager, orgId: string, id: string, lock = false): Promise<EndpointRow> {
    const [row] = isUuid(id)
      ? ((await em.query(
          `SELECT * FROM ${ENDPOINTS} WHERE id = $1 AND org_id = $2${lock ? ' FOR UPDATE' : ''}`,
          [id, orgId],
        )) as EndpointRow[])
      : [];
    if (!row) throw new BusException('NOT_FOUND', 'Webhook endpoint not found.');
    return row;
  }
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
