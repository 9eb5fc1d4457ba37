import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { Logger } from '@nestjs/common';
import { TokenFingerprinter } from '@broker/crypto';
import { AuthorizationsService } from '../authorizations/authorizations.service';
import { AuthorizedProvidersService } from '../authorized-providers.service';
import { TokenLedger, DEFAULT_TOKEN_LEDGER_OPTIONS } from '../ledger/token-ledger';
import { TokenLedgerLifecycle } from '../ledger/token-ledger.lifecycle';
import { TokensMetrics } from '../observability/tokens-metrics';
import { EventSink, ProviderAccess, ProviderSummary } from '../ports';
import { RevocationJobsStore } from '../revocation-jobs/revocation-jobs.store';
import { AdapterNarrower } from '../serving/adapter-narrower';
import { ConsumerPolicy, ConsumerTokens, TokenNarrower, refused } from '../serving/consumer-tokens';
import { TokenPath } from '../token-path';
import { TOKENS_DS } from './factory-inputs';
import {
  CONSUMER_POLICY,
  EVENT_SINK,
  PROVIDER_ACCESS,
  PROVIDER_FETCH,
  PROVIDER_SUMMARY,
  TOKEN_NARROWER,
} from './injection-tokens';

const noPolicy: ConsumerPolicy = () =>
  Promise.reject(refused('grant', 'no consumer policy is configured in this service'));

/** Serving tokens to consumers and what they see: the ledger, metrics, revocation jobs, the authorized providers. */
export const servingProviders: Provider[] = [
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
