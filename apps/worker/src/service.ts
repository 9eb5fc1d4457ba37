import { DynamicModule, Module } from '@nestjs/common';
import { JobQueuesModule } from '@broker/bus';
import { REGISTRY_SCHEMA, RegistryDomainModule } from '@broker/registry';
import { ServiceConfig, ServiceDefinition, ServiceRuntimeModule } from '@broker/service-runtime';
import { TOKENS_SCHEMA, TokensDomainModule } from '@broker/tokens';
import { JobReconciler } from './job-reconciler';
import { KeyRotationProcessor } from './key-rotation.processor';
import { ProviderDeletionProcessor } from './provider-deletion.processor';
import { StatsProcessor } from './stats.processor';
import { UpstreamRevoker } from './upstream-revoker';

@Module({})
class WorkerModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ServiceRuntimeModule.forRoot(config, { database: [REGISTRY_SCHEMA, TOKENS_SCHEMA] }),
        JobQueuesModule.forRoot({ redisUrl: config.redisUrl, prefix: `${config.bus.prefix}:jobs` }),
        RegistryDomainModule,
        TokensDomainModule.forRoot(),
      ],
      providers: [UpstreamRevoker, ProviderDeletionProcessor, StatsProcessor, KeyRotationProcessor, JobReconciler],
    };
  }
}

/** worker: runs the background queues (deletion, stats, key rotation; refresh and revocation to come); HTTP only for probes. */
export const workerService: ServiceDefinition = {
  service: 'worker',
  defaultPort: 3103,
  database: true,
  secrets: true,
  busServer: false,
  module: (config) => WorkerModule.forRoot(config),
};
