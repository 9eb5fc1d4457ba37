// Bus and events keys for the local default (`npm start`): generated once into the secrets file,
// then each app is given only what it may hold: a serving service its own private key, every
// caller the services' public keys, each event publisher its own signing key, every subscriber the
// publishers' public halves.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

/** Serving services and the secret holding each one's X25519 private key. */
const SERVING = { 'provider-registry': 'BUS_PRIVATE_KEY_PROVIDER_REGISTRY', 'token-broker': 'BUS_PRIVATE_KEY_TOKEN_BROKER' };
/** Event publishers and the secret holding each one's own Ed25519 signing key. */
const PUBLISHERS = {
  'token-broker': 'EVENTS_KEY_TOKEN_BROKER',
  worker: 'EVENTS_KEY_WORKER',
  'provider-registry': 'EVENTS_KEY_PROVIDER_REGISTRY',
};

function generate(type, kid) {
  const jwk = generateKeyPairSync(type).privateKey.export({ format: 'jwk' });
  return `${kid}:${jwk.d}`;
}

const stamp = () => Date.now().toString(36);

// NAME -> generator, merged into the runner's SECRET_GENERATORS (a rotation: see docs/bus-security.md).
export const BUS_SECRET_GENERATORS = {
  BUS_PRIVATE_KEY_PROVIDER_REGISTRY: () => generate('x25519', `r${stamp()}`),
  BUS_PRIVATE_KEY_TOKEN_BROKER: () => generate('x25519', `b${stamp()}`),
  EVENTS_KEY_TOKEN_BROKER: () => generate('ed25519', `tb${stamp()}`),
  EVENTS_KEY_WORKER: () => generate('ed25519', `wk${stamp()}`),
  EVENTS_KEY_PROVIDER_REGISTRY: () => generate('ed25519', `pr${stamp()}`),
};

/** Secret names that must not be passed to every app as they are. */
export const BUS_SECRET_NAMES = Object.keys(BUS_SECRET_GENERATORS);

/** `kid:private` -> `kid:public` (X25519 or Ed25519, raw base64url as the services take them). */
export function publicEntry(privateEntry, crv) {
  const [kid, d] = privateEntry.split(':');
  const key = createPrivateKey({ key: { kty: 'OKP', crv, d, x: '' }, format: 'jwk' });
  return `${kid}:${createPublicKey(key).export({ format: 'jwk' }).x}`;
}

/** The services' public keys, as every caller's BUS_SERVICE_PUBLIC_KEYS. */
export function servicePublicKeys(secrets) {
  return Object.entries(SERVING)
    .map(([service, name]) => `${service}=${publicEntry(secrets[name], 'X25519')}`)
    .join(',');
}

/** Every publisher's public key, as the subscribers' (and consumers') EVENTS_PUBLIC_KEYS. */
export function eventsPublicKeys(secrets) {
  return Object.values(PUBLISHERS)
    .map((name) => publicEntry(secrets[name], 'Ed25519'))
    .join(',');
}

/** The bus/events variables of one app (never another app's private key). */
export function busEnvForApp(app, secrets) {
  const env = { BUS_SERVICE_PUBLIC_KEYS: servicePublicKeys(secrets), EVENTS_PUBLIC_KEYS: eventsPublicKeys(secrets) };
  if (SERVING[app]) env.BUS_SERVICE_PRIVATE_KEY = secrets[SERVING[app]];
  if (PUBLISHERS[app]) env.EVENTS_SIGNING_KEY = secrets[PUBLISHERS[app]];
  return env;
}
