// The local secrets of `npm start`, generated once into <data>/secrets.json (mode 0600), and what
// each app is given of them.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BUS_SECRET_GENERATORS, busEnvForApp } from '../lib/bus-keys.mjs';

// NAME -> generator. Any entry missing from secrets.json is generated on start.
export const SECRET_GENERATORS = {
  // Bus key pairs of the serving services and each publisher's events signing key (each app gets only its own).
  ...BUS_SECRET_GENERATORS,
  // Passwords of the local Redis ACL users (one per service, a demo consumer, admin) derive from it.
  REDIS_ACL_SECRET: () => randomBytes(32).toString('base64url'),
  ENCRYPTION_KEYS: () => `k${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`,
  SECRET_PEPPER: () => randomBytes(32).toString('base64'),
  BOOTSTRAP_CLIENT_SECRET: () => randomBytes(32).toString('base64url'),
  // Seals the gateway's queue dashboard sessions (docs/queue-dashboard.md); the gateway's alone.
  QUEUE_DASHBOARD_SESSION_KEY: () => randomBytes(32).toString('base64'),
  // The gateway's secret at the bundled demo identity provider (used when no UPSTREAM_* is set).
  DEMO_IDP_CLIENT_SECRET: () => randomBytes(24).toString('base64url'),
  // The bootstrap org's client at the demo provider (it is registered there as an `oidc` provider).
  DEMO_PROVIDER_CLIENT_SECRET: () => randomBytes(24).toString('base64url'),
};

/** Secrets every app gets as they are (unless the environment sets them). */
const SHARED_SECRETS = ['ENCRYPTION_KEYS', 'SECRET_PEPPER', 'BOOTSTRAP_CLIENT_SECRET'];

/**
 * Reads the secrets file, fills in missing entries from SECRET_GENERATORS, keeps it mode 0600.
 * @param {string} file
 * @param {(msg: string) => void} [log]
 */
export function loadSecrets(file, log = () => {}) {
  let secrets = {};
  try {
    secrets = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* first start */
  }
  const missing = Object.keys(SECRET_GENERATORS).filter((name) => !secrets[name]);
  for (const name of missing) secrets[name] = SECRET_GENERATORS[name]();
  if (missing.length || !fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    log(`generated ${missing.join(', ')} in ${file}`);
  }
  fs.chmodSync(file, 0o600);
  return secrets;
}

/**
 * The secret settings of one app: the shared ones (an environment variable of the same name wins)
 * and its bus and events keys, never another app's private key (scripts/lib/bus-keys.mjs).
 */
export function secretsForApp(app, secrets, env = process.env) {
  return {
    ...Object.fromEntries(SHARED_SECRETS.filter((name) => !env[name]).map((name) => [name, secrets[name]])),
    ...busEnvForApp(app, secrets),
    ...(app === 'gateway' && !env.QUEUE_DASHBOARD_SESSION_KEY
      ? { QUEUE_DASHBOARD_SESSION_KEY: secrets.QUEUE_DASHBOARD_SESSION_KEY }
      : {}),
  };
}
