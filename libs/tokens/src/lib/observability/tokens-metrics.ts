import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  ENCRYPTED_VALUES_HELP,
  SERVICE_CONFIG,
  ServiceConfig,
  counter,
  countedGauge,
  domainDataSourceToken,
} from '@broker/service-runtime';
import { TOKENS_SCHEMA } from '../tokens.schema';
import { TokenObserver, observeTokens } from './token-observer';

let observer: TokenObserver | undefined;

/** Counters of the token path (created once per process, fed by every TokenPath in it). */
function tokenCounters(): TokenObserver {
  if (observer) return observer;
  const acquires = counter<'outcome'>({
    name: 'broker_token_acquires_total',
    help: 'Tokens served, by where they came from: memory, database, refresh (this call refreshed), waited (on a sibling refresh)',
    labelNames: ['outcome'],
  });
  const refreshes = counter<'result' | 'provider_type'>({
    name: 'broker_token_refreshes_total',
    help: 'Provider refresh calls by result class (ok, transient, invalid_grant, invalid_client, rejected) and provider type',
    labelNames: ['result', 'provider_type'],
  });
  const leaseWaits = counter({
    name: 'broker_token_lease_waits_total',
    help: 'Poll intervals spent waiting on a refresh lease another replica holds',
  });
  // Zero series for each outcome, so rates exist before the first event.
  for (const outcome of ['memory', 'database', 'refresh', 'waited']) acquires.inc({ outcome }, 0);
  observer = {
    acquired: (outcome) => acquires.inc({ outcome }),
    refreshed: (result, providerType) => refreshes.inc({ result, provider_type: providerType }),
    leaseWaited: () => leaseWaits.inc(),
  };
  return observer;
}

/**
 * Metrics of the tokens domain: the token path's counters in every process that runs it, and, in
 * the worker only (one kind of process, not every replica of every service), periodic counts of
 * authorizations by status, of refreshes running late, and of token sets under each encryption key.
 */
@Injectable()
export class TokensMetrics implements OnModuleInit, OnApplicationShutdown {
  private readonly stops: (() => void)[] = [];

  constructor(
    @Inject(domainDataSourceToken(TOKENS_SCHEMA)) private readonly ds: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  onModuleInit(): void {
    observeTokens(tokenCounters());
    if (this.config.service !== 'worker') return;
    const rows = (sql: string, label: string) => async () =>
      ((await this.ds.query(sql)) as { label: string; n: string }[]).map((r) => ({
        labels: { [label]: r.label },
        value: Number(r.n),
      }));
    this.stops.push(
      countedGauge(
        {
          name: 'broker_authorizations',
          help: 'Authorizations by status (counted every METRICS_COUNT_INTERVAL_SECONDS, 60 s by default)',
          labelNames: ['status'],
          ttlMs: this.config.observability.countIntervalMs,
        },
        rows(`SELECT status AS label, count(*) AS n FROM tokens.authorizations GROUP BY status`, 'status'),
      ),
      countedGauge(
        {
          name: 'broker_authorizations_refresh_overdue',
          help: 'Active authorizations whose planned refresh is more than 2 minutes late (their token expires without a refresh if the worker stays behind; counted every METRICS_COUNT_INTERVAL_SECONDS)',
          labelNames: [],
          ttlMs: this.config.observability.countIntervalMs,
        },
        async () => {
          const [r] = (await this.ds.query(
            `SELECT count(*) AS n FROM tokens.credentials c JOIN tokens.authorizations a ON a.id = c.authorization_id
              WHERE a.status = 'active' AND c.refresh_due_at < now() - interval '2 minutes'`,
          )) as { n: string }[];
          return [{ labels: {}, value: Number(r?.n ?? 0) }];
        },
      ),
      countedGauge(
        {
          name: 'broker_encrypted_values',
          help: ENCRYPTED_VALUES_HELP,
          labelNames: ['domain', 'key_id'],
          part: 'tokens',
          ttlMs: this.config.observability.countIntervalMs,
        },
        async () =>
          (
            (await this.ds.query(`SELECT key_id, count(*) AS n FROM tokens.credentials GROUP BY key_id`)) as {
              key_id: string;
              n: string;
            }[]
          ).map((r) => ({
            labels: { domain: 'tokens', key_id: r.key_id },
            value: Number(r.n),
          })),
      ),
    );
  }

  onApplicationShutdown(): void {
    this.stops.forEach((stop) => stop());
  }
}
