import IORedis from 'ioredis';
import { BrokerEvent, ProviderChangedEvent, brokerEventsChannel } from '@broker/contracts';
import { createRedisConnection } from './redis-connection';

/**
 * Publishes broker events on Redis pub/sub (`<prefix>:events`). Events carry ids and statuses only,
 * so they travel in clear. Fire and forget: a publish never delays or fails a token request.
 */
export class BrokerEventPublisher {
  private readonly redis: IORedis;
  private readonly channel: string;

  constructor(redisUrl: string, prefix: string, name = 'events') {
    this.redis = createRedisConnection(redisUrl, name, { maxRetriesPerRequest: 1 });
    this.channel = brokerEventsChannel(prefix);
  }

  /** Fire and forget; the promise (never rejected) lets a caller wait until Redis has delivered it. */
  readonly publish = (event: BrokerEvent | ProviderChangedEvent): Promise<void> =>
    this.redis.publish(this.channel, JSON.stringify(event)).then(
      () => undefined,
      () => undefined,
    );

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
