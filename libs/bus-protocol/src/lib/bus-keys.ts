import { KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { X25519Key, generateX25519KeyPair, x25519KeyPair, x25519PublicKey } from './hpke-suite';

/**
 * Key configuration of the bus, as environment variables carry it:
 * - a serving service's key pairs: `BUS_SERVICE_PRIVATE_KEY=kid:base64url[,kid:base64url]` (the
 *   first is current; a later one is a previous key still accepted during a rotation);
 * - callers' view of the services: `BUS_SERVICE_PUBLIC_KEYS=service=kid:base64url[,…]`;
 * - the events signing key `EVENTS_SIGNING_KEY=kid:base64url` (Ed25519 seed) and the keys
 *   subscribers accept, `EVENTS_PUBLIC_KEYS=kid:base64url[,kid:base64url]`.
 * Raw 32-byte keys, base64url (plain base64 is accepted too).
 */

/** Thrown for a malformed key setting; the message names what is wrong, never the key. */
export class BusKeyError extends Error {
  override name = 'BusKeyError';
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;
const SERVICE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** One key pair of a serving service. */
export interface ServiceKeyPair {
  kid: string;
  privateKey: X25519Key;
  publicKey: X25519Key;
}

/** A service's current public key, as its callers hold it. */
export interface ServicePublicKey {
  kid: string;
  publicKey: X25519Key;
}

export type ServicePublicKeys = Readonly<Record<string, ServicePublicKey>>;

function raw32(value: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new BusKeyError(`${what}: not base64`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 32) throw new BusKeyError(`${what}: must be 32 bytes (got ${bytes.length})`);
  return bytes;
}

function kidAndKey(entry: string, what: string): [string, Buffer] {
  const at = entry.indexOf(':');
  const kid = at < 0 ? '' : entry.slice(0, at).trim();
  if (!KID.test(kid))
    throw new BusKeyError(`${what}: each entry is kid:key, the kid letters, digits, _ or - (at most 32)`);
  return [kid, raw32(entry.slice(at + 1).trim(), `${what} '${kid}'`)];
}

function entries(value: string): string[] {
  return value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
}

/** `kid:key[,kid:key]` → the service's key pairs, current first. */
export function parseServicePrivateKeys(value: string): ServiceKeyPair[] {
  const pairs = entries(value).map((entry) => {
    const [kid, raw] = kidAndKey(entry, 'private key');
    const { privateKey, publicKey } = x25519KeyPair(raw);
    return { kid, privateKey, publicKey };
  });
  if (pairs.length === 0) throw new BusKeyError('no key given');
  if (new Set(pairs.map((p) => p.kid)).size !== pairs.length) throw new BusKeyError('a key id appears twice');
  return pairs;
}

/** `service=kid:key[,…]` → each service's public key. */
export function parseServicePublicKeys(value: string): ServicePublicKeys {
  const out: Record<string, ServicePublicKey> = {};
  for (const entry of entries(value)) {
    const eq = entry.indexOf('=');
    const service = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (!SERVICE.test(service)) throw new BusKeyError('each entry is service=kid:key');
    if (out[service]) throw new BusKeyError(`service '${service}' is named twice`);
    const [kid, raw] = kidAndKey(entry.slice(eq + 1), `public key of ${service}`);
    out[service] = { kid, publicKey: x25519PublicKey(raw) };
  }
  return out;
}

/** New key material for one serving service: what goes in its config and what its callers get. */
export function generateServiceKey(kid: string): { privateKey: string; publicKey: string } {
  if (!KID.test(kid)) throw new BusKeyError('bad key id');
  const pair = generateX25519KeyPair();
  return {
    privateKey: `${kid}:${pair.privateKey.toString('base64url')}`,
    publicKey: `${kid}:${pair.publicKey.toString('base64url')}`,
  };
}

/** The public entry (`kid:key`) of a service's current key, for its callers' configuration. */
export function publicEntryOf(pair: ServiceKeyPair): string {
  return `${pair.kid}:${pair.publicKey.raw.toString('base64url')}`;
}

/** The events signing key (Ed25519) of the broker's publishers. */
export interface EventSigningKey {
  kid: string;
  privateKey: KeyObject;
  /** `kid:key`, what subscribers are given. */
  publicEntry: string;
}

/** `kid:seed` → the events signing key. */
export function parseEventSigningKey(value: string): EventSigningKey {
  const list = entries(value);
  if (list.length !== 1) throw new BusKeyError('exactly one signing key (kid:key)');
  const [kid, seed] = kidAndKey(list[0], 'signing key');
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: '' },
    format: 'jwk',
  });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x;
  if (!x) throw new BusKeyError('signing key: could not derive its public key');
  return { kid, privateKey, publicEntry: `${kid}:${x}` };
}

/** `kid:key[,kid:key]` → the Ed25519 keys whose signatures subscribers accept. */
export function parseEventPublicKeys(value: string): ReadonlyMap<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const entry of entries(value)) {
    const [kid, raw] = kidAndKey(entry, 'events public key');
    if (out.has(kid)) throw new BusKeyError(`events public key '${kid}' is named twice`);
    out.set(
      kid,
      createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' }),
    );
  }
  if (out.size === 0) throw new BusKeyError('no key given');
  return out;
}

/** A new events signing key: the private setting and the public entry subscribers get. */
export function generateEventSigningKey(kid: string): { privateKey: string; publicKey: string } {
  if (!KID.test(kid)) throw new BusKeyError('bad key id');
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  if (!jwk.d || !jwk.x) throw new BusKeyError('Ed25519 key export failed');
  return { privateKey: `${kid}:${jwk.d}`, publicKey: `${kid}:${jwk.x}` };
}
