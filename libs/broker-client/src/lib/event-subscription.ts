import type { KeyObject } from 'node:crypto';
import IORedis from 'ioredis';
import { EventRejection, closeConnection, createRedisConnection, verifyEvent } from '@broker/bus-protocol';
import { BusEvent, brokerEventsChannel } from '@broker/contracts';
import type { BrokerClientLogger } from './options';

export interface EventHandlers {
  /** A genuine (signed) event: about an authorization, or a provider change notice. */
  onEvent(event: BusEvent): void;
  /** A message that is not a genuine broker event (forged, altered, stale or malformed): ignored. */
  onRejected(reason: EventRejection): void;
  /** Events may have been missed from now on (connection lost). */
  onGap(): void;
  /** Subscribed again after a gap: events arrive again. */
  onResumed(): void;
}

/** Checks one message of the events channel: the event if the broker signed it, else why not. */
export function parseBrokerEvent(
  keys: ReadonlyMap<string, KeyObject>,
  raw: string,
): { ok: true; event: BusEvent } | { ok: false; reason: EventRejection } {
  return verifyEvent(keys, raw);
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
    private readonly keys: ReadonlyMap<string, KeyObject>,
    private readonly handlers: EventHandlers,
    private readonly logger: BrokerClientLogger,
  ) {
    this.channel = brokerEventsChannel(prefix);
    // No ready check: it sends INFO, which a consumer's Redis ACL user need not have.
    this.redis = createRedisConnection(redisUrl, `${name}:events`, { enableReadyCheck: false });
    this.redis.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const checked = parseBrokerEvent(this.keys, message);
      if (checked.ok) this.handlers.onEvent(checked.event);
      else this.handlers.onRejected(checked.reason);
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
      if (!this.closing)
        this.logger.warn(`events subscription: re-subscribe failed: ${(err as Error).message}`);
    } finally {
      this.resubscribing = false;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.healthy = false;
    await closeConnection(this.redis);
  }
}
