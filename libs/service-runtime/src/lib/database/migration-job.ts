import pino from 'pino';
import { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import type { ServiceName } from '@broker/contracts';
import type { MigrationJobConfig } from '../config/migration-job-config';
import {
  DomainSchema,
  domainDataSourceOptions,
  migrateDomainSchema,
  pendingMigrations,
} from './database.module';

/**
 * `MIGRATIONS=only`: applies the pending migrations of each domain the service owns, one domain at
 * a time under its advisory lock (so two Jobs, or a Job and a service on `run`, take turns), logs
 * what it applied as JSON lines, and resolves; a failure rejects with the failing domain named.
 */
export async function runMigrationJob(
  service: ServiceName,
  domains: readonly DomainSchema[],
  config: MigrationJobConfig,
): Promise<void> {
  const log = pino({ level: config.logLevel, base: { service } });
  if (domains.length === 0) {
    log.info('this service owns no tables: no migrations to run');
    return;
  }
  for (const domain of domains) {
    // Two connections: one holds the advisory lock while the migrations run on another.
    const dataSource = await new DataSource({
      ...domainDataSourceOptions(config.databaseUrl, domain, `${service}:migrations`, 2),
      logger: jsonLogger(log),
    }).initialize();
    try {
      const pending = await pendingMigrations(dataSource, domain.schema);
      await migrateDomainSchema(dataSource, domain.schema);
      log.info(
        { schema: domain.schema, applied: pending },
        pending.length
          ? `schema ${domain.schema}: ${pending.length} migration(s) applied`
          : `schema ${domain.schema}: up to date`,
      );
    } catch (err) {
      throw new Error(`schema ${domain.schema}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await dataSource.destroy().catch(() => undefined);
    }
  }
}

/**
 * TypeORM's own messages as JSON lines too (at debug: the Job's summary lines say what was
 * applied; a failure is reported with its schema by the caller), never query parameters.
 */
function jsonLogger(log: pino.Logger): TypeOrmLogger {
  return {
    logQuery: () => undefined,
    // Includes the expected "relation does not exist" of a first run's pending-migrations check.
    logQueryError: (error) =>
      log.debug({ err: typeof error === 'string' ? error : error.message }, 'migration query failed'),
    logQuerySlow: () => undefined,
    logSchemaBuild: (message) => log.debug(message),
    logMigration: (message) => log.debug(message),
    log: (level, message) => (level === 'warn' ? log.warn(String(message)) : log.debug(String(message))),
  };
}
