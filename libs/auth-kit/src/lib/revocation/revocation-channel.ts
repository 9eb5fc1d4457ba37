import IORedis from 'ioredis';
import { createRedisConnection } from '@broker/bus';
import { revocationsChannel } from '@broker/contracts';

/**
 * "The revocation list changed": a content-free ping on Redis pub/sub, so verifiers read the list
 * at once instead of at their next poll. It carries nothing to trust: a forged ping only causes a
 * read (over the bus, from the token-broker), and a lost or suppressed one delays a revocation to
 * the next poll (1 s), never past the staleness bound.
 */
export class RevocationChannel {
  private publisher?: IORedis;
  private subscriber?: IORedis;
  private readonly channel: string;

  constructor(
    private readonly redisUrl: string,
    prefix: string,
    private readonly name: string,
  ) {
    this.channel = revocationsChannel(prefix);
  }

  /** Tells every verifier to read the list now (best effort). */
  announce(): void {
    this.publisher ??= createRedisConnection(this.redisUrl, `${this.name}:revocations-out`, {
      maxRetriesPerRequest: 1,
    });
    void this.publisher.publish(this.channel, '1').catch(() => undefined);
  }

  /** Calls `onChange` on each ping, and when the subscription (re)connects (pings may have been missed). */
  async listen(onChange: () => void): Promise<void> {
    const subscriber = createRedisConnection(this.redisUrl, `${this.name}:revocations-in`);
    this.subscriber = subscriber;
    subscriber.on('message', () => onChange());
    subscriber.on('ready', () => onChange());
    subscriber.on('error', () => undefined);
    await subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    await Promise.all([
      this.publisher?.quit().catch(() => undefined),
      this.subscriber?.quit().catch(() => undefined),
    ]);
  }
}
