import { QUEUE_NAMES } from '@broker/contracts';
import { testBusKeys } from '@broker/testing';
import { ConfigError, loadMigrationJobConfig, loadServiceConfig } from '../src';

const keys = testBusKeys();
// A worker's environment: no bus key pair (it serves no bus requests), its events signing key.
const valid = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys,
  EVENTS_SIGNING_KEY: keys.eventsSigningKeys['worker'],
  EVENTS_PUBLIC_KEYS: keys.eventsPublicKeys,
};

function problemsOf(extra: Record<string, string>): string[] {
  try {
    loadServiceConfig('worker', { ...valid, ...extra }, { database: true, defaultPort: 3103 });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('operator settings: migrations and worker queues', () => {
  it('runs migrations at start-up and consumes every queue by default (npm start and npm test as before)', () => {
    const config = loadServiceConfig('worker', valid, { database: true, defaultPort: 3103 });
    expect(config.migrations).toBe('run');
    expect(config.worker).toEqual({ queues: [...QUEUE_NAMES], concurrency: {} });
  });

  it('takes MIGRATIONS=skip|only and names a bad value', () => {
    expect(
      loadServiceConfig('worker', { ...valid, MIGRATIONS: 'skip' }, { database: true, defaultPort: 3103 })
        .migrations,
    ).toBe('skip');
    expect(problemsOf({ MIGRATIONS: 'later' })).toEqual(['MIGRATIONS: must be one of run, skip, only']);
  });

  it('turns WORKER_QUEUES groups into their queues and refuses an unknown group', () => {
    const pick = (v: string) =>
      loadServiceConfig('worker', { ...valid, WORKER_QUEUES: v }, { database: true, defaultPort: 3103 })
        .worker.queues;
    expect(pick('refresh')).toEqual(['token-refresh']);
    expect(pick('housekeeping, device')).toEqual([
      'provider-deletion',
      'stats',
      'key-rotation',
      'device-poll',
      'setup-expiry',
    ]);
    expect(pick('all')).toEqual([...QUEUE_NAMES]);
    const [problem] = problemsOf({ WORKER_QUEUES: 'refresh,token-refresh' });
    expect(problem).toMatch(
      /^WORKER_QUEUES: must be a comma-separated list of queue groups: refresh, housekeeping, webhooks, device/,
    );
  });

  it('reads WORKER_CONCURRENCY per group or queue, the queue winning, and names bad pairs', () => {
    const conc = (v: string) =>
      loadServiceConfig('worker', { ...valid, WORKER_CONCURRENCY: v }, { database: true, defaultPort: 3103 })
        .worker.concurrency;
    expect(conc('refresh=200')).toEqual({ 'token-refresh': 200 });
    expect(conc('stats=3,housekeeping=4')).toEqual({
      'provider-deletion': 4,
      stats: 3,
      'key-rotation': 4,
      'setup-expiry': 4,
    });
    for (const bad of [
      'refresh',
      'refresh=0',
      'refresh=-1',
      'nope=3',
      'refresh=10000',
      'refresh=2;webhooks=3',
    ]) {
      expect(problemsOf({ WORKER_CONCURRENCY: bad })).toEqual([
        expect.stringMatching(/^WORKER_CONCURRENCY: must be comma-separated name=n pairs/),
      ]);
    }
  });

  it('a MIGRATIONS=only run needs DATABASE_URL and nothing else; other modes are not migration runs', () => {
    expect(loadMigrationJobConfig({ MIGRATIONS: 'only', DATABASE_URL: valid.DATABASE_URL })).toEqual({
      databaseUrl: valid.DATABASE_URL,
      logLevel: 'info',
    });
    expect(loadMigrationJobConfig({ ...valid, MIGRATIONS: 'run' })).toBeNull();
    expect(loadMigrationJobConfig(valid)).toBeNull();
    expect(() => loadMigrationJobConfig({ MIGRATIONS: 'only' })).toThrow(
      'DATABASE_URL: required when MIGRATIONS=only',
    );
    expect(() => loadMigrationJobConfig({ MIGRATIONS: 'only', DATABASE_URL: 'mysql://x/y' })).toThrow(
      'DATABASE_URL: must be a URL starting with postgres://',
    );
  });
});
