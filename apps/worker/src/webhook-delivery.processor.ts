import { Processor } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { JobHandlers, JobProducer, QueueProcessor, processorOptions } from '@broker/bus';
import { JobPayload } from '@broker/contracts';
import { GuardedFetch, redactUrl, sharedEgress } from '@broker/egress';
import { DeliveryWork, WebhooksService, nextAttemptAt } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';

/**
 * DELIVER_WEBHOOK: one signed POST of a recorded delivery (Standard Webhooks: `webhook-id` is the
 * delivery's id on every retry, `webhook-timestamp` the attempt's time, `webhook-signature` an
 * HMAC-SHA256 of `id.timestamp.body` under the endpoint's secret, made by the `standardwebhooks`
 * library). The body holds ids and statuses only. A 2xx ends it; anything else is retried with
 * exponential backoff (the next attempt is a new delayed job named by the attempt count, so a
 * duplicate job finds the row moved on and does nothing) until the retry window ends; then the
 * delivery is failed and an endpoint that accepted nothing all that time is disabled, which is
 * itself announced (`webhook_endpoint.disabled`) to the org's other endpoints.
 */
@Injectable()
@Processor('webhook-delivery', processorOptions('webhook-delivery'))
export class WebhookDeliveryProcessor
  extends QueueProcessor<'webhook-delivery'>
  implements OnApplicationShutdown
{
  private readonly logger = new Logger('Webhooks');
  protected readonly queue = 'webhook-delivery' as const;
  protected readonly handlers: JobHandlers<'webhook-delivery'> = {
    DELIVER_WEBHOOK: (payload) => this.deliver(payload),
  };
  /** Webhook targets pass the same egress guard as provider hosts (no private addresses outside development). */
  private readonly fetch: GuardedFetch;

  constructor(
    private readonly webhooks: WebhooksService,
    private readonly producer: JobProducer,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    super();
    this.fetch = sharedEgress(config.egress).fetch({ timeoutMs: config.webhooks.timeoutSeconds * 1000 });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.fetch.close();
  }

  private async deliver({
    orgId,
    deliveryId,
  }: JobPayload<'webhook-delivery', 'DELIVER_WEBHOOK'>): Promise<void> {
    const work = await this.webhooks.work(orgId, deliveryId);
    if (!work) return; // delivered, given up or removed already: a duplicate job does nothing
    if (work.endpoint.status !== 'enabled')
      return this.webhooks.abandon(orgId, deliveryId, 'the endpoint is disabled');
    const outcome = await this.post(work);
    if (outcome.ok) {
      await this.webhooks.succeeded(work, outcome.status ?? 200);
      return;
    }
    const attempts = work.delivery.attempts + 1;
    const next = nextAttemptAt(
      work.delivery.created_at,
      attempts,
      this.config.webhooks.retryBaseSeconds * 1000,
      this.config.webhooks.retryWindowSeconds * 1000,
    );
    await this.webhooks.attemptFailed(work, outcome.status, outcome.error, next);
    if (next) {
      await this.producer.enqueue(
        'webhook-delivery',
        'DELIVER_WEBHOOK',
        { orgId, deliveryId },
        { jobId: `${deliveryId}-${attempts}`, delayMs: Math.max(0, next.getTime() - Date.now()) },
      );
      return;
    }
    this.logger.warn(
      `webhook delivery ${deliveryId} to ${redactUrl(work.endpoint.url)} given up after ${attempts} attempts: ${outcome.error}`,
    );
    await this.disableIfDead(work);
  }

  private async post(work: DeliveryWork): Promise<{ ok: boolean; status: number | null; error: string }> {
    const body = JSON.stringify(work.delivery.payload);
    const at = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'oauth-token-broker-webhooks/1',
      'webhook-id': work.delivery.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(work.secret).sign(work.delivery.id, at, body),
    };
    try {
      const res = await this.fetch(work.endpoint.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.webhooks.timeoutSeconds * 1000),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: '' };
      return {
        ok: false,
        status: res.status,
        error:
          res.status >= 300 && res.status < 400
            ? `redirect (${res.status}) not followed`
            : `HTTP ${res.status}`,
      };
    } catch (err) {
      // Never the URL's query or credentials: the guard's messages are redacted already.
      return {
        ok: false,
        status: null,
        error:
          (err as Error).name === 'TimeoutError'
            ? 'timed out'
            : ((err as Error).message || 'request failed').slice(0, 300),
      };
    }
  }

  private async disableIfDead(work: DeliveryWork): Promise<void> {
    const reason = `no delivery accepted since ${work.delivery.created_at.toISOString()} (retried for ${this.config.webhooks.retryWindowSeconds} s)`;
    if (
      !(await this.webhooks.disableIfFailingSince(
        work.endpoint.org_id,
        work.endpoint.id,
        work.delivery.created_at,
        reason,
      ))
    )
      return;
    this.logger.warn(`webhook endpoint ${work.endpoint.id} disabled: ${reason}`);
    const recorded = await this.webhooks.record(
      undefined,
      work.endpoint.org_id,
      'webhook_endpoint.disabled',
      `endpoint:${work.endpoint.id}:disabled:${Date.now()}`,
      {
        endpoint_id: work.endpoint.id,
        reason,
      },
    );
    for (const d of recorded)
      await this.producer.enqueue(
        'webhook-delivery',
        'DELIVER_WEBHOOK',
        { orgId: d.orgId, deliveryId: d.deliveryId },
        { jobId: `${d.deliveryId}-0` },
      );
  }
}
