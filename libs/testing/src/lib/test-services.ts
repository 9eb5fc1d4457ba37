import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** URL of the throwaway Redis the test harness started (or TEST_REDIS_URL given by the caller). */
export function testRedisUrl(): string {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test` (it provisions Redis)');
  return url;
}

/** URL of the throwaway PostgreSQL server's maintenance database. */
export function testDatabaseServerUrl(): string {
  const url = process.env['TEST_DATABASE_URL'];
  if (!url)
    throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test` (it provisions PostgreSQL)');
  return url;
}

/** A key prefix no other test uses, so suites can share one Redis server. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database for one test suite on the test server; `drop()` removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const serverUrl = testDatabaseServerUrl();
  const name = `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A random 32-byte key, as the bus and encryption keyrings take. */
export function randomKey(): Buffer {
  return randomBytes(32);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
