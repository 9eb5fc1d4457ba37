import { Module } from '@nestjs/common';
import { BusClientProxy } from '@broker/bus';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AccessTokenVerifier } from '../access-tokens';
import { RevocationChannel } from '../revocation/revocation-channel';
import { RevocationLifecycle } from '../revocation/revocation-lifecycle';
import { DEFAULT_REVOCATION_SYNC, RevocationSync, revocationHealthLog } from '../revocation/revocation-list';
import { BusAuthGuard } from './bus-auth.guard';

/**
 * Verification of the broker's access tokens in a process that does not own the identity tables
 * (the gateway, the provider-registry): the JWKS and the revocation list come from the
 * token-broker over the bus.
 */
@Module({
  providers: [
    {
      provide: RevocationSync,
      inject: [BusClientProxy],
      useFactory: (bus: BusClientProxy) =>
        new RevocationSync(
          (version) =>
            bus.request('identity.revocations', version === undefined ? {} : { version }, {
              timeoutMs: 2_000,
            }),
          DEFAULT_REVOCATION_SYNC,
          revocationHealthLog,
        ),
    },
    {
      provide: AccessTokenVerifier,
      inject: [BusClientProxy, SERVICE_CONFIG, RevocationSync],
      useFactory: (bus: BusClientProxy, config: ServiceConfig, revocations: RevocationSync) =>
        new AccessTokenVerifier(
          () => bus.request('identity.jwks', {}),
          config.publicUrl,
          `${config.publicUrl}/api`,
          5_000,
          revocations,
        ),
    },
    {
      provide: RevocationLifecycle,
      inject: [RevocationSync, SERVICE_CONFIG],
      useFactory: (sync: RevocationSync, config: ServiceConfig) =>
        new RevocationLifecycle(
          sync,
          new RevocationChannel(config.redisUrl, config.bus.prefix, config.service),
        ),
    },
    BusAuthGuard,
  ],
  exports: [AccessTokenVerifier, BusAuthGuard, RevocationSync],
})
export class TokenVerificationModule {}
