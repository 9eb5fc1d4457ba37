import { DataSource, EntityManager } from 'typeorm';
import type { WebhookEventType, WebhookPayload } from '@broker/contracts';
import { isUuid } from '../jobs/jobs.service';
import { SecureConfigsService } from '../secure-configs/secure-configs.service';
import {
  DELIVERIES,
  DeliveryRow,
  DeliveryWork,
  ENDPOINTS,
  EndpointRow,
  RecordedDelivery,
} from './webhook-rows';

/**
 * The delivery log's life: an event recorded once per (endpoint, event), a due attempt handed to
 * the worker with its secret, each attempt's result, endpoints disabled after failing too long, and
 * overdue deliveries found again for the sweep. The worker's delivery processor drives it.
 */
export class WebhookDeliveryLog {
  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecureConfigsService,
  ) {}

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
}
