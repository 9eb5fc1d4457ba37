import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import IORedis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createRedisConnection } from '@broker/bus';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import type { ProviderGate } from '@broker/tokens';

/**
 * Per-provider limits of scheduled refreshes, so a wave of due tokens never trips a provider's own
 * limits: at most `concurrencyPerProvider` calls in flight per worker process, and at most
 * `ratePerProviderPerSecond` calls started per second across every worker (counted in Redis, one
 * key per provider). A call over the rate waits for the next second. If Redis cannot be reached the
 * rate is not enforced (the concurrency still is): refreshes matter more than the count.
 */
@Injectable()
export class ProviderRefreshGate implements ProviderGate, OnApplicationShutdown {
  private readonly redis: IORedis;
  private readonly rate: RateLimiterRedis;
  private readonly slots = new Map<string, { active: number; waiting: (() => void)[] }>();
  private readonly concurrency: number;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.redis = createRedisConnection(config.redisUrl, 'worker:refresh-limits', {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    this.rate = new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${config.bus.prefix}:rl:refresh`,
      points: config.refresh.ratePerProviderPerSecond,
      duration: 1,
    });
    this.concurrency = config.refresh.concurrencyPerProvider;
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }

  async run<T>(providerId: string, fn: () => Promise<T>): Promise<T> {
    await this.enter(providerId);
    try {
      await this.startAllowed(providerId);
      return await fn();
    } finally {
      this.leave(providerId);
    }
  }

  private async startAllowed(providerId: string): Promise<void> {
    for (;;) {
      try {
        await this.rate.consume(providerId);
        return;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) return; // Redis unavailable: not enforced
        await new Promise((r) => setTimeout(r, Math.max(res.msBeforeNext, 5)));
      }
    }
  }

  private async enter(providerId: string): Promise<void> {
    let slot = this.slots.get(providerId);
    if (!slot) this.slots.set(providerId, (slot = { active: 0, waiting: [] }));
    if (slot.active < this.concurrency) {
      slot.active++;
      return;
    }
    await new Promise<void>((resolve) => slot.waiting.push(resolve));
  }

  private leave(providerId: string): void {
    const slot = this.slots.get(providerId);
    if (!slot) return;
    const next = slot.waiting.shift();
    if (next)
      next(); // the slot passes to the next waiter as it is
    else if (--slot.active === 0) this.slots.delete(providerId);
  }
}
