import { DynamicModule, Module, Provider } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import type { DataSource } from 'typeorm';
import { BusClientProxy } from '@broker/bus';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AccessTokenVerifier } from '../access-token-verifier';
import { RevocationChannel } from '../revocation/revocation-channel';
import { RevocationLifecycle } from '../revocation/revocation-lifecycle';
import { DEFAULT_REVOCATION_SYNC, RevocationSync, revocationHealthLog } from '../revocation/revocation-list';
import { publishedRevocations } from '../revocation/published-revocations';
import { BusAuthGuard } from './bus-auth.guard';
import { publishedJwks } from './published-keys';

/** Where this process reads the broker's public signing keys from. */
const JWKS_SOURCE = Symbol('JWKS_SOURCE');

/** The verifier, the revocation ping and the guard, whatever the keys and the list are read from. */
const VERIFICATION: Provider[] = [
  {
    provide: AccessTokenVerifier,
    inject: [JWKS_SOURCE, SERVICE_CONFIG, RevocationSync],
    useFactory: (jwks: () => Promise<JSONWebKeySet>, config: ServiceConfig, revocations: RevocationSync) =>
      new AccessTokenVerifier(jwks, config.publicUrl, `${config.publicUrl}/api`, 5_000, revocations),
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
];

const EXPORTS = [AccessTokenVerifier, BusAuthGuard, RevocationSync];

/**
 * Verification of the broker's access tokens in a process that does not own the identity tables
 * (the gateway): the JWKS and the revocation list come from the token-broker over the bus.
 * A process with the database (the provider-registry) uses `fromDatabase` instead.
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
      provide: JWKS_SOURCE,
      inject: [BusClientProxy],
      useFactory: (bus: BusClientProxy) => () => bus.request('identity.jwks', {}),
    },
    ...VERIFICATION,
  ],
  exports: EXPORTS,
})
export class TokenVerificationModule {
  /**
   * The same verification reading what the token-broker publishes in PostgreSQL (its public
   * signing keys, the revocation list) through `dataSource` (the process's own DataSource: the
   * reads are plain SQL on the `identity` schema). A service that the token-broker calls must use
   * this: asking the token-broker back at run time would make the two services depend on each other.
   */
  static fromDatabase(dataSource: string | symbol): DynamicModule {
    return {
      module: TokenVerificationModule,
      providers: [
        {
          provide: RevocationSync,
          inject: [dataSource],
          useFactory: (ds: DataSource) =>
            new RevocationSync(
              async () => {
                const { entries, version } = await publishedRevocations(ds);
                return { version, ageMs: 0, entries };
              },
              DEFAULT_REVOCATION_SYNC,
              revocationHealthLog,
            ),
        },
        {
          provide: JWKS_SOURCE,
          inject: [dataSource],
          useFactory: (ds: DataSource) => () => publishedJwks(ds),
        },
        ...VERIFICATION,
      ],
      exports: EXPORTS,
    };
  }
}
