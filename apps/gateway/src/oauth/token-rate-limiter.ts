import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
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

/**
 * Limits token requests per client IP and per client id, counted in Redis so every gateway replica
 * shares the same budget. If Redis cannot be reached the request is let through: the token endpoint
 * needs Redis (the bus) anyway and will answer 503 on its own.
 */
@Injectable()
export class TokenRateLimiter implements OnApplicationShutdown {
  private readonly redis: IORedis;
  private readonly perIp: RateLimiterRedis;
  private readonly perClient: RateLimiterRedis;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.redis = createRedisConnection(config.redisUrl, 'gateway:rate-limits', { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const prefix = `${config.bus.prefix}:rl:token`;
    this.perIp = new RateLimiterRedis({ storeClient: this.redis, keyPrefix: `${prefix}:ip`, points: config.rateLimits.tokenPerIpPerMinute, duration: 60 });
    this.perClient = new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${prefix}:client`,
      points: config.rateLimits.tokenPerClientPerMinute,
      duration: 60,
    });
  }

  /** Counts one request; throws RateLimitedError when the IP or the client is over its limit. */
  async consume(ip: string, clientId: string | undefined): Promise<void> {
    const checks = [this.perIp.consume(ip || 'unknown')];
    if (clientId) checks.push(this.perClient.consume(clientId));
    const results = await Promise.allSettled(checks);
    const refused = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as unknown)
      .filter((reason): reason is RateLimiterRes => reason instanceof RateLimiterRes);
    if (refused.length) throw new RateLimitedError(Math.max(1, Math.ceil(Math.max(...refused.map((r) => r.msBeforeNext)) / 1000)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
