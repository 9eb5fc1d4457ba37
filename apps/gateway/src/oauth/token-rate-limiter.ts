import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import IORedis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createRedisConnection } from '@broker/bus';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';

/** The caller went over a limit; `retryAfterSeconds` says when to try again. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many token requests');
  }
}

/** Failed client authentications an address may make for one client before backing off. */
export const FREE_FAILURES = 10;
/** Failures are counted over this window (s); the backoff doubles with each one past the free ones, up to the same cap. */
export const FAILURE_WINDOW_SECONDS = 900;

/** Seconds an (address, client) pair waits after its n-th failure: 0 for the free ones, then 1, 2, 4 ... up to 15 min. */
export function backoffSeconds(failures: number): number {
  if (failures <= FREE_FAILURES) return 0;
  return Math.min(2 ** (failures - FREE_FAILURES - 1), FAILURE_WINDOW_SECONDS);
}

/**
 * Limits on the endpoints that authenticate a client (token, revoke, introspect), counted in Redis
 * so every gateway replica shares them:
 * - per address: requests per minute;
 * - per (address, client id): requests per minute, and failed authentications with an exponential
 *   backoff (10 free, then 1 s, 2 s, 4 s ... up to 15 min; a success clears them).
 * Nothing is counted per client id alone: wrong secrets sent from elsewhere never make the client's
 * own requests fail. If Redis cannot be reached the request is let through (the endpoints need the
 * bus, on Redis, anyway and answer 503 on their own).
 */
@Injectable()
export class TokenRateLimiter implements OnApplicationShutdown {
  private readonly redis: IORedis;
  private readonly perAddress: RateLimiterRedis;
  private readonly perAddressClient: RateLimiterRedis;
  private readonly failures: RateLimiterRedis;
  private readonly blocked: RateLimiterRedis;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.redis = createRedisConnection(config.redisUrl, 'gateway:rate-limits', {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    const prefix = `${config.bus.prefix}:rl:token`;
    const limiter = (name: string, points: number, duration: number) =>
      new RateLimiterRedis({ storeClient: this.redis, keyPrefix: `${prefix}:${name}`, points, duration });
    this.perAddress = limiter('ip', config.rateLimits.tokenPerIpPerMinute, 60);
    this.perAddressClient = limiter('ip-client', config.rateLimits.tokenPerClientPerMinute, 60);
    this.failures = limiter('failures', FREE_FAILURES, FAILURE_WINDOW_SECONDS);
    this.blocked = limiter('blocked', 1, FAILURE_WINDOW_SECONDS);
  }

  /** Counts one request; throws RateLimitedError when the address, or the address for this client, is over its limit or backing off. */
  async consume(ip: string, clientId: string | undefined): Promise<void> {
    const address = ip || 'unknown';
    const pair = clientId ? pairKey(address, clientId) : undefined;
    const checks: Promise<unknown>[] = [this.perAddress.consume(address)];
    if (pair) {
      checks.push(this.perAddressClient.consume(pair));
      checks.push(
        this.blocked.get(pair).then((res) => {
          if (res && res.consumedPoints > 1) throw res;
        }),
      );
    }
    const refused = (await Promise.allSettled(checks))
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as unknown)
      .filter((reason): reason is RateLimiterRes => reason instanceof RateLimiterRes);
    if (refused.length)
      throw new RateLimitedError(
        Math.max(1, Math.ceil(Math.max(...refused.map((r) => r.msBeforeNext)) / 1000)),
      );
  }

  /** A failed client authentication from this address: past the free ones, the pair backs off. */
  async failed(ip: string, clientId: string | undefined): Promise<void> {
    if (!clientId) return;
    const pair = pairKey(ip || 'unknown', clientId);
    try {
      const res = await this.failures.penalty(pair, 1);
      const wait = backoffSeconds(res.consumedPoints);
      if (wait > 0) await this.blocked.block(pair, wait);
    } catch {
      // Redis unreachable: nothing to count with (see the class comment)
    }
  }

  /** A successful client authentication from this address clears its failures for the client. */
  async succeeded(ip: string, clientId: string | undefined): Promise<void> {
    if (!clientId) return;
    const pair = pairKey(ip || 'unknown', clientId);
    await Promise.allSettled([this.failures.delete(pair), this.blocked.delete(pair)]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

/** A Redis key part for (address, client id); the client id is whatever the caller sent, so it is hashed. */
function pairKey(address: string, clientId: string): string {
  return `${address}|${createHash('sha256').update(clientId).digest('base64url').slice(0, 22)}`;
}
