import { createCipheriv, createDecipheriv, createHmac, randomFillSync } from 'node:crypto';

// The symmetric half of the bus's sealing (sealing.ts): AES-256-GCM with random nonces, and the
// per-request reply key derived from a session's reply base key.

export const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The per-request reply key: HKDF-Expand (one HMAC block) of the session's reply base key and the request id. */
export function replyKeyFor(replyBase: Buffer, id: string): Buffer {
  return createHmac('sha256', replyBase)
    .update(`oauth-broker/bus/2/reply|${id}`)
    .update(Buffer.of(1))
    .digest();
}

/**
 * Random nonces taken from a pool filled 4 KiB at a time: one `randomFillSync` per 341 seals
 * instead of one per seal (it was the largest single item of a seal's profile, ≈ 11 % of the hot
 * path's CPU). The bytes are the same CSPRNG's, each handed out once; Node's `randomUUID` pools the
 * same way.
 */
const NONCE_POOL = Buffer.alloc(NONCE_BYTES * 341);
let noncePoolOffset = NONCE_POOL.length;

function freshNonce(): Buffer {
  if (noncePoolOffset + NONCE_BYTES > NONCE_POOL.length) {
    randomFillSync(NONCE_POOL);
    noncePoolOffset = 0;
  }
  // A copy: the pool is refilled in place, and a nonce must never change under its message.
  const nonce = Buffer.allocUnsafe(NONCE_BYTES);
  NONCE_POOL.copy(nonce, 0, noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}

export function aesSeal(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const nonce = freshNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const first = cipher.update(plaintext);
  const last = cipher.final();
  return Buffer.concat([nonce, first, last, cipher.getAuthTag()]).toString('base64url');
}

export function aesOpen(key: Buffer, sealed: string, aad: Buffer): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error('sealed message too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  const plaintext = decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES));
  // GCM's final() yields no bytes; it checks the tag (and throws when the message was altered).
  const rest = decipher.final();
  return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
}
