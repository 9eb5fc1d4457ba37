import { DynamicModule } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions, MixedList } from 'typeorm';
import type { ServiceConfig } from '../config/service-config';

/** The tables a domain owns: its own PostgreSQL schema, entities and migrations. */
export interface DomainSchema {
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function>;
}

/** TypeORM options for a domain schema; `synchronize` is never on: the schema comes from migrations. */
export function domainDataSourceOptions(url: string, domain: DomainSchema, applicationName: string, poolSize = 10): DataSourceOptions {
  return {
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

/**
 * Injection token of a domain's DataSource. Each domain has its own (named after its schema), so a
 * service can use several domains (the worker: registry and tokens) and each lib injects its own.
 */
export function domainDataSourceToken(domain: DomainSchema | string): string {
  return getDataSourceToken(typeof domain === 'string' ? domain : domain.schema) as string;
}

/** TypeORM on the service's database, migrated at start-up before the service takes traffic. */
export function databaseModule(config: ServiceConfig, domain: DomainSchema): DynamicModule {
  if (!config.databaseUrl) throw new Error(`${config.service} needs DATABASE_URL`);
  const url = config.databaseUrl;
  return TypeOrmModule.forRootAsync({
    name: domain.schema,
    useFactory: () => ({ ...domainDataSourceOptions(url, domain, config.service, config.databasePoolSize), name: domain.schema }),
    dataSourceFactory: async (options) => {
      const dataSource = await new DataSource(options as DataSourceOptions).initialize();
      await migrateDomainSchema(dataSource, domain.schema);
      return dataSource;
    },
  });
}
