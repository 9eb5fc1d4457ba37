import {
  KeyObject,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM seal: base64 of nonce | ciphertext | tag, bound to `aad`. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

/** Opens what `seal` produced; throws on a wrong key, wrong `aad` or any tampering. */
export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error('sealed message too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
}

/** Derives the key that seals request payloads from the shared bus key (BUS_KEY). */
export function deriveRequestKey(busKey: Buffer): Buffer {
  if (busKey.length !== 32) throw new Error('the bus key must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', busKey, Buffer.alloc(0), 'oauth-broker/bus/request/v1', 32));
}

/**
 * An X25519 key pair of one bus participant (a client or a server instance). Replies are sealed
 * with a key agreed between the caller's and the answering replica's key pairs, so a reply can be
 * read only by the caller that asked, not by other bus participants or anyone reading Redis.
 */
export class ReplyKeyAgreement {
  /** This participant's public key, as the base64url `x` of its JWK. */
  readonly publicKey: string;
  private readonly privateKey: KeyObject;
  private readonly derived = new Map<string, Buffer>();

  constructor() {
    const pair = generateKeyPairSync('x25519');
    this.privateKey = pair.privateKey;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    if (!jwk.x) throw new Error('x25519 public key export failed');
    this.publicKey = jwk.x;
  }

  /** The reply key shared with the peer whose public key is given; computed once per peer. */
  keyFor(peerPublicKey: string, role: 'client' | 'server'): Buffer {
    const cached = this.derived.get(peerPublicKey);
    if (cached) return cached;
    const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublicKey }, format: 'jwk' });
    const secret = diffieHellman({ privateKey: this.privateKey, publicKey: peer });
    const [clientKey, serverKey] = role === 'client' ? [this.publicKey, peerPublicKey] : [peerPublicKey, this.publicKey];
    const key = Buffer.from(
      hkdfSync('sha256', secret, Buffer.from(`${clientKey}.${serverKey}`), 'oauth-broker/bus/reply/v1', 32),
    );
    if (this.derived.size > 10_000) this.derived.clear();
    this.derived.set(peerPublicKey, key);
    return key;
  }
}
