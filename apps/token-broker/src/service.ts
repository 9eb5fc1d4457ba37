import { DynamicModule, Module } from '@nestjs/common';
import { IDENTITY_SCHEMA, IdentityDomainModule } from '@broker/identity';
import { ServiceConfig, ServiceDefinition, ServiceRuntimeModule } from '@broker/service-runtime';
import { TOKENS_SCHEMA, TokensDomainModule } from '@broker/tokens';
import { IdentityBusController } from './identity.bus-controller';
import { PrincipalBusController } from './principal.bus-controller';

@Module({})
class TokenBrokerModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: TokenBrokerModule,
      imports: [ServiceRuntimeModule.forRoot(config, { database: [IDENTITY_SCHEMA, TOKENS_SCHEMA] }), IdentityDomainModule, TokensDomainModule],
      controllers: [IdentityBusController, PrincipalBusController],
    };
  }
}

/** token-broker: the broker's own OAuth server (identity), and soon authorizations and token sets. */
export const tokenBrokerService: ServiceDefinition = {
  service: 'token-broker',
  defaultPort: 3102,
  database: true,
  secrets: true,
  busServer: true,
  module: (config) => TokenBrokerModule.forRoot(config),
};
