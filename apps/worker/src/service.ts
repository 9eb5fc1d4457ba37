import { DynamicModule, Module } from '@nestjs/common';
import { JobQueuesModule } from '@broker/bus';
import { ProvidersService, REGISTRY_SCHEMA, RegistryDomainModule, SecureConfigsService } from '@broker/registry';
import { ServiceConfig, ServiceDefinition, ServiceEventPublisher, ServiceRuntimeModule } from '@broker/service-runtime';
import { EVENT_SINK, PROVIDER_ACCESS, PROVIDER_GATE, TOKENS_SCHEMA, TokensDomainModule } from '@broker/tokens';
import { ProviderRefreshGate } from './provider-refresh-gate';
import { JobReconciler } from './job-reconciler';
import { DevicePollProcessor } from './device-poll.processor';
import { KeyRotationProcessor } from './key-rotation.processor';
import { ProviderDeletionProcessor } from './provider-deletion.processor';
import { StatsProcessor } from './stats.processor';
import { TokenRefreshProcessor, registryProviderAccess } from './token-refresh.processor';
import { UpstreamRevoker } from './upstream-revoker';
import { SetupSweepProcessor } from './setup-sweep.processor';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookEventRecorder } from './webhook-event-recorder';

@Module({})
class WorkerModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ServiceRuntimeModule.forRoot(config, { database: [REGISTRY_SCHEMA, TOKENS_SCHEMA] }),
        JobQueuesModule.forRoot({ redisUrl: config.redisUrl, prefix: `${config.bus.prefix}:jobs` }),
        RegistryDomainModule,
        TokensDomainModule.forRoot({
          imports: [RegistryDomainModule],
          providers: [
            ServiceEventPublisher,
            {
              provide: PROVIDER_ACCESS,
              inject: [ProvidersService, SecureConfigsService],
              useFactory: (providers: ProvidersService, secrets: SecureConfigsService) => registryProviderAccess(providers, secrets),
            },
            { provide: EVENT_SINK, inject: [ServiceEventPublisher], useFactory: (p: ServiceEventPublisher) => p.publish },
            ProviderRefreshGate,
            { provide: PROVIDER_GATE, useExisting: ProviderRefreshGate },
          ],
        }),
      ],
      providers: [UpstreamRevoker, TokenRefreshProcessor, ProviderDeletionProcessor, StatsProcessor, KeyRotationProcessor, DevicePollProcessor, JobReconciler, SetupSweepProcessor, WebhookDeliveryProcessor, WebhookEventRecorder],
    };
  }
}

/** worker: runs the background queues (refresh ahead of expiry, device-flow polling, deletion, stats, key rotation, setup expiry, webhook delivery); HTTP only for probes. */
export const workerService: ServiceDefinition = {
  service: 'worker',
  defaultPort: 3103,
  database: true,
  secrets: true,
  busServer: false,
  module: (config) => WorkerModule.forRoot(config),
};
