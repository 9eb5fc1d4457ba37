import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Keyring } from './keyring';

/** Where a ciphertext belongs: it opens only in this table, column, org and row. */
export interface EncryptionContext {
  table: string;
  column: string;
  orgId: string;
  rowId: string;
}

/** Decryption failed: unknown key id, wrong context, malformed or tampered value. Fails closed. */
export class DecryptionError extends Error {
  constructor(reason: string) {
    super(`cannot decrypt: ${reason}`);
    this.name = 'DecryptionError';
  }
}

const VERSION = 'v1';
const NONCE = 12;
const TAG = 16;

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < NONCE + TAG) throw new DecryptionError('value too short');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
  } catch {
    throw new DecryptionError('authentication failed (tampered, or another row, column or org)');
  }
}

/**
 * Envelope encryption with AES-256-GCM. Each value gets its own random data key; the data key is
 * wrapped by the keyring's active key, whose id is stored with the value:
 * `v1.<keyId>.<wrapped data key>.<ciphertext>` (base64url parts). Both layers are bound to the
 * value's table, column, org and row, so a value copied elsewhere does not open. Rotating the key
 * only re-wraps the small data key; the ciphertext stays as it is.
 */
export class EnvelopeCipher {
  constructor(private readonly keyring: Keyring) {}

  /** Id of the key new values are wrapped with (rows under any other key are due for rotation). */
  get activeKeyId(): string {
    return this.keyring.activeKeyId;
  }

  /** Encrypts `plaintext` for the given place under the active key. */
  encrypt(plaintext: string | Buffer, ctx: EncryptionContext): string {
    const keyId = this.keyring.activeKeyId;
    const kek = this.keyring.key(keyId) as Buffer;
    const dataKey = randomBytes(32);
    const wrapped = gcmSeal(kek, dataKey, dekAad(ctx, keyId));
    const body = gcmSeal(
      dataKey,
      Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'),
      contextAad(ctx),
    );
    return [VERSION, keyId, wrapped.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Decrypts a value for the given place; throws DecryptionError on anything amiss. */
  decrypt(value: string, ctx: EncryptionContext): Buffer {
    const { keyId, wrapped, body } = parse(value);
    const kek = this.keyring.key(keyId);
    if (!kek) throw new DecryptionError(`unknown key id '${keyId}'`);
    const dataKey = gcmOpen(kek, wrapped, dekAad(ctx, keyId));
    return gcmOpen(dataKey, body, contextAad(ctx));
  }

  /** Decrypts to a UTF-8 string. */
  decryptString(value: string, ctx: EncryptionContext): string {
    return this.decrypt(value, ctx).toString('utf8');
  }

  /** The id of the key a value is wrapped with. */
  keyIdOf(value: string): string {
    return parse(value).keyId;
  }

  /** True when the value is not wrapped with the active key (a rotation job re-wraps it). */
  needsRewrap(value: string): boolean {
    return this.keyIdOf(value) !== this.keyring.activeKeyId;
  }

  /** Re-wraps the value's data key under the active key; the ciphertext itself is unchanged. */
  rewrap(value: string, ctx: EncryptionContext): string {
    const { keyId, wrapped, body } = parse(value);
    const kek = this.keyring.key(keyId);
    if (!kek) throw new DecryptionError(`unknown key id '${keyId}'`);
    const dataKey = gcmOpen(kek, wrapped, dekAad(ctx, keyId));
    // Check the body opens too, so a rotation never blesses a value that is already broken.
    gcmOpen(dataKey, body, contextAad(ctx));
    const active = this.keyring.activeKeyId;
    const newWrapped = gcmSeal(this.keyring.key(active) as Buffer, dataKey, dekAad(ctx, active));
    return [VERSION, active, newWrapped.toString('base64url'), body.toString('base64url')].join('.');
  }
}

function contextAad(ctx: EncryptionContext): Buffer {
  for (const [k, v] of Object.entries(ctx)) {
    if (typeof v !== 'string' || v.length === 0 || v.includes('|'))
      throw new Error(`encryption context ${k} must be a non-empty string without '|'`);
  }
  return Buffer.from(`${VERSION}|${ctx.table}|${ctx.column}|${ctx.orgId}|${ctx.rowId}`, 'utf8');
}

function dekAad(ctx: EncryptionContext, keyId: string): Buffer {
  return Buffer.concat([Buffer.from('dek|'), contextAad(ctx), Buffer.from(`|${keyId}`)]);
}

function parse(value: string): { keyId: string; wrapped: Buffer; body: Buffer } {
  const parts = typeof value === 'string' ? value.split('.') : [];
  if (parts.length !== 4 || parts[0] !== VERSION)
    throw new DecryptionError('not an encrypted value of a known format');
  return {
    keyId: parts[1],
    wrapped: Buffer.from(parts[2], 'base64url'),
    body: Buffer.from(parts[3], 'base64url'),
  };
}
