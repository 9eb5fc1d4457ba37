import { DynamicModule } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions, MixedList } from 'typeorm';
import type { ServiceConfig } from '../config/service-config';
import { sharedPoolDriver } from './shared-pool';

/** The tables a domain owns: its own PostgreSQL schema, entities and migrations. */
export interface DomainSchema {
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function>;
}

/**
 * TypeORM options for a domain schema; `synchronize` is never on: the schema comes from migrations.
 * With `sharedPool`, every DataSource given the same key uses one connection pool (see shared-pool.ts).
 */
export function domainDataSourceOptions(
  url: string,
  domain: DomainSchema,
  applicationName: string,
  poolSize = 10,
  sharedPool?: string,
): DataSourceOptions {
  return {
    ...(sharedPool ? { driver: sharedPoolDriver(sharedPool) } : {}),
    type: 'postgres',
    url,
    schema: domain.schema,
    entities: domain.entities,
    migrations: domain.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    applicationName,
    extra: { max: poolSize },
  };
}

/**
 * Creates the domain's schema and runs its pending migrations. A PostgreSQL advisory lock makes
 * replicas that start together take turns, so each migration runs once.
 */
export async function migrateDomainSchema(dataSource: DataSource, schema: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    try {
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`]);
    }
  } finally {
    await runner.release();
  }
}

/** Names of the domain's migrations not yet recorded in its migrations table (all of them when the table is missing). */
export async function pendingMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const known = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  let applied: string[] = [];
  try {
    const rows: { name: string }[] = await dataSource.query(`SELECT name FROM "${schema}"."migrations"`);
    applied = rows.map((r) => r.name);
  } catch (err) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing was ever migrated here.
    const code =
      (err as { driverError?: { code?: string }; code?: string }).driverError?.code ??
      (err as { code?: string }).code;
    if (code !== '42P01' && code !== '3F000') throw err;
  }
  return known.filter((name) => !applied.includes(name));
}

/** Thrown at start-up with `MIGRATIONS=skip` when the schema is behind the code. */
export class PendingMigrationsError extends Error {
  constructor(
    readonly schema: string,
    readonly pending: string[],
  ) {
    super(
      `MIGRATIONS=skip but schema "${schema}" has ${pending.length} pending migration(s): ${pending.join(', ')}; ` +
        'run the migrations first (MIGRATIONS=only with a database role that may change the schema, e.g. the Kubernetes migration Job)',
    );
    this.name = 'PendingMigrationsError';
  }
}

/** `MIGRATIONS=skip`: applies nothing (the role may lack DDL rights) and refuses a schema that is behind the code. */
export async function assertMigrated(dataSource: DataSource, schema: string): Promise<void> {
  const pending = await pendingMigrations(dataSource, schema);
  if (pending.length) throw new PendingMigrationsError(schema, pending);
}

/**
 * Injection token of a domain's DataSource. Each domain has its own (named after its schema), so a
 * service can use several domains (the worker: registry and tokens) and each lib injects its own.
 */
export function domainDataSourceToken(domain: DomainSchema | string): string {
  return getDataSourceToken(typeof domain === 'string' ? domain : domain.schema) as string;
}

/**
 * TypeORM on the service's database: one DataSource per domain, all on one connection pool per
 * process, migrated at start-up before the service takes traffic (`MIGRATIONS=run`) or checked to be
 * migrated already (`skip`).
 */
export function databaseModule(config: ServiceConfig, domain: DomainSchema): DynamicModule {
  if (!config.databaseUrl) throw new Error(`${config.service} needs DATABASE_URL`);
  const url = config.databaseUrl;
  return TypeOrmModule.forRootAsync({
    name: domain.schema,
    useFactory: () => ({
      ...domainDataSourceOptions(
        url,
        domain,
        config.service,
        config.databasePoolSize,
        `${config.service} ${url}`,
      ),
      name: domain.schema,
    }),
    dataSourceFactory: async (options) => {
      const dataSource = await new DataSource(options as DataSourceOptions).initialize();
      try {
        if (config.migrations === 'skip') await assertMigrated(dataSource, domain.schema);
        else await migrateDomainSchema(dataSource, domain.schema);
      } catch (err) {
        await dataSource.destroy().catch(() => undefined);
        throw err;
      }
      return dataSource;
    },
  });
}
