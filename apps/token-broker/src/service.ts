import { DynamicModule, Module } from '@nestjs/common';
import { JobProducer, JobQueuesModule } from '@broker/bus';
import { IDENTITY_SCHEMA, IdentityDomainModule, TokenGrantsService } from '@broker/identity';
import {
  ServiceConfig,
  ServiceDefinition,
  ServiceEventPublisher,
  ServiceRuntimeModule,
} from '@broker/service-runtime';
import {
  CONSUMER_POLICY,
  DEVICE_POLL_SCHEDULER,
  EVENT_SINK,
  PROVIDER_ACCESS,
  PROVIDER_DIRECTORY,
  PROVIDER_SUMMARY,
  TOKENS_SCHEMA,
  TOKEN_PATH_FAULTS,
  TokensDomainModule,
  jobDevicePollScheduler,
} from '@broker/tokens';
import { ExternalAuthBusController } from './external-auth.bus-controller';
import { testFaults } from './test-faults';
import { ConsentPageBusController } from './consent-page.bus-controller';
import { SetupConsentBusController } from './setup-consent.bus-controller';
import { SetupOutcomeReporter } from './setup-outcomes';
import { IdentityAdminBusController } from './identity-admin.bus-controller';
import {
  AuthorizationServerFeaturesBusController,
  ClientMetadataBusController,
} from './client-metadata.bus-controller';
import { IdentityBusController } from './identity.bus-controller';
import { ConsumerPolicyBusController } from './consumer-policy.bus-controller';
import { LedgerHitsBusController } from './ledger-hits.bus-controller';
import { PrincipalBusController } from './principal.bus-controller';
import { BusProviderAccess, TokenMemoryInvalidator } from './provider-access';
import { BrowserCallbackBusController, TokensBusController } from './tokens.bus-controller';
import { TokenExchangeBusController } from './token-exchange.bus-controller';
import { RevocationJobsBusController } from './revocation-jobs.bus-controller';
import { BlastRadius } from './blast-radius';
import { ConsumerChangeNotices } from './consumer-changes';

@Module({})
class TokenBrokerModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: TokenBrokerModule,
      imports: [
        ServiceRuntimeModule.forRoot(config, { database: [IDENTITY_SCHEMA, TOKENS_SCHEMA], busClient: true }),
        IdentityDomainModule,
        JobQueuesModule.forRoot({ redisUrl: config.redisUrl, prefix: `${config.bus.prefix}:jobs` }),
        TokensDomainModule.forRoot({
          imports: [IdentityDomainModule],
          providers: [
            BusProviderAccess,
            // Here, next to BusProviderAccess and the TokenPath it drops entries of.
            TokenMemoryInvalidator,
            ServiceEventPublisher,
            {
              provide: PROVIDER_ACCESS,
              inject: [BusProviderAccess],
              useFactory: (a: BusProviderAccess) => a.access,
            },
            {
              provide: PROVIDER_SUMMARY,
              inject: [BusProviderAccess],
              useFactory: (a: BusProviderAccess) => a.summary,
            },
            {
              provide: PROVIDER_DIRECTORY,
              inject: [BusProviderAccess],
              useFactory: (a: BusProviderAccess) => a.directory,
            },
            {
              provide: EVENT_SINK,
              inject: [ServiceEventPublisher],
              useFactory: (p: ServiceEventPublisher) => p.publish,
            },
            {
              provide: DEVICE_POLL_SCHEDULER,
              inject: [JobProducer],
              useFactory: (jobs: JobProducer) => jobDevicePollScheduler(jobs),
            },
            // Consumer policies live in the identity domain; the tokens domain asks them before serving.
            {
              provide: CONSUMER_POLICY,
              inject: [TokenGrantsService],
              useFactory: (grants: TokenGrantsService) => grants.decide.bind(grants),
            },
            ...(config.testFaultHooks
              ? [{ provide: TOKEN_PATH_FAULTS, useFactory: () => testFaults(config) }]
              : []),
          ],
        }),
      ],
      providers: [SetupOutcomeReporter, BlastRadius, ConsumerChangeNotices],
      controllers: [
        IdentityBusController,
        IdentityAdminBusController,
        ClientMetadataBusController,
        AuthorizationServerFeaturesBusController,
        ConsumerPolicyBusController,
        TokenExchangeBusController,
        RevocationJobsBusController,
        PrincipalBusController,
        TokensBusController,
        BrowserCallbackBusController,
        ConsentPageBusController,
        SetupConsentBusController,
        ExternalAuthBusController,
        LedgerHitsBusController,
      ],
    };
  }
}

/** token-broker: the broker's own OAuth server, consent flows, authorizations and the token path. */
export const tokenBrokerService: ServiceDefinition = {
  service: 'token-broker',
  defaultPort: 3102,
  database: true,
  // The schemas a MIGRATIONS=only run applies (the same as ServiceRuntimeModule's `database` above).
  domains: [IDENTITY_SCHEMA, TOKENS_SCHEMA],
  secrets: true,
  busServer: true,
  module: (config) => TokenBrokerModule.forRoot(config),
};
