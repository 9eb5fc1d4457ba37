import { DynamicModule, Module } from '@nestjs/common';
import { ServiceConfig, ServiceDefinition, ServiceRuntimeModule } from '@broker/service-runtime';

/** The token domain's schema; its tables arrive with the identity and token issues. */
const TOKENS_SCHEMA = { schema: 'tokens', entities: [], migrations: [] };

@Module({})
class TokenBrokerModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return { module: TokenBrokerModule, imports: [ServiceRuntimeModule.forRoot(config, { database: TOKENS_SCHEMA })] };
  }
}

/** token-broker: owns authorizations and token sets; answers `tokens.*` on the bus. */
export const tokenBrokerService: ServiceDefinition = {
  service: 'token-broker',
  defaultPort: 3102,
  database: true,
  busServer: true,
  module: (config) => TokenBrokerModule.forRoot(config),
};
