// Bus and events keys for the local default (`npm start`): generated once into .data/secrets.json,
// then each app is given only what it may hold: a serving service its own private key, every
// caller the services' public keys, the event publishers the signing key, subscribers its public half.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { localPassword } from './redis-acl.mjs';

const SERVING = { 'provider-registry': 'BUS_KEY_PROVIDER_REGISTRY', 'token-broker': 'BUS_KEY_TOKEN_BROKER' };
const EVENT_PUBLISHERS = ['token-broker', 'worker'];

function generate(type, kid) {
  const jwk = generateKeyPairSync(type).privateKey.export({ format: 'jwk' });
  return `${kid}:${jwk.d}`;
}

// NAME -> generator, merged into start.mjs's SECRET_GENERATORS (a rotation: see docs/bus-security.md).
export const BUS_SECRET_GENERATORS = {
  BUS_KEY_PROVIDER_REGISTRY: () => generate('x25519', `r${Date.now().toString(36)}`),
  BUS_KEY_TOKEN_BROKER: () => generate('x25519', `b${Date.now().toString(36)}`),
  EVENTS_SIGNING_KEY: () => generate('ed25519', `e${Date.now().toString(36)}`),
};

// `kid:private` -> `kid:public` (X25519 or Ed25519, raw base64url as the services take them).
export function publicEntry(privateEntry, crv) {
  const [kid, d] = privateEntry.split(':');
  const key = createPrivateKey({ key: { kty: 'OKP', crv, d, x: '' }, format: 'jwk' });
  return `${kid}:${createPublicKey(key).export({ format: 'jwk' }).x}`;
}

// The services' public keys, as every caller's BUS_SERVICE_PUBLIC_KEYS.
export function servicePublicKeys(secrets) {
  return Object.entries(SERVING)
    .map(([service, name]) => `${service}=${publicEntry(secrets[name], 'X25519')}`)
    .join(',');
}

// The bus/events variables of one app (never another app's private key).
export function busEnvForApp(app, secrets) {
  const env = {
    BUS_SERVICE_PUBLIC_KEYS: servicePublicKeys(secrets),
    EVENTS_PUBLIC_KEYS: publicEntry(secrets.EVENTS_SIGNING_KEY, 'Ed25519'),
  };
  if (SERVING[app]) env.BUS_SERVICE_PRIVATE_KEY = secrets[SERVING[app]];
  if (EVENT_PUBLISHERS.includes(app)) env.EVENTS_SIGNING_KEY = secrets.EVENTS_SIGNING_KEY;
  return env;
}

// Secret names that must not be passed to every app as they are.
export const BUS_SECRET_NAMES = Object.keys(BUS_SECRET_GENERATORS);

// `node scripts/lib/bus-keys.mjs consumer-env`: the settings of the local `demo-consumer` (while
// `npm start` runs), as shell exports for libs/broker-client's README example.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const data = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.data');
  if (process.argv[2] !== 'consumer-env') {
    process.stderr.write('usage: node scripts/lib/bus-keys.mjs consumer-env\n');
    process.exit(2);
  }
  try {
    const secrets = JSON.parse(fs.readFileSync(path.join(data, 'secrets.json'), 'utf8'));
    const { redisPort } = JSON.parse(fs.readFileSync(path.join(data, 'state.json'), 'utf8'));
    const env = busEnvForApp('gateway', secrets);
    const broker = env.BUS_SERVICE_PUBLIC_KEYS.split(',').find((e) => e.startsWith('token-broker=')).slice('token-broker='.length);
    process.stdout.write(
      `export SERVICE_NAME='demo-consumer'\nexport REDIS_URL='redis://demo-consumer:${localPassword(secrets.REDIS_ACL_SECRET, 'demo-consumer')}@127.0.0.1:${redisPort}'\n` +
        `export BROKER_PUBLIC_KEY='${broker}'\nexport EVENTS_PUBLIC_KEYS='${env.EVENTS_PUBLIC_KEYS}'\n`,
    );
  } catch (err) {
    process.stderr.write(`no local default found (run npm start first): ${err.message}\n`);
    process.exit(1);
  }
}
