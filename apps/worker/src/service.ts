import { DynamicModule, Module } from '@nestjs/common';
import { REGISTRY_SCHEMA } from '@broker/registry';
import { ServiceConfig, ServiceDefinition, ServiceRuntimeModule } from '@broker/service-runtime';

@Module({})
class WorkerModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return { module: WorkerModule, imports: [ServiceRuntimeModule.forRoot(config, { database: REGISTRY_SCHEMA })] };
  }
}

/** worker: runs the background queues (refresh, deletion, revocation, stats); HTTP only for probes. */
export const workerService: ServiceDefinition = {
  service: 'worker',
  defaultPort: 3103,
  database: true,
  busServer: false,
  module: (config) => WorkerModule.forRoot(config),
};
