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
  WebhookEventType,
  WebhookPayload,
} from '@broker/contracts';
import { EgressDeniedError, EgressPolicy, checkUrlStatic } from '@broker/egress';
import { isUuid } from '../jobs/jobs.service';
import { SecureConfigsService } from '../secure-configs/secure-configs.service';

const ENDPOINTS = 'registry.webhook_endpoints';
const DELIVERIES = 'registry.webhook_deliveries';

interface EndpointRow {
  id: string;
  org_id: string;
  url: string;
  description: string | null;
  event_types: WebhookEventType[];
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  secure_config_id: string;
  last_success_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  org_id: string;
  endpoint_id: string;
  event_type: WebhookEventType;
  payload: WebhookPayload;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** A recorded delivery to queue (ids only). */
export interface RecordedDelivery {
  orgId: string;
  deliveryId: string;
}

/** What one delivery attempt needs: the row, where to, and the endpoint's signing secret (in memory only). */
export interface DeliveryWork {
  delivery: DeliveryRow;
  endpoint: EndpointRow;
  secret: string;
}

/**
 * The org's webhook endpoints (secrets envelope-encrypted in `secure_configs`, shown once) and the
 * delivery log: one row per (endpoint, event), so an event recorded twice (several workers heard
 * it) is delivered once. Targets pass the same egress guard as provider hosts.
 */
export class WebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecureConfigsService,
    private readonly egress: EgressPolicy,
  ) {}

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
  async record(
    em: EntityManager | undefined,
    orgId: string,
    type: WebhookEventType,
    eventKey: string,
    data: WebhookPayload['data'],
    at = new Date(),
  ): Promise<RecordedDelivery[]> {
    const payload: WebhookPayload = { type, timestamp: at.toISOString(), data };
    const rows = (await (em ?? this.dataSource.manager).query(
      `INSERT INTO ${DELIVERIES} (org_id, endpoint_id, event_type, event_key, payload, next_attempt_at)
       SELECT org_id, id, $2, $3, $4::jsonb, now() FROM ${ENDPOINTS} WHERE org_id = $1 AND status = 'enabled' AND $2 = ANY(event_types)
       ON CONFLICT (endpoint_id, event_key) DO NOTHING RETURNING id`,
      [orgId, type, eventKey, JSON.stringify(payload)],
    )) as { id: string }[];
    return rows.map((r) => ({ orgId, deliveryId: r.id }));
  }

  /**
   * A pending delivery whose attempt is due, with its endpoint and secret; null when it is not
   * pending any more (or gone), or not due yet. Job data comes from Redis: a job naming a delivery
   * before its time (forged, or a duplicate) finds nothing to do, so nobody but the recorded retry
   * schedule decides when a receiver is called (a few seconds' slack for the clocks of worker and
   * database).
   */
  async work(orgId: string, deliveryId: string): Promise<DeliveryWork | null> {
    if (!isUuid(deliveryId)) return null;
    const [delivery] = (await this.dataSource.query(
      `SELECT * FROM ${DELIVERIES} WHERE id = $1 AND org_id = $2 AND status = 'pending'
         AND (next_attempt_at IS NULL OR next_attempt_at <= now() + interval '5 seconds')`,
      [deliveryId, orgId],
    )) as DeliveryRow[];
    if (!delivery) return null;
    const [endpoint] = (await this.dataSource.query(
      `SELECT * FROM ${ENDPOINTS} WHERE id = $1 AND org_id = $2`,
      [delivery.endpoint_id, orgId],
    )) as EndpointRow[];
    if (!endpoint) return null;
    const secret = await this.secrets.reveal(orgId, endpoint.secure_config_id);
    return secret === null ? null : { delivery, endpoint, secret };
  }

  async succeeded(work: DeliveryWork, statusCode: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${DELIVERIES} SET status = 'succeeded', attempts = attempts + 1, last_status_code = $2, last_error = NULL, next_attempt_at = NULL, delivered_at = now() WHERE id = $1 AND status = 'pending'`,
      [work.delivery.id, statusCode],
    );
    await this.dataSource.query(`UPDATE ${ENDPOINTS} SET last_success_at = now() WHERE id = $1`, [
      work.endpoint.id,
    ]);
  }

  /** Records a failed attempt: the next one at `nextAt`, or given up (`failed`) when null. */
  async attemptFailed(
    work: DeliveryWork,
    statusCode: number | null,
    error: string,
    nextAt: Date | null,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${DELIVERIES} SET status = $5, attempts = attempts + 1, last_status_code = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1 AND status = 'pending'`,
      [work.delivery.id, statusCode, error.slice(0, 500), nextAt, nextAt ? 'pending' : 'failed'],
    );
  }

  /** Ends a delivery whose endpoint is disabled (or whose secret is unreadable) without sending it. */
  async abandon(orgId: string, deliveryId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${DELIVERIES} SET status = 'failed', last_error = $3, next_attempt_at = NULL WHERE id = $1 AND org_id = $2 AND status = 'pending'`,
      [deliveryId, orgId, reason],
    );
  }

  /**
   * Disables an endpoint that has not accepted a delivery since `since` (it has been failing all
   * that time); true when this call disabled it.
   */
  async disableIfFailingSince(
    orgId: string,
    endpointId: string,
    since: Date,
    reason: string,
  ): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE ${ENDPOINTS} SET status = 'disabled', disabled_reason = $4, updated_at = now()
        WHERE id = $1 AND org_id = $2 AND status = 'enabled' AND (last_success_at IS NULL OR last_success_at < $3)`,
      [endpointId, orgId, since, reason],
    )) as [unknown, number];
    return count === 1;
  }

  /** Pending deliveries whose attempt is overdue (their queue entry may be lost): for the sweep to queue again. */
  async overdue(graceMs: number, limit = 200): Promise<(RecordedDelivery & { attempts: number })[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, org_id, attempts FROM ${DELIVERIES} WHERE status = 'pending' AND next_attempt_at < now() - ($1::int * interval '1 millisecond') ORDER BY next_attempt_at LIMIT $2`,
      [graceMs, limit],
    )) as { id: string; org_id: string; attempts: number }[];
    return rows.map((r) => ({ orgId: r.org_id, deliveryId: r.id, attempts: r.attempts }));
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

function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    object: 'webhook_endpoint',
    id: r.id,
    url: r.url,
    description: r.description,
    event_types: r.event_types,
    status: r.status,
    disabled_reason: r.disabled_reason,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    object: 'webhook_delivery',
    id: r.id,
    endpoint_id: r.endpoint_id,
    event_type: r.event_type,
    status: r.status,
    attempts: r.attempts,
    last_status_code: r.last_status_code,
    last_error: r.last_error,
    next_attempt_at: r.next_attempt_at ? r.next_attempt_at.toISOString() : null,
    created_at: r.created_at.toISOString(),
    delivered_at: r.delivered_at ? r.delivered_at.toISOString() : null,
    payload: r.payload,
  };
}
