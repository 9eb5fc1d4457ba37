import pg from 'pg';

interface SharedPool {
  pool: pg.Pool;
  refs: number;
}

const pools = new Map<string, SharedPool>();

/**
 * A `pg` driver for TypeORM whose `Pool` is one pool per process and database URL, shared by every
 * DataSource made with it. A service that uses several domains has one DataSource per domain (each
 * with its own schema, entities and migrations table), and each DataSource used to open its own
 * pool: the worker and the token-broker held two pools of `DATABASE_POOL_SIZE` connections each.
 * With this driver `DATABASE_POOL_SIZE` is the process's whole budget. The pool is ended when the
 * last DataSource using it is destroyed.
 */
export function sharedPoolDriver(key: string): typeof pg {
  const driver = Object.create(pg) as typeof pg & { Pool: unknown };
  // TypeORM calls `new driver.Pool(options)`; a constructor that returns an object yields that object.
  driver.Pool = function SharedPoolConstructor(options: pg.PoolConfig): pg.Pool {
    let entry = pools.get(key);
    if (!entry) {
      const pool = new pg.Pool(options);
      const created: SharedPool = { pool, refs: 0 };
      const end = pool.end.bind(pool) as (cb?: (err?: Error) => void) => Promise<void> | void;
      // Each DataSource ends "its" pool on destroy: only the last one really ends it.
      (pool as unknown as { end: (cb?: (err?: Error) => void) => Promise<void> | void }).end = (
        cb?: (err?: Error) => void,
      ) => {
        created.refs -= 1;
        if (created.refs > 0) {
          if (cb) cb();
          return cb ? undefined : Promise.resolve();
        }
        if (pools.get(key) === created) pools.delete(key);
        return end(cb);
      };
      entry = created;
      pools.set(key, entry);
    }
    entry.refs += 1;
    return entry.pool;
  } as unknown as typeof pg.Pool;
  return driver;
}
