import { generateKeyPairSync } from 'node:crypto';

/** Fresh bus and events keys for one test system, in the services' configuration formats. */
export interface TestBusKeys {
  /** BUS_SERVICE_PRIVATE_KEY of each serving service. */
  privateKeys: { 'provider-registry': string; 'token-broker': string };
  /** BUS_SERVICE_PUBLIC_KEYS (every serving service). */
  publicKeys: string;
  /** The token-broker's public entry (`kid:key`), what a consumer is given. */
  brokerPublicKey: string;
  /** EVENTS_SIGNING_KEY of each event publisher: its own key. */
  eventsSigningKeys: { 'token-broker': string; worker: string; 'provider-registry': string };
  /** The token-broker's EVENTS_SIGNING_KEY (the publisher of authorization events). */
  eventsSigningKey: string;
  /** EVENTS_PUBLIC_KEYS of the subscribers: every publisher's public key. */
  eventsPublicKeys: string;
}

function pair(type: 'x25519' | 'ed25519', kid: string): { privateKey: string; publicKey: string } {
  const jwk = generateKeyPairSync(type as 'x25519').privateKey.export({ format: 'jwk' });
  return { privateKey: `${kid}:${jwk.d}`, publicKey: `${kid}:${jwk.x}` };
}

export function testBusKeys(): TestBusKeys {
  const registry = pair('x25519', 'r1');
  const broker = pair('x25519', 'b1');
  const events = {
    'token-broker': pair('ed25519', 'etb1'),
    worker: pair('ed25519', 'ewk1'),
    'provider-registry': pair('ed25519', 'epr1'),
  };
  return {
    privateKeys: { 'provider-registry': registry.privateKey, 'token-broker': broker.privateKey },
    publicKeys: `provider-registry=${registry.publicKey},token-broker=${broker.publicKey}`,
    brokerPublicKey: broker.publicKey,
    eventsSigningKeys: {
      'token-broker': events['token-broker'].privateKey,
      worker: events.worker.privateKey,
      'provider-registry': events['provider-registry'].privateKey,
    },
    eventsSigningKey: events['token-broker'].privateKey,
    eventsPublicKeys: Object.values(events)
      .map((e) => e.publicKey)
      .join(','),
  };
}

/**
 * Variables that only one app may see travel in a shared test environment as `NAME__<app>` (app
 * with `_` for `-`); `envForApp` turns them into `NAME` for that app and drops the others' (a
 * private key stays with its own service, as in production).
 */
export function appScopedEnv(keys: TestBusKeys): Record<string, string> {
  return {
    BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys,
    EVENTS_PUBLIC_KEYS: keys.eventsPublicKeys,
    BUS_SERVICE_PRIVATE_KEY__provider_registry: keys.privateKeys['provider-registry'],
    BUS_SERVICE_PRIVATE_KEY__token_broker: keys.privateKeys['token-broker'],
    EVENTS_SIGNING_KEY__token_broker: keys.eventsSigningKeys['token-broker'],
    EVENTS_SIGNING_KEY__worker: keys.eventsSigningKeys.worker,
    EVENTS_SIGNING_KEY__provider_registry: keys.eventsSigningKeys['provider-registry'],
  };
}

/** The environment one app is started with (see appScopedEnv). */
export function envForApp(app: string, env: Record<string, string>): Record<string, string> {
  const suffix = `__${app.replace(/-/g, '_')}`;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (!name.includes('__')) out[name] = value;
  for (const [name, value] of Object.entries(env))
    if (name.endsWith(suffix)) out[name.slice(0, -suffix.length)] = value;
  return out;
}
