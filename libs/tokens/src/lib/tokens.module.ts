import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Logger } from '@nestjs/common';
import { EnvelopeCipher, KeyedHasher, TokenFingerprinter } from '@broker/crypto';
import { GuardedFetch, sharedEgress } from '@broker/egress';
import { SERVICE_CONFIG, ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { AuthorizationLinker } from './authorizations/authorization-linker';
import { AuthorizationsService } from './authorizations/authorizations.service';
import { AuthorizationsImport } from './authorizations/authorizations-import';
import { ProviderAuthorizationsRemoval } from './authorizations/provider-authorizations-removal';
import { AuthorizedProvidersService } from './authorized-providers.service';
import { ConsentService } from './consent.service';
import { DeviceFlowService, DevicePollScheduler } from './device-flow/device-flow.service';
import { ExternalAuthService } from './external-auth/external-auth.service';
import { EventSink, ProviderAccess, ProviderDirectory, ProviderSummary } from './ports';
import { RefreshSchedule } from './refresh/refresh-schedule';
import { ProviderGate, RefreshSweeper } from './refresh/refresh-sweeper';
import { UsageTracker } from './refresh/usage-tracker';
import { DEFAULT_TOKEN_PATH_OPTIONS, TOKEN_PATH_FAULTS, TokenPath, TokenPathFaults } from './token-path';
import { TOKENS_SCHEMA } from './tokens.schema';
import { DEFAULT_TOKEN_LEDGER_OPTIONS, TokenLedger } from './ledger/token-ledger';
import { TokenLedgerLifecycle } from './ledger/token-ledger.lifecycle';
import { ConsumerPolicy, ConsumerTokens, TokenNarrower, refused } from './serving/consumer-tokens';
import { AdapterNarrower } from './serving/adapter-narrower';
import { RevocationJobsStore } from './revocation-jobs/revocation-jobs.store';
import { TokensMetrics } from './observability/tokens-metrics';

/** Injection tokens the app provides: how to reach providers, where events go. */
export const PROVIDER_ACCESS = Symbol('PROVIDER_ACCESS');
export const EVENT_SINK = Symbol('EVENT_SINK');
/** Optional: where device pollers are started (the worker's `device-poll` queue); starting a device flow fails without it. */
export const DEVICE_POLL_SCHEDULER = Symbol('DEVICE_POLL_SCHEDULER');
/** Optional: the ids of an org's providers (the external-auth list offers them); none listed without it. */
export const PROVIDER_DIRECTORY = Symbol('PROVIDER_DIRECTORY');
/** Optional: the secret-free provider summary for display (none: the display reads PROVIDER_ACCESS). */
export const PROVIDER_SUMMARY = Symbol('PROVIDER_SUMMARY');
/** Optional: per-provider limits of the worker's scheduled refreshes (none: unlimited). */
export const PROVIDER_GATE = Symbol('PROVIDER_GATE');
/**
 * Optional: the consumer policy (the identity domain's grants, wired by the token-broker). Without
 * it every consumer is refused: provider tokens never leave without a policy decision.
 */
export const CONSUMER_POLICY = Symbol('CONSUMER_POLICY');
/** Optional: mints narrower tokens (downscoping); default: the provider adapters' own (Box, GitHub), cached per restriction. */
export const TOKEN_NARROWER = Symbol('TOKEN_NARROWER');
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

const noPolicy: ConsumerPolicy = () =>
  Promise.reject(refused('grant', 'no consumer policy is configured in this service'));

const noDevicePoller: DevicePollScheduler = () =>
  Promise.reject(new Error('no device poller in this service'));

/**
 * Domain services of the tokens domain. `forRoot` takes the app's providers of PROVIDER_ACCESS and
 * EVENT_SINK (and the modules they need); without them only the storage services are available.
 */
@Module({})
export class TokensDomainModule {
  static forRoot(
    options: { imports?: DynamicModule['imports']; providers?: Provider[] } = {},
  ): DynamicModule {
    const storage: Provider[] = [
      {
        provide: AuthorizationsService,
        inject: [TOKENS_DS, SERVICE_CONFIG],
        useFactory: (ds: DataSource, c: ServiceConfig) => new AuthorizationsService(ds, cipherOf(c)),
      },
      {
        provide: RefreshSchedule,
        inject: [TOKENS_DS],
        useFactory: (ds: DataSource) => new RefreshSchedule(ds),
      },
      {
        provide: AuthorizationsImport,
        inject: [TOKENS_DS, SERVICE_CONFIG],
        useFactory: (ds: DataSource, c: ServiceConfig) => new AuthorizationsImport(ds, cipherOf(c)),
      },
    ];
    if (!options.providers?.length)
      return {
        module: TokensDomainModule,
        imports: options.imports,
        providers: storage,
        exports: [AuthorizationsService, RefreshSchedule, AuthorizationsImport],
      };
    const domain: Provider[] = [
      {
        provide: PROVIDER_FETCH,
        inject: [SERVICE_CONFIG],
        // Each call sets its own deadline (AbortSignal); the guard's own limit only backs them up.
        // A view of the process's one egress pool (sockets shared with every other outbound caller).
        useFactory: (c: ServiceConfig): GuardedFetch => sharedEgress(c.egress).fetch({ timeoutMs: 60_000 }),
      },
      // Which authorizations callers use, written in batches (the refresh schedule reads it).
      {
        provide: UsageTracker,
        inject: [TOKENS_DS, SERVICE_CONFIG],
        useFactory: (ds: DataSource, c: ServiceConfig) => new UsageTracker(ds, c.refresh.usageFlushMs),
      },
      {
        provide: TokenPath,
        inject: [
          TOKENS_DS,
          SERVICE_CONFIG,
          PROVIDER_ACCESS,
          PROVIDER_FETCH,
          EVENT_SINK,
          UsageTracker,
          { token: TOKEN_PATH_FAULTS, optional: true },
        ],
        useFactory: (
          ds: DataSource,
          c: ServiceConfig,
          access: ProviderAccess,
          f: typeof fetch,
          sink: EventSink,
          usage: UsageTracker,
          faults?: TokenPathFaults,
        ) =>
          new TokenPath(
            ds,
            cipherOf(c),
            access,
            f,
            sink,
            DEFAULT_TOKEN_PATH_OPTIONS,
            (id, key) => usage.record(id, key),
            faults,
          ),
      },
      {
        provide: ProviderAuthorizationsRemoval,
        inject: [TOKENS_DS, SERVICE_CONFIG, EVENT_SINK],
        useFactory: (ds: DataSource, c: ServiceConfig, sink: EventSink) =>
          new ProviderAuthorizationsRemoval(ds, cipherOf(c), sink),
      },
      {
        provide: RefreshSweeper,
        inject: [RefreshSchedule, TokenPath, PROVIDER_ACCESS, { token: PROVIDER_GATE, optional: true }],
        useFactory: (
          schedule: RefreshSchedule,
          path: TokenPath,
          access: ProviderAccess,
          gate?: ProviderGate,
        ) => new RefreshSweeper(schedule, path, access, gate ?? { run: (_provider, fn) => fn() }),
      },
      {
        provide: AuthorizationLinker,
        inject: [AuthorizationsService, PROVIDER_FETCH, EVENT_SINK],
        useFactory: (authz: AuthorizationsService, f: typeof fetch, sink: EventSink) =>
          new AuthorizationLinker(authz, f, sink, 15_000),
      },
      {
        provide: ConsentService,
        inject: [TOKENS_DS, SERVICE_CONFIG, PROVIDER_ACCESS, AuthorizationLinker, PROVIDER_FETCH],
        useFactory: (
          ds: DataSource,
          c: ServiceConfig,
          access: ProviderAccess,
          linker: AuthorizationLinker,
          f: typeof fetch,
        ) =>
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
        inject: [
          TOKENS_DS,
          SERVICE_CONFIG,
          PROVIDER_ACCESS,
          AuthorizationLinker,
          PROVIDER_FETCH,
          { token: DEVICE_POLL_SCHEDULER, optional: true },
        ],
        useFactory: (
          ds: DataSource,
          c: ServiceConfig,
          access: ProviderAccess,
          linker: AuthorizationLinker,
          f: typeof fetch,
          schedule?: DevicePollScheduler,
        ) =>
          new DeviceFlowService(ds, cipherOf(c), hasherOf(c), access, linker, f, schedule ?? noDevicePoller, {
            providerTimeoutMs: 15_000,
          }),
      },
      {
        provide: ExternalAuthService,
        inject: [
          TOKENS_DS,
          AuthorizedProvidersService,
          TokenPath,
          PROVIDER_ACCESS,
          PROVIDER_FETCH,
          { token: PROVIDER_DIRECTORY, optional: true },
        ],
        useFactory: (
          ds: DataSource,
          authorized: AuthorizedProvidersService,
          path: TokenPath,
          access: ProviderAccess,
          f: typeof fetch,
          directory?: ProviderDirectory,
        ) => new ExternalAuthService(ds, authorized, path, access, f, directory),
      },
      {
        provide: TokenLedger,
        inject: [TOKENS_DS, SERVICE_CONFIG],
        useFactory: (ds: DataSource, c: ServiceConfig) => {
          if (!c.secrets) throw new Error(`${c.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
          const logger = new Logger('TokenLedger');
          return new TokenLedger(
            ds,
            new TokenFingerprinter(c.secrets.pepper),
            { ...DEFAULT_TOKEN_LEDGER_OPTIONS, retentionDays: c.ledger.retentionDays },
            (m) => logger.warn(m),
          );
        },
      },
      TokenLedgerLifecycle,
      // The token path's counters, and the worker's periodic counts, on /metrics.
      TokensMetrics,
      {
        provide: RevocationJobsStore,
        inject: [TOKENS_DS],
        useFactory: (ds: DataSource) => new RevocationJobsStore(ds),
      },
      {
        provide: ConsumerTokens,
        inject: [
          TokenPath,
          AuthorizedProvidersService,
          PROVIDER_ACCESS,
          TokenLedger,
          PROVIDER_FETCH,
          { token: CONSUMER_POLICY, optional: true },
          { token: TOKEN_NARROWER, optional: true },
        ],
        useFactory: (
          path: TokenPath,
          authorized: AuthorizedProvidersService,
          access: ProviderAccess,
          ledger: TokenLedger,
          f: typeof fetch,
          policy?: ConsumerPolicy,
          narrower?: TokenNarrower,
        ) =>
          new ConsumerTokens(
            path,
            authorized,
            access,
            policy ?? noPolicy,
            ledger,
            narrower ?? new AdapterNarrower(access, f).narrow,
          ),
      },
      {
        provide: AuthorizedProvidersService,
        inject: [
          TOKENS_DS,
          AuthorizationsService,
          TokenPath,
          PROVIDER_ACCESS,
          PROVIDER_FETCH,
          EVENT_SINK,
          { token: PROVIDER_SUMMARY, optional: true },
        ],
        useFactory: (
          ds: DataSource,
          authz: AuthorizationsService,
          path: TokenPath,
          access: ProviderAccess,
          f: typeof fetch,
          sink: EventSink,
          summary?: ProviderSummary,
        ) => new AuthorizedProvidersService(ds, authz, path, access, f, sink, summary),
      },
    ];
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
