import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import {
  PendingMigrationsError,
  assertMigrated,
  domainDataSourceOptions,
  pendingMigrations,
  runMigrationJob,
} from '../src';

class CreateWidgets1700000000001 implements MigrationInterface {
  name = 'CreateWidgets1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets.widgets (id serial PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets.widgets');
  }
}
class AddWidgetName1700000000002 implements MigrationInterface {
  name = 'AddWidgetName1700000000002';
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE widgets.widgets ADD COLUMN name text');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE widgets.widgets DROP COLUMN name');
  }
}
class CreateGadgets1700000000003 implements MigrationInterface {
  name = 'CreateGadgets1700000000003';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE gadgets.gadgets (id serial PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE gadgets.gadgets');
  }
}

const widgetsV1 = { schema: 'widgets', entities: [], migrations: [CreateWidgets1700000000001] };
const widgetsV2 = {
  schema: 'widgets',
  entities: [],
  migrations: [CreateWidgets1700000000001, AddWidgetName1700000000002],
};
const gadgets = { schema: 'gadgets', entities: [], migrations: [CreateGadgets1700000000003] };

describe('migrations apart from start-up (MIGRATIONS=skip and only)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('migration_modes');
  });
  afterAll(async () => {
    await db.drop();
  });

  async function withSource<T>(domain: typeof widgetsV1, fn: (ds: DataSource) => Promise<T>): Promise<T> {
    const ds = await new DataSource(domainDataSourceOptions(db.url, domain, 'spec')).initialize();
    try {
      return await fn(ds);
    } finally {
      await ds.destroy();
    }
  }

  it('skip: on a database never migrated, refuses to start naming every pending migration, and changes nothing', async () => {
    await withSource(widgetsV1, async (ds) => {
      await expect(assertMigrated(ds, 'widgets')).rejects.toThrow(
        'MIGRATIONS=skip but schema "widgets" has 1 pending migration(s): CreateWidgets1700000000001; run the migrations first',
      );
      // Nothing created: a role without DDL rights would not have been asked to.
      expect(
        await ds.query(
          `SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = 'widgets'`,
        ),
      ).toEqual([{ n: 0 }]);
    });
  });

  it('only: applies every domain of the service and exits; a second run finds nothing to do; skip then starts', async () => {
    await runMigrationJob('worker', [widgetsV1, gadgets], { databaseUrl: db.url, logLevel: 'silent' });
    await withSource(widgetsV1, async (ds) => {
      expect(await ds.query('SELECT name FROM widgets.migrations')).toEqual([
        { name: 'CreateWidgets1700000000001' },
      ]);
      expect(await ds.query('SELECT name FROM gadgets.migrations')).toEqual([
        { name: 'CreateGadgets1700000000003' },
      ]);
      await expect(assertMigrated(ds, 'widgets')).resolves.toBeUndefined();
    });
    await runMigrationJob('worker', [widgetsV1, gadgets], { databaseUrl: db.url, logLevel: 'silent' });
    await withSource(widgetsV1, async (ds) =>
      expect(await ds.query('SELECT count(*)::int AS n FROM widgets.migrations')).toEqual([{ n: 1 }]),
    );
  });

  it('skip: new code on an old schema is refused with the one migration it lacks, until the Job has run', async () => {
    await withSource(widgetsV2, async (ds) => {
      expect(await pendingMigrations(ds, 'widgets')).toEqual(['AddWidgetName1700000000002']);
      const err = await assertMigrated(ds, 'widgets').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PendingMigrationsError);
      expect((err as PendingMigrationsError).pending).toEqual(['AddWidgetName1700000000002']);
    });
    await runMigrationJob('worker', [widgetsV2], { databaseUrl: db.url, logLevel: 'silent' });
    await withSource(widgetsV2, (ds) => expect(assertMigrated(ds, 'widgets')).resolves.toBeUndefined());
  });

  it('only: a failing migration rejects naming its schema', async () => {
    class Broken1700000000004 implements MigrationInterface {
      name = 'Broken1700000000004';
      async up(q: QueryRunner): Promise<void> {
        await q.query('ALTER TABLE widgets.nowhere ADD COLUMN x int');
      }
      async down(): Promise<void> {
        return undefined;
      }
    }
    await expect(
      runMigrationJob(
        'worker',
        [{ ...widgetsV2, migrations: [...widgetsV2.migrations, Broken1700000000004] }],
        { databaseUrl: db.url, logLevel: 'silent' },
      ),
    ).rejects.toThrow(/^schema widgets: .*nowhere/);
  });
});
