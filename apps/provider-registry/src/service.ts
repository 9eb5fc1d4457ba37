import { DynamicModule, Module } from '@nestjs/common';
import { TokenVerificationModule } from '@broker/identity';
import { REGISTRY_SCHEMA, RegistryDomainModule } from '@broker/registry';
import { ServiceConfig, ServiceDefinition, ServiceRuntimeModule } from '@broker/service-runtime';
import { ProvidersBusController } from './providers.bus-controller';

@Module({})
class ProviderRegistryModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: ProviderRegistryModule,
      imports: [
        ServiceRuntimeModule.forRoot(config, { database: REGISTRY_SCHEMA, busClient: true }),
        RegistryDomainModule,
        TokenVerificationModule,
      ],
      controllers: [ProvidersBusController],
    };
  }
}

/** provider-registry: owns providers and their encrypted client secrets; answers `providers.*` on the bus. */
export const providerRegistryService: ServiceDefinition = {
  service: 'provider-registry',
  defaultPort: 3101,
  database: true,
  busServer: true,
  module: (config) => ProviderRegistryModule.forRoot(config),
};
