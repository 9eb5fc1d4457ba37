/**
 * Signed webhooks (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`).
 * Payloads carry ids and statuses only, never a token or a secret.
 */
export const WEBHOOK_EVENT_TYPES = [
  'authorization.created',
  'authorization.refreshed',
  'authorization.expired',
  'authorization.revoked',
  'setup.completed',
  'setup.failed',
  'setup.expired',
  'webhook_endpoint.disabled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEndpoint {
  object: 'webhook_endpoint';
  id: string;
  url: string;
  description: string | null;
  /** Event types delivered to it (all when created without a list). */
  event_types: WebhookEventType[];
  status: 'enabled' | 'disabled';
  /** Why it was disabled (by the worker after failing for long, or by the org). */
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** The answer to creating an endpoint (and to rotating its secret): the only time the secret is shown. */
export interface CreatedWebhookEndpoint extends WebhookEndpoint {
  /** `whsec_` + base64 of 32 random bytes: verify deliveries with it (Standard Webhooks). */
  secret: string;
}

export interface CreateWebhookEndpointRequest {
  url: string;
  description?: string;
  event_types?: WebhookEventType[];
}

export interface UpdateWebhookEndpointRequest {
  url?: string;
  description?: string | null;
  event_types?: WebhookEventType[];
  status?: 'enabled' | 'disabled';
}

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event to one endpoint, as the org reads it in the delivery log. */
export interface WebhookDelivery {
  object: 'webhook_delivery';
  /** The `webhook-id` header: the same on every retry of this delivery (receivers dedupe on it). */
  id: string;
  endpoint_id: string;
  event_type: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** HTTP status of the last attempt, null when no answer came. */
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  /** The JSON body delivered (ids and statuses only). */
  payload: WebhookPayload;
}

/** The body of every delivery. */
export interface WebhookPayload {
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, string | null>;
}
