import { Provider } from '@nestjs/common';
import {
  AccessTokenVerifier,
  BusAuthGuard,
  DEFAULT_REVOCATION_SYNC,
  RevocationChannel,
  RevocationLifecycle,
  RevocationSync,
  revocationHealthLog,
} from '@broker/auth-kit';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { RevocationsService } from '../revocation/revocations.service';
import { SigningKeysService } from '../signing-keys.service';

/**
 * The kit's verification as the token-broker runs it: the list read straight from PostgreSQL, the
 * keys from its own SigningKeysService, and its own revocation writes added and announced at once.
 */
export const VERIFICATION_PROVIDERS: Provider[] = [
  // The token-broker reads the revocation list from PostgreSQL and serves it to the other verifiers.
  {
    provide: RevocationSync,
    inject: [RevocationsService],
    useFactory: (revocations: RevocationsService) =>
      new RevocationSync(
        async () => {
          const { entries, version } = await revocations.read();
          return { version, ageMs: 0, entries };
        },
        DEFAULT_REVOCATION_SYNC,
        revocationHealthLog,
      ),
  },
  // The token-broker verifies bus callers against its own keys, without a bus round trip.
  {
    provide: AccessTokenVerifier,
    inject: [SigningKeysService, SERVICE_CONFIG, RevocationSync],
    useFactory: (keys: SigningKeysService, config: ServiceConfig, revocations: RevocationSync) =>
      new AccessTokenVerifier(
        () => keys.jwks(),
        config.publicUrl,
        `${config.publicUrl}/api`,
        5_000,
        revocations,
        config.resourceServers,
      ),
  },
  {
    provide: RevocationLifecycle,
    inject: [RevocationSync, SERVICE_CONFIG, RevocationsService],
    useFactory: (sync: RevocationSync, config: ServiceConfig, revocations: RevocationsService) =>
      new RevocationLifecycle(
        sync,
        new RevocationChannel(config.redisUrl, config.bus.prefix, config.service),
        revocations,
      ),
  },
  BusAuthGuard,
];
