import IORedis from 'ioredis';
import { BusEvent, brokerEventsChannel } from '@broker/contracts';
import { EventSigningKey, closeConnection, signEvent } from '@broker/bus-protocol';
import { createRedisConnection } from './redis-connection';

/**
 * Publishes broker events on Redis pub/sub (`<prefix>:events`), each signed with the publishing
 * service's own events key so subscribers can tell them from forgeries. Events carry ids and
 * statuses only. Fire and forget: a publish never delays or fails a token request.
 */
export class BrokerEventPublisher {
  private readonly redis: IORedis;
  private readonly channel: string;

  constructor(
    redisUrl: string,
    prefix: string,
    private readonly key: EventSigningKey,
    name = 'events',
  ) {
    this.redis = createRedisConnection(redisUrl, name, { maxRetriesPerRequest: 1 });
    this.channel = brokerEventsChannel(prefix);
  }

  /** Fire and forget; the promise (never rejected) lets a caller wait until Redis has delivered it. */
  readonly publish = (event: BusEvent): Promise<void> =>
    this.redis.publish(this.channel, signEvent(this.key, event)).then(
      () => undefined,
      () => undefined,
    );

  async close(): Promise<void> {
    await closeConnection(this.redis);
  }
}
