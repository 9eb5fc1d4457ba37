import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { JobProducer, createRedisConnection } from '@broker/bus';
import { BROKER_EVENT_TYPES, BrokerEvent, brokerEventsChannel } from '@broker/contracts';
import { WebhooksService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AuthorizationsService } from '@broker/tokens';

/**
 * Turns the broker's authorization events into webhook deliveries. Events arrive on Redis pub/sub,
 * which is not a trust boundary, so each is first checked against PostgreSQL (the authorization
 * exists with that user, provider and status, or was unlinked): a forged event is dropped. Every
 * worker replica hears every event; the delivery log records each (endpoint, event) once, and
 * only the replica whose insert won queues it. Events published while no worker runs are not
 * delivered (setup events are recorded by the registry with the change itself, so they always are).
 */
@Injectable()
export class WebhookEventRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookEvents');
  private readonly redis: ReturnType<typeof createRedisConnection>;

  constructor(
    private readonly webhooks: WebhooksService,
    private readonly authorizations: AuthorizationsService,
    private readonly producer: JobProducer,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    this.redis = createRedisConnection(config.redisUrl, `${config.service}:webhook-events`, {});
  }

  async onApplicationBootstrap(): Promise<void> {
    this.redis.on('message', (_channel: string, message: string) => void this.handle(message));
    await this.redis.subscribe(brokerEventsChannel(this.config.bus.prefix));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }

  /** Records one event (exposed for tests); resolves when its deliveries are queued. */
  async handle(message: string): Promise<number> {
    const event = parseEvent(message);
    if (!event) return 0;
    try {
      if (!(await this.authorizations.confirms(event))) {
        this.logger.warn(
          `event ${event.type} for authorization ${event.authorizationId} not confirmed by the database: ignored`,
        );
        return 0;
      }
      const data = {
        authorization_id: event.authorizationId,
        provider_id: event.providerId,
        user_id: event.userId,
        status: event.status,
      };
      const recorded = await this.webhooks.record(
        undefined,
        event.orgId,
        event.type,
        `${event.type}:${event.authorizationId}:${event.at}`,
        data,
        new Date(event.at),
      );
      for (const d of recorded)
        await this.producer.enqueue(
          'webhook-delivery',
          'DELIVER_WEBHOOK',
          { orgId: d.orgId, deliveryId: d.deliveryId },
          { jobId: `${d.deliveryId}-0` },
        );
      return recorded.length;
    } catch (err) {
      this.logger.warn(`event ${event.type} not recorded for webhooks: ${(err as Error).message}`);
      return 0;
    }
  }
}

/** A broker authorization event of the expected shape, or null (anything else on the channel is not ours to deliver). */
function parseEvent(message: string): BrokerEvent | null {
  try {
    const e = JSON.parse(message) as Record<string, unknown>;
    const strings = ['orgId', 'authorizationId', 'providerId', 'userId', 'status', 'at'].every(
      (k) => typeof e[k] === 'string' && (e[k] as string).length <= 256,
    );
    if (
      !strings ||
      !(BROKER_EVENT_TYPES as readonly string[]).includes(e['type'] as string) ||
      Number.isNaN(Date.parse(e['at'] as string))
    )
      return null;
    return e as unknown as BrokerEvent;
  } catch {
    return null;
  }
}
