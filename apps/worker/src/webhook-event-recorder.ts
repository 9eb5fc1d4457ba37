import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { JobProducer, closeConnection, createRedisConnection } from '@broker/bus';
import { verifyEvent } from '@broker/bus-protocol';
import { BrokerEvent, brokerEventsChannel, isAuthorizationEvent } from '@broker/contracts';
import { WebhooksService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AuthorizationsService } from '@broker/tokens';

/**
 * Turns the broker's authorization events into webhook deliveries. Events arrive on Redis pub/sub,
 * which is not a trust boundary: only events signed with a key of the broker's events key set
 * count (anything else is ignored and counted), and each is then checked against PostgreSQL (the
 * authorization exists with that user, provider and status, or was unlinked). Every
 * worker replica hears every event; the delivery log records each (endpoint, event) once, and
 * only the replica whose insert won queues it. Events published while no worker runs are not
 * delivered (setup events are recorded by the registry with the change itself, so they always are).
 */
@Injectable()
export class WebhookEventRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookEvents');
  private readonly redis: ReturnType<typeof createRedisConnection>;
  private readonly keys: ReadonlyMap<string, KeyObject>;
  /** Messages on the events channel that were not genuine broker events. */
  rejected = 0;

  constructor(
    private readonly webhooks: WebhooksService,
    private readonly authorizations: AuthorizationsService,
    private readonly producer: JobProducer,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    if (!config.bus.eventsPublicKeys)
      throw new Error(`${config.service} records broker events for webhooks but has no EVENTS_PUBLIC_KEYS`);
    this.keys = config.bus.eventsPublicKeys;
    this.redis = createRedisConnection(config.redisUrl, `${config.service}:webhook-events`, {});
  }

  async onApplicationBootstrap(): Promise<void> {
    this.redis.on('message', (_channel: string, message: string) => void this.handle(message));
    await this.redis.subscribe(brokerEventsChannel(this.config.bus.prefix));
  }

  async onApplicationShutdown(): Promise<void> {
    await closeConnection(this.redis);
  }

  /** Records one event (exposed for tests); resolves when its deliveries are queued. */
  async handle(message: string): Promise<number> {
    const event = this.genuine(message);
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

  /** A signed authorization event, or null (forgeries, provider and consumer notices and anything else are not ours to deliver). */
  private genuine(message: string): BrokerEvent | null {
    const checked = verifyEvent(this.keys, message);
    if (!checked.ok) {
      if (this.rejected++ % 1000 === 0)
        this.logger.warn(
          `ignored a message on the events channel that is not a genuine broker event (${checked.reason}); ${this.rejected} so far`,
        );
      return null;
    }
    return isAuthorizationEvent(checked.event) ? checked.event : null;
  }
}
