// Where `npm start` keeps its state and which knobs it reads from the environment (read once here).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The settings of one `npm start`, from the environment. */
export function runnerSettings(env = process.env) {
  const dataDir = path.resolve(REPO, env.BROKER_DATA_DIR || '.data');
  return {
    dataDir,
    lockFile: path.join(dataDir, 'run.lock'),
    stateFile: path.join(dataDir, 'state.json'),
    secretsFile: path.join(dataDir, 'secrets.json'),
    demoIdpDir: path.join(dataDir, 'demo-idp'),
    /** Use the apps already in dist/ (still checked) instead of building them. */
    skipBuild: env.SKIP_BUILD === '1',
    gatewayPort: env.GATEWAY_PORT ? Number(env.GATEWAY_PORT) : null,
    demoIdpPort: env.DEMO_IDP_PORT ? Number(env.DEMO_IDP_PORT) : null,
    databaseUrl: env.DATABASE_URL || null,
    redisUrl: env.REDIS_URL || null,
    publicUrl: env.PUBLIC_URL || null,
    /** Redis key prefix of the bus, the queues and the local Redis ACL users' scopes. */
    busPrefix: env.BUS_PREFIX || 'broker',
    /** An upstream identity provider of the operator's: then no demo provider is started. */
    externalUpstream: Boolean(env.UPSTREAM_AUTHORIZATION_URL),
    bootstrapClientId: env.BOOTSTRAP_CLIENT_ID || 'admin',
    bootstrapClientSecret: env.BOOTSTRAP_CLIENT_SECRET || null,
  };
}

/** `dir` relative to the repository when inside it (for messages), else absolute. */
export function shown(dir) {
  const rel = path.relative(REPO, dir);
  return rel && !rel.startsWith('..') ? rel : dir;
}
