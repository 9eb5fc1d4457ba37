// Optional NestJS integration (`@broker/broker-client/nest`): needs @nestjs/common, which the core does not.
export { BROKER_CLIENT_OPTIONS, BrokerClientModule } from './lib/broker-client.module';
export type { BrokerClientModuleAsyncOptions } from './lib/broker-client.module';
