import { DynamicModule, Module } from '@nestjs/common';
import { JobQueuesModule } from '@broker/bus';
import { TokenVerificationModule } from '@broker/auth-kit';
import { REGISTRY_SCHEMA, RegistryDomainModule } from '@broker/registry';
import {
  ServiceConfig,
  ServiceDefinition,
  ServiceEventPublisher,
  ServiceRuntimeModule,
  domainDataSourceToken,
} from '@broker/service-runtime';
import { JobDispatch } from '@broker/workflows';
import { OAuthSetupsBusController } from './oauth-setups.bus-controller';
import { ProvidersBusController } from './providers.bus-controller';
import { WebhooksBusController } from './webhooks.bus-controller';

@Module({})
class ProviderRegistryModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: ProviderRegistryModule,
      imports: [
        ServiceRuntimeModule.forRoot(config, { database: REGISTRY_SCHEMA, busClient: true }),
        JobQueuesModule.forRoot({ redisUrl: config.redisUrl, prefix: `${config.bus.prefix}:jobs` }),
        RegistryDomainModule,
        // Keys and revocations read where the token-broker publishes them (PostgreSQL), never asked
        // of it over the bus: the broker calls this service, so a call back would be a cycle.
        TokenVerificationModule.fromDatabase(domainDataSourceToken(REGISTRY_SCHEMA)),
      ],
      providers: [ServiceEventPublisher, JobDispatch],
      controllers: [ProvidersBusController, OAuthSetupsBusController, WebhooksBusController],
    };
  }
}

/** provider-registry: owns providers, their encrypted client secrets, the job records, OAuth setups and webhook endpoints; answers `providers.*`, `jobs.*`, `oauth-setups.*` and `webhooks.*`. */
export const providerRegistryService: ServiceDefinition = {
  service: 'provider-registry',
  defaultPort: 3101,
  database: true,
  // The schemas a MIGRATIONS=only run applies (the same as ServiceRuntimeModule's `database` above).
  domains: [REGISTRY_SCHEMA],
  secrets: true,
  busServer: true,
  module: (config) => ProviderRegistryModule.forRoot(config),
};
