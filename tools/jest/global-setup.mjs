// Jest globalSetup: when TEST_DATABASE_URL / TEST_REDIS_URL are not set (jest run directly, not via
// `npm test`), starts throwaway PostgreSQL / Redis like scripts/test.mjs and exports their URLs
// through process.env, which test workers inherit. global-teardown.mjs stops them.
import os from 'node:os';
import { startThrowawayServices, stopAllServicesSync } from '../../scripts/lib/local-services.mjs';

const STATE = Symbol.for('oauth-token-broker.jest.throwaway-services');
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

// Provisions the missing test servers once per jest run (no-op when both URLs are given).
export default async function globalSetup() {
  // `npm run test:unit`: no services on purpose (a spec needing one must fail, not get one).
  if (process.env.JEST_NO_TEST_SERVICES === '1') return;
  const needPostgres = !process.env.TEST_DATABASE_URL;
  const needRedis = !process.env.TEST_REDIS_URL;
  if ((!needPostgres && !needRedis) || globalThis[STATE]) return;

  const log = (msg) => process.stderr.write(`[jest services] ${msg}\n`);
  const services = await startThrowawayServices({ postgres: needPostgres, redis: needRedis, log });
  // jest does not run globalTeardown when interrupted: stop the servers ourselves, then exit as
  // the signal would have (unless someone else handles it).
  const onSignal = (sig) => {
    stopAllServicesSync();
    if (process.listenerCount(sig) <= 1) process.exit(128 + os.constants.signals[sig]);
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);

  globalThis[STATE] = { services, onSignal, setEnv: [] };
  if (needPostgres) process.env.TEST_DATABASE_URL = services.databaseUrl;
  if (needRedis) process.env.TEST_REDIS_URL = services.redisUrl;
  globalThis[STATE].setEnv = [needPostgres && 'TEST_DATABASE_URL', needRedis && 'TEST_REDIS_URL'].filter(
    Boolean,
  );
}
