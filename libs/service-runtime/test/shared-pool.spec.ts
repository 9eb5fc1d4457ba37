import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { domainDataSourceOptions } from '../src';

describe('one PostgreSQL pool per process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('shared_pool');
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Connections of this database opened under `app`, as PostgreSQL sees them. */
  async function connectionsOf(observer: DataSource, app: string): Promise<number> {
    const [{ n }] = await observer.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [db.name, app],
    );
    return n;
  }

  it('two domains of one service share one pool: at most DATABASE_POOL_SIZE connections, not twice that', async () => {
    const observer = await new DataSource(
      domainDataSourceOptions(db.url, { schema: 'public', entities: [], migrations: [] }, 'observer', 1),
    ).initialize();
    const key = `worker ${db.url}`;
    const a = await new DataSource(
      domainDataSourceOptions(
        db.url,
        { schema: 'registry', entities: [], migrations: [] },
        'pool-spec',
        4,
        key,
      ),
    ).initialize();
    const b = await new DataSource(
      domainDataSourceOptions(
        db.url,
        { schema: 'tokens', entities: [], migrations: [] },
        'pool-spec',
        4,
        key,
      ),
    ).initialize();
    try {
      // Twelve queries that each hold a connection for 300 ms, six per domain, all at once.
      await Promise.all(
        [...Array(6)].flatMap(() => [a.query('SELECT pg_sleep(0.3)'), b.query('SELECT pg_sleep(0.3)')]),
      );
      expect(await connectionsOf(observer, 'pool-spec')).toBeLessThanOrEqual(4);
      // Destroying one domain's DataSource leaves the other's pool working.
      await a.destroy();
      expect(await b.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await b.destroy();
      // The last one ends the pool: its connections close.
      const deadline = Date.now() + 5_000;
      while ((await connectionsOf(observer, 'pool-spec')) > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await connectionsOf(observer, 'pool-spec')).toBe(0);
    } finally {
      if (a.isInitialized) await a.destroy();
      if (b.isInitialized) await b.destroy();
      await observer.destroy();
    }
  });

  it('without a shared key each DataSource has its own pool (the measure above can tell them apart)', async () => {
    const observer = await new DataSource(
      domainDataSourceOptions(db.url, { schema: 'public', entities: [], migrations: [] }, 'observer2', 1),
    ).initialize();
    const a = await new DataSource(
      domainDataSourceOptions(db.url, { schema: 'registry', entities: [], migrations: [] }, 'pool-spec-2', 4),
    ).initialize();
    const b = await new DataSource(
      domainDataSourceOptions(db.url, { schema: 'tokens', entities: [], migrations: [] }, 'pool-spec-2', 4),
    ).initialize();
    try {
      await Promise.all(
        [...Array(6)].flatMap(() => [a.query('SELECT pg_sleep(0.3)'), b.query('SELECT pg_sleep(0.3)')]),
      );
      expect(await connectionsOf(observer, 'pool-spec-2')).toBe(8);
    } finally {
      await Promise.all([a.destroy(), b.destroy(), observer.destroy()]);
    }
  });
});
