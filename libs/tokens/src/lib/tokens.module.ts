import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, KeyedHasher } from '@broker/crypto';
import { GuardedFetch, createGuardedFetch } from '@broker/provider-adapters';
import { SERVICE_CONFIG, ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { AuthorizationLinker } from './authorizations/authorization-linker';
import { AuthorizationsService } from './authorizations/authorizations.service';
import { AuthorizedProvidersService } from './authorized-providers.service';
import { ConsentService } from './consent.service';
import { DeviceFlowService, DevicePollScheduler } from './device-flow/device-flow.service';
import { ExternalAuthService } from './external-auth/external-auth.service';
import { EventSink, ProviderAccess, ProviderDirectory, RefreshScheduler } from './provider-access';
import { DEFAULT_TOKEN_PATH_OPTIONS, TOKEN_PATH_FAULTS, TokenPath, TokenPathFaults } from './token-path';
import { TOKENS_SCHEMA } from './tokens.schema';

/** Injection tokens the app provides: how to reach providers, where events go. */
export const PROVIDER_ACCESS = Symbol('PROVIDER_ACCESS');
export const EVENT_SINK = Symbol('EVENT_SINK');
/** Optional: where refresh-ahead requests go (the worker's queue); none when not provided. */
export const REFRESH_SCHEDULER = Symbol('REFRESH_SCHEDULER');
/** Optional: where device pollers are started (the worker's `device-poll` queue); starting a device flow fails without it. */
export const DEVICE_POLL_SCHEDULER = Symbol('DEVICE_POLL_SCHEDULER');
/** Optional: the ids of an org's providers (the external-auth list offers them); none listed without it. */
export const PROVIDER_DIRECTORY = Symbol('PROVIDER_DIRECTORY');
/** The guarded fetch every provider call of this domain goes through. */
export const PROVIDER_FETCH = Symbol('PROVIDER_FETCH');

const TOKENS_DS = domainDataSourceToken(TOKENS_SCHEMA);

function cipherOf(config: ServiceConfig): EnvelopeCipher {
  if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
  return new EnvelopeCipher(config.secrets.keyring);
}

function hasherOf(config: ServiceConfig): KeyedHasher {
  if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
  return new KeyedHasher(config.secrets.pepper);
}

const noDevicePoller: DevicePollScheduler = () => Promise.reject(new Error('no device poller in this service'));

/**
 * Domain services of the tokens domain. `forRoot` takes the app's providers of PROVIDER_ACCESS and
 * EVENT_SINK (and the modules they need); without them only the storage services are available.
 */
@Module({})
export class TokensDomainModule {
  static forRoot(options: { imports?: DynamicModule['imports']; providers?: Provider[] } = {}): DynamicModule {
    const storage: Provider[] = [
      { provide: AuthorizationsService, inject: [TOKENS_DS, SERVICE_CONFIG], useFactory: (ds: DataSource, c: ServiceConfig) => new AuthorizationsService(ds, cipherOf(c)) },
    ];
    if (!options.providers?.length) return { module: TokensDomainModule, imports: options.imports, providers: storage, exports: [AuthorizationsService] };
    const domain: Provider[] = [
      {
        provide: PROVIDER_FETCH,
        inject: [SERVICE_CONFIG],
        // Each call sets its own deadline (AbortSignal); the guard's own limit only backs them up.
        useFactory: (c: ServiceConfig): GuardedFetch => createGuardedFetch(c.egress, { timeoutMs: 60_000 }),
      },
      {
        provide: TokenPath,
        inject: [
          TOKENS_DS,
          SERVICE_CONFIG,
          PROVIDER_ACCESS,
          PROVIDER_FETCH,
          EVENT_SINK,
          { token: REFRESH_SCHEDULER, optional: true },
          { token: TOKEN_PATH_FAULTS, optional: true },
        ],
        useFactory: (ds: DataSource, c: ServiceConfig, access: ProviderAccess, f: typeof fetch, sink: EventSink, schedule?: RefreshScheduler, faults?: TokenPathFaults) =>
          new TokenPath(ds, cipherOf(c), access, f, sink, DEFAULT_TOKEN_PATH_OPTIONS, schedule, faults),
      },
      {
        provide: AuthorizationLinker,
        inject: [AuthorizationsService, PROVIDER_FETCH, EVENT_SINK, { token: REFRESH_SCHEDULER, optional: true }],
        useFactory: (authz: AuthorizationsService, f: typeof fetch, sink: EventSink, schedule?: RefreshScheduler) =>
          new AuthorizationLinker(authz, f, sink, schedule ?? (() => undefined), 15_000),
      },
      {
        provide: ConsentService,
        inject: [TOKENS_DS, SERVICE_CONFIG, PROVIDER_ACCESS, AuthorizationLinker, PROVIDER_FETCH],
        useFactory: (ds: DataSource, c: ServiceConfig, access: ProviderAccess, linker: AuthorizationLinker, f: typeof fetch) =>
          new ConsentService(ds, cipherOf(c), access, linker, f, {
            defaultRedirectUri: `${c.publicUrl}/api/v2/externalOAuth/providers/callback/`,
            startPageUrl: `${c.publicUrl}/connect/start`,
            allowedRedirectUris: c.consentRedirectUris,
            stateTtlMs: 600_000,
            providerTimeoutMs: 15_000,
          }),
      },
      {
        provide: DeviceFlowService,
        inject: [TOKENS_DS, SERVICE_CONFIG, PROVIDER_ACCESS, AuthorizationLinker, PROVIDER_FETCH, { token: DEVICE_POLL_SCHEDULER, optional: true }],
        useFactory: (ds: DataSource, c: ServiceConfig, access: ProviderAccess, linker: AuthorizationLinker, f: typeof fetch, schedule?: DevicePollScheduler) =>
          new DeviceFlowService(ds, cipherOf(c), hasherOf(c), access, linker, f, schedule ?? noDevicePoller, { providerTimeoutMs: 15_000 }),
      },
      {
        provide: ExternalAuthService,
        inject: [TOKENS_DS, AuthorizedProvidersService, TokenPath, PROVIDER_ACCESS, PROVIDER_FETCH, { token: PROVIDER_DIRECTORY, optional: true }],
        useFactory: (ds: DataSource, authorized: AuthorizedProvidersService, path: TokenPath, access: ProviderAccess, f: typeof fetch, directory?: ProviderDirectory) =>
          new ExternalAuthService(ds, authorized, path, access, f, directory),
      },
      {
        provide: AuthorizedProvidersService,
        inject: [TOKENS_DS, AuthorizationsService, TokenPath, PROVIDER_ACCESS, PROVIDER_FETCH, EVENT_SINK],
        useFactory: (ds: DataSource, authz: AuthorizationsService, path: TokenPath, access: ProviderAccess, f: typeof fetch, sink: EventSink) =>
          new AuthorizedProvidersService(ds, authz, path, access, f, sink),
      },
    ];
    return {
      module: TokensDomainModule,
      imports: options.imports,
      providers: [...storage, ...options.providers, ...domain],
      exports: [AuthorizationsService, TokenPath, ConsentService, AuthorizedProvidersService, DeviceFlowService, ExternalAuthService, EVENT_SINK],
    };
  }
}
