import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { GuardedFetch, sharedEgress } from '@broker/egress';
import { ProviderAuthorizationsRemoval } from '../authorizations/provider-authorizations-removal';
import { EventSink, ProviderAccess } from '../ports';
import { RefreshSchedule } from '../refresh/refresh-schedule';
import { ProviderGate, RefreshSweeper } from '../refresh/refresh-sweeper';
import { UsageTracker } from '../refresh/usage-tracker';
import { DEFAULT_TOKEN_PATH_OPTIONS, TOKEN_PATH_FAULTS, TokenPath, TokenPathFaults } from '../token-path';
import { TOKENS_DS, cipherOf } from './factory-inputs';
import { EVENT_SINK, PROVIDER_ACCESS, PROVIDER_FETCH, PROVIDER_GATE } from './injection-tokens';

/** The provider fetch, the token path and what keeps tokens fresh or removes them (usage, refresh sweep, removal). */
export const tokenPathProviders: Provider[] = [
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
    useFactory: (schedule: RefreshSchedule, path: TokenPath, access: ProviderAccess, gate?: ProviderGate) =>
      new RefreshSweeper(schedule, path, access, gate ?? { run: (_provider, fn) => fn() }),
  },
];
