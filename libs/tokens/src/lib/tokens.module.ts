import { DynamicModule, Module, Provider } from '@nestjs/common';
import { AuthorizationsService } from './authorizations/authorizations.service';
import { AuthorizationsImport } from './authorizations/authorizations-import';
import { ProviderAuthorizationsRemoval } from './authorizations/provider-authorizations-removal';
import { AuthorizedProvidersService } from './authorized-providers.service';
import { ConsentService } from './consent/consent.service';
import { DeviceFlowService } from './device-flow/device-flow.service';
import { ExternalAuthService } from './external-auth/external-auth.service';
import { RefreshSchedule } from './refresh/refresh-schedule';
import { RefreshSweeper } from './refresh/refresh-sweeper';
import { UsageTracker } from './refresh/usage-tracker';
import { TokenPath } from './token-path';
import { TokenLedger } from './ledger/token-ledger';
import { ConsumerTokens } from './serving/consumer-tokens';
import { RevocationJobsStore } from './revocation-jobs/revocation-jobs.store';
import { accountLinkingProviders } from './module/account-linking.providers';
import { EVENT_SINK } from './module/injection-tokens';
import { servingProviders } from './module/serving.providers';
import { storageProviders } from './module/storage.providers';
import { tokenPathProviders } from './module/token-path.providers';

export * from './module/injection-tokens';

/**
 * Domain services of the tokens domain. `forRoot` takes the app's providers of PROVIDER_ACCESS and
 * EVENT_SINK (and the modules they need); without them only the storage services are available.
 */
@Module({})
export class TokensDomainModule {
  static forRoot(
    options: { imports?: DynamicModule['imports']; providers?: Provider[] } = {},
  ): DynamicModule {
    const storage = storageProviders;
    if (!options.providers?.length)
      return {
        module: TokensDomainModule,
        imports: options.imports,
        providers: storage,
        exports: [AuthorizationsService, RefreshSchedule, AuthorizationsImport],
      };
    const domain: Provider[] = [...tokenPathProviders, ...accountLinkingProviders, ...servingProviders];
    return {
      module: TokensDomainModule,
      imports: options.imports,
      providers: [...storage, ...options.providers, ...domain],
      exports: [
        AuthorizationsService,
        AuthorizationsImport,
        ProviderAuthorizationsRemoval,
        RefreshSchedule,
        RefreshSweeper,
        UsageTracker,
        TokenPath,
        ConsentService,
        AuthorizedProvidersService,
        DeviceFlowService,
        ExternalAuthService,
        EVENT_SINK,
        ConsumerTokens,
        TokenLedger,
        RevocationJobsStore,
      ],
    };
  }
}
