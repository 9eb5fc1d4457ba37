import type { LoggerService } from '@nestjs/common';
import IORedis from 'ioredis';
import { createRedisConnection } from '@broker/bus';
import { BROKER_EVENT_TYPES, BrokerEvent, brokerEventsChannel } from '@broker/contracts';

export interface EventHandlers {
  /** A well-formed event about an authorization. */
  onEvent(event: Pick<BrokerEvent, 'authorizationId'> & Partial<BrokerEvent>): void;
  /** Events may have been missed from now on (connection lost). */
  onGap(): void;
  /** Subscribed again after a gap: events arrive again. */
  onResumed(): void;
}

/** Parses one message of the events channel; undefined when it is not an event we can act on. */
export function parseBrokerEvent(raw: string): (Pick<BrokerEvent, 'authorizationId'> & Partial<BrokerEvent>) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const authorizationId = v['authorizationId'];
  if (typeof authorizationId !== 'string' || authorizationId === '') return undefined;
  // An event of a type newer than this client still names an authorization: acting on it is safe.
  if (v['type'] !== undefined && typeof v['type'] !== 'string') return undefined;
  const event: Pick<BrokerEvent, 'authorizationId'> & Partial<BrokerEvent> = { authorizationId };
  if (typeof v['type'] === 'string' && (BROKER_EVENT_TYPES as readonly string[]).includes(v['type'])) event.type = v['type'] as BrokerEvent['type'];
  if (typeof v['userId'] === 'string') event.userId = v['userId'];
  if (typeof v['providerId'] === 'string') event.providerId = v['providerId'];
  return event;
}

/**
 * A dedicated subscriber connection on the broker's events channel. When the connection drops it
 * reports a gap at once; once it is back and subscribed again, it reports the resumption.
 */
export class EventSubscription {
  private readonly redis: IORedis;
  private readonly channel: string;
  private healthy = false;
  private closing = false;
  private reported = false;
  private resubscribing = false;
  private started = false;

  constructor(
    redisUrl: string,
    prefix: string,
    name: string,
    private readonly handlers: EventHandlers,
    private readonly logger: LoggerService,
  ) {
    this.channel = brokerEventsChannel(prefix);
    this.redis = createRedisConnection(redisUrl, `${name}:events`);
    this.redis.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const event = parseBrokerEvent(message);
      if (event) this.handlers.onEvent(event);
    });
    this.redis.on('error', (err: Error) => {
      if (this.closing || this.reported) return;
      this.reported = true;
      this.logger.warn(`events subscription: ${err.message}`);
    });
    this.redis.on('close', () => {
      if (this.closing || !this.healthy) return;
      this.healthy = false;
      this.handlers.onGap();
    });
    this.redis.on('ready', () => {
      if (this.closing || this.healthy || this.resubscribing || !this.started) return;
      void this.resubscribe();
    });
  }

  get subscribed(): boolean {
    return this.healthy;
  }

  /** Subscribes; resolves once Redis confirmed the subscription. */
  async start(): Promise<void> {
    await this.redis.subscribe(this.channel);
    this.started = true;
    this.healthy = true;
  }

  private async resubscribe(): Promise<void> {
    this.resubscribing = true;
    try {
      // ioredis re-subscribes by itself too; waiting for our own confirmation closes the window
      // in which an event could be published before the subscription is back.
      await this.redis.subscribe(this.channel);
      if (this.closing) return;
      this.healthy = true;
      this.reported = false;
      this.logger.log?.('events subscription restored; local token cache cleared');
      this.handlers.onResumed();
    } catch (err) {
      if (!this.closing) this.logger.warn(`events subscription: re-subscribe failed: ${(err as Error).message}`);
    } finally {
      this.resubscribing = false;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.healthy = false;
    await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }
}
