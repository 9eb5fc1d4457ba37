import IORedis from 'ioredis';
import { BrokerEvent, brokerEventsChannel } from '@broker/contracts';
import { EventSigningKey, closeConnection, createRedisConnection, signEvent } from '@broker/bus-protocol';

/**
 * Publishes broker events on Redis pub/sub (`<prefix>:events`), each signed with the broker's
 * events key so subscribers can tell them from forgeries. Events carry ids and statuses only.
 * Fire and forget: a publish never delays or fails a token request.
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
    this.redis.on('error', () => undefined);
    this.channel = brokerEventsChannel(prefix);
  }

  readonly publish = (event: BrokerEvent): void => {
    this.redis.publish(this.channel, signEvent(this.key, event)).catch(() => undefined);
  };

  async close(): Promise<void> {
    await closeConnection(this.redis);
  }
}
