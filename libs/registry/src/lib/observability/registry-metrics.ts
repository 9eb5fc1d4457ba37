import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CountRow,
  ENCRYPTED_VALUES_HELP,
  SERVICE_CONFIG,
  ServiceConfig,
  countedGauge,
  domainDataSourceToken,
} from '@broker/service-runtime';
import { REGISTRY_SCHEMA } from '../registry.schema';

/**
 * Periodic counts of the registry's tables, in the worker only (one kind of process): providers by
 * status (an `invalid` one serves no token until an admin fixes its client), webhook deliveries by
 * status, and client secrets under each encryption key.
 */
@Injectable()
export class RegistryMetrics implements OnModuleInit, OnApplicationShutdown {
  private readonly stops: (() => void)[] = [];

  constructor(
    @Inject(domainDataSourceToken(REGISTRY_SCHEMA)) private readonly ds: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.service !== 'worker') return;
    const grouped =
      (sql: string, label: string, extra: Record<string, string> = {}) =>
      async (): Promise<CountRow[]> =>
        ((await this.ds.query(sql)) as { label: string; n: string }[]).map((r) => ({
          labels: { ...extra, [label]: r.label },
          value: Number(r.n),
        }));
    this.stops.push(
      countedGauge(
        {
          name: 'broker_providers',
          help: 'Providers by status: active, invalid (client marked invalid), deleting, deletion_failed (counted every METRICS_COUNT_INTERVAL_SECONDS, 60 s by default)',
          labelNames: ['status'],
          ttlMs: this.config.observability.countIntervalMs,
        },
        grouped(`SELECT status AS label, count(*) AS n FROM registry.providers GROUP BY status`, 'status'),
      ),
      countedGauge(
        {
          name: 'broker_webhook_deliveries',
          help: 'Webhook deliveries by result: pending (being retried), succeeded, failed (gave up) (counted every METRICS_COUNT_INTERVAL_SECONDS, 60 s by default)',
          labelNames: ['status'],
          ttlMs: this.config.observability.countIntervalMs,
        },
        grouped(
          `SELECT status AS label, count(*) AS n FROM registry.webhook_deliveries GROUP BY status`,
          'status',
        ),
      ),
      countedGauge(
        {
          name: 'broker_encrypted_values',
          help: ENCRYPTED_VALUES_HELP,
          labelNames: ['domain', 'key_id'],
          part: 'registry',
          ttlMs: this.config.observability.countIntervalMs,
        },
        grouped(
          `SELECT key_id AS label, count(*) AS n FROM registry.secure_configs GROUP BY key_id`,
          'key_id',
          { domain: 'registry' },
        ),
      ),
    );
  }

  onApplicationShutdown(): void {
    this.stops.forEach((stop) => stop());
  }
}
