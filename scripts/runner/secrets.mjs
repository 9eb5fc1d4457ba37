// The local secrets of `npm start`, generated once into <data>/secrets.json (mode 0600).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// NAME -> generator. Any entry missing from secrets.json is generated on start.
export const SECRET_GENERATORS = {
  BUS_KEY: () => randomBytes(32).toString('base64'),
  ENCRYPTION_KEYS: () => `k${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`,
  SECRET_PEPPER: () => randomBytes(32).toString('base64'),
  BOOTSTRAP_CLIENT_SECRET: () => randomBytes(32).toString('base64url'),
  // The gateway's secret at the bundled demo identity provider (used when no UPSTREAM_* is set).
  DEMO_IDP_CLIENT_SECRET: () => randomBytes(24).toString('base64url'),
  // The bootstrap org's client at the demo provider (it is registered there as an `oidc` provider).
  DEMO_PROVIDER_CLIENT_SECRET: () => randomBytes(24).toString('base64url'),
};

/** Reads the secrets file, fills in missing entries from SECRET_GENERATORS, keeps it mode 0600. */
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
