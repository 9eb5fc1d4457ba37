import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { domainDataSourceOptions, migrateDomainSchema } from '../src';

class CreateThings1700000000000 implements MigrationInterface {
  name = 'CreateThings1700000000000';
  async up(q: QueryRunner): Promise<void> {
    // Slow on purpose, so replicas starting together would overlap without the lock.
    await q.query('SELECT pg_sleep(0.2)');
    await q.query('CREATE TABLE things.things (id serial PRIMARY KEY, name text NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE things.things');
  }
}

describe('per-domain schema migrations', () => {
  let db: TestDatabase;
  const domain = { schema: 'things', entities: [], migrations: [CreateThings1700000000000] };

  beforeAll(async () => {
    db = await createTestDatabase('migrations');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('creates the schema and runs each migration once when three replicas start together', async () => {
    const sources = await Promise.all(
      [1, 2, 3].map((n) =>
        new DataSource(domainDataSourceOptions(db.url, domain, `replica-${n}`)).initialize(),
      ),
    );
    try {
      await Promise.all(sources.map((ds) => migrateDomainSchema(ds, 'things')));
      const applied = await sources[0].query('SELECT name FROM things.migrations');
      expect(applied).toEqual([{ name: 'CreateThings1700000000000' }]);
      await sources[1].query("INSERT INTO things.things (name) VALUES ('a')");
      expect(await sources[2].query('SELECT name FROM things.things')).toEqual([{ name: 'a' }]);
      // A restart finds nothing left to do and keeps the data.
      await migrateDomainSchema(sources[0], 'things');
      expect(await sources[0].query('SELECT count(*)::int AS n FROM things.things')).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all(sources.map((ds) => ds.destroy()));
    }
  });
});
