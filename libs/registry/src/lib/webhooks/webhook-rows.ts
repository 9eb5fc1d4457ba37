import type { WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookPayload } from '@broker/contracts';

/** The endpoints table (schema `registry`). */
export const ENDPOINTS = 'registry.webhook_endpoints';
/** The delivery log (schema `registry`): one row per (endpoint, event). */
export const DELIVERIES = 'registry.webhook_deliveries';

/** One row of `registry.webhook_endpoints`. */
export interface EndpointRow {
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

/** One row of `registry.webhook_deliveries`. */
export interface DeliveryRow {
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

/** An endpoint as the API shows it (never its secret). */
export function toEndpoint(r: EndpointRow): WebhookEndpoint {
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

/** A delivery as the API shows it. */
export function toDelivery(r: DeliveryRow): WebhookDelivery {
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
