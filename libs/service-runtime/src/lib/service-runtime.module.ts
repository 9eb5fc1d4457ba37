import { DynamicModule, Global, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { BusClientProxy, createRedisConnection } from '@broker/bus';
import { SERVICE_CONFIG } from './config/config.tokens';
import type { ServiceConfig } from './config/service-config';
import { DomainSchema, databaseModule, domainDataSourceToken } from './database/database.module';
import { QueryErrorFilter } from './database/query-error.filter';
import { HEALTH_CHECKS, HealthCheck } from './health/health-check';
import { HealthController } from './health/health.controller';
import { loggingModule } from './logging/logging.module';
import { BusObserverInterceptor, ObservedBusClientProxy } from './metrics/bus-metrics';
import { RouteLabelGuard } from './metrics/http-metrics';
import { ObservabilityLifecycle } from './metrics/observability.lifecycle';
import { QueueMetricsProvider } from './metrics/queue-metrics.provider';

export interface RuntimeOptions {
  /** Domains whose tables this service uses; omitted for services without a database (the gateway). */
  database?: DomainSchema | DomainSchema[];
  /** Provide a BusClientProxy for calling other services. */
  busClient?: boolean;
  /** Auto-pipelining on the bus client's sends: for a service with many requests in flight (the gateway). */
  busAutoPipelining?: boolean;
  /** Export the background queues' depth and age on /metrics (the worker: one kind of process, not every one). */
  queueMetrics?: boolean;
}

/** Redis connection used for readiness checks (and nothing else). */
export const HEALTH_REDIS = Symbol('HEALTH_REDIS');

class HealthRedisCloser implements OnApplicationShutdown {
  constructor(private readonly redis: IORedis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

/**
 * What every service process has: validated config, JSON logs, health probes, and as asked for,
 * its migrated database and a bus client.
 */
@Global()
@Module({})
export class ServiceRuntimeModule {
  static forRoot(config: ServiceConfig, options: RuntimeOptions = {}): DynamicModule {
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: config },
      {
        provide: HEALTH_REDIS,
        useFactory: () =>
          createRedisConnection(config.redisUrl, `${config.service}:health`, { maxRetriesPerRequest: 1 }),
      },
      {
        provide: HealthRedisCloser,
        useFactory: (r: IORedis) => new HealthRedisCloser(r),
        inject: [HEALTH_REDIS],
      },
      // Metrics and traces: HTTP routes labelled, bus handlers timed and traced, /metrics served.
      ObservabilityLifecycle,
      { provide: APP_GUARD, useClass: RouteLabelGuard },
    ];
    // Bus handlers are timed by the BusServer itself (bootstrap.ts); the tracing interceptor wraps
    // them only when spans are exported (it turns every plain handler value into an Observable).
    if (config.observability?.otlpEndpoint)
      providers.push({ provide: APP_INTERCEPTOR, useClass: BusObserverInterceptor });
    if (options.queueMetrics) providers.push(QueueMetricsProvider);
    const domains =
      options.database === undefined
        ? []
        : Array.isArray(options.database)
          ? options.database
          : [options.database];
    providers.push({
      provide: HEALTH_CHECKS,
      inject: [HEALTH_REDIS, ...domains.map((d) => domainDataSourceToken(d))],
      useFactory: (redis: IORedis, ...dataSources: DataSource[]): HealthCheck[] => [
        { name: 'redis', check: () => redis.ping() },
        // One connection pool per domain; they share a server, so one check is enough.
        ...(dataSources[0] ? [{ name: 'database', check: () => dataSources[0].query('SELECT 1') }] : []),
      ],
    });
    // A query refused for its input answers 4xx, and no failed query is logged with its values.
    if (domains.length) providers.push({ provide: APP_FILTER, useClass: QueryErrorFilter });
    const exported: unknown[] = [SERVICE_CONFIG];
    if (options.busClient) {
      providers.push({
        provide: BusClientProxy,
        useFactory: async () => {
          const client = new ObservedBusClientProxy({
            redisUrl: config.redisUrl,
            servicePublicKeys: config.bus.publicKeys,
            prefix: config.bus.prefix,
            defaultTimeoutMs: config.bus.timeoutMs,
            name: config.service,
            autoPipelining: options.busAutoPipelining === true,
          });
          await client.connect();
          return client;
        },
      });
      exported.push(BusClientProxy);
    }
    return {
      module: ServiceRuntimeModule,
      imports: [loggingModule(config), ...domains.map((d) => databaseModule(config, d))],
      controllers: [HealthController],
      providers,
      exports: exported as never[],
    };
  }
}
