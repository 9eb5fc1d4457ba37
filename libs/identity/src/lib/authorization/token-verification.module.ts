import { Module } from '@nestjs/common';
import { BusClientProxy } from '@broker/bus';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AccessTokenVerifier } from '../access-tokens';
import { BusAuthGuard } from './bus-auth.guard';

/** Verification of the broker's access tokens, with the JWKS fetched from the token-broker over the bus. */
@Module({
  providers: [
    {
      provide: AccessTokenVerifier,
      inject: [BusClientProxy, SERVICE_CONFIG],
      useFactory: (bus: BusClientProxy, config: ServiceConfig) =>
        new AccessTokenVerifier(() => bus.request('identity.jwks', {}), config.publicUrl, `${config.publicUrl}/api`),
    },
    BusAuthGuard,
  ],
  exports: [AccessTokenVerifier, BusAuthGuard],
})
export class TokenVerificationModule {}
