import { DynamicModule, Module } from '@nestjs/common';
import { JobQueuesModule } from '@broker/bus';
import {
  ProvidersService,
  REGISTRY_SCHEMA,
  RegistryDomainModule,
  SecureConfigsService,
} from '@broker/registry';
import {
  ServiceConfig,
  ServiceDefinition,
  ServiceEventPublisher,
  ServiceRuntimeModule,
} from '@broker/service-runtime';
import {
  EVENT_SINK,
  PROVIDER_ACCESS,
  PROVIDER_GATE,
  TOKENS_SCHEMA,
  TokensDomainModule,
} from '@broker/tokens';
import { ProviderRefreshGate } from './provider-refresh-gate';
import { registryProviderAccess } from './token-refresh.processor';
import { queueConsumers } from './queue-selection';
import { DatabaseWatch } from './database-watch';

@Module({})
class WorkerModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ServiceRuntimeModule.forRoot(config, {
          database: [REGISTRY_SCHEMA, TOKENS_SCHEMA],
          queueMetrics: true,
        }),
        JobQueuesModule.forRoot({ redisUrl: config.redisUrl, prefix: `${config.bus.prefix}:jobs` }),
        RegistryDomainModule,
        TokensDomainModule.forRoot({
          imports: [RegistryDomainModule],
          providers: [
            ServiceEventPublisher,
            {
              provide: PROVIDER_ACCESS,
              inject: [ProvidersService, SecureConfigsService],
              useFactory: (providers: ProvidersService, secrets: SecureConfigsService) =>
                registryProviderAccess(providers, secrets),
            },
            {
              provide: EVENT_SINK,
              inject: [ServiceEventPublisher],
              useFactory: (p: ServiceEventPublisher) => p.publish,
            },
            ProviderRefreshGate,
            { provide: PROVIDER_GATE, useExisting: ProviderRefreshGate },
          ],
        }),
      ],
      // Only the processors of the queues this process consumes (WORKER_QUEUES; all by default).
      providers: [DatabaseWatch, ...queueConsumers(config.worker.queues)],
    };
  }
}

/** worker: runs the background queues (refresh ahead of expiry, device-flow polling, deletion, stats, key rotation, setup expiry, webhook delivery); HTTP only for probes. */
export const workerService: ServiceDefinition = {
  service: 'worker',
  defaultPort: 3103,
  database: true,
  // The schemas a MIGRATIONS=only run applies (the same as ServiceRuntimeModule's `database` above).
  domains: [REGISTRY_SCHEMA, TOKENS_SCHEMA],
  secrets: true,
  busServer: false,
  module: (config) => WorkerModule.forRoot(config),
};
