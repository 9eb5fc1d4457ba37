import { randomBytes } from 'node:crypto';
import { DecryptionError, EnvelopeCipher, KeyedHasher, KeyringError, parseKeyring } from '../src';

const key = () => randomBytes(32).toString('base64');
const ctx = { table: 'registry.secure_configs', column: 'client_secret', orgId: 'org-a', rowId: 'row-1' };

describe('envelope encryption', () => {
  const k1 = key();
  const k2 = key();
  const oldRing = new EnvelopeCipher(parseKeyring(`k1:${k1}`));
  const rotated = new EnvelopeCipher(parseKeyring(`k1:${k1},k2:${k2}`, 'k2'));

  it('round-trips and never repeats a ciphertext', () => {
    const a = oldRing.encrypt('client-secret-value', ctx);
    const b = oldRing.encrypt('client-secret-value', ctx);
    expect(a).not.toEqual(b);
    expect(a).not.toContain('client-secret-value');
    expect(a.startsWith('v1.k1.')).toBe(true);
    expect(oldRing.decryptString(a, ctx)).toBe('client-secret-value');
  });

  it('refuses a ciphertext moved to another row, column, table or org', () => {
    const sealed = oldRing.encrypt('s3cr3t', ctx);
    for (const moved of [
      { rowId: 'row-2' },
      { orgId: 'org-b' },
      { column: 'refresh_token' },
      { table: 'tokens.token_sets' },
    ]) {
      expect(() => oldRing.decrypt(sealed, { ...ctx, ...moved })).toThrow(DecryptionError);
    }
  });

  it('fails closed on tampering, unknown key ids and foreign formats', () => {
    const sealed = oldRing.encrypt('s3cr3t', ctx);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[body.length - 20] ^= 1;
    expect(() =>
      oldRing.decrypt([parts[0], parts[1], parts[2], body.toString('base64url')].join('.'), ctx),
    ).toThrow(DecryptionError);
    expect(() => oldRing.decrypt([parts[0], 'k9', parts[2], parts[3]].join('.'), ctx)).toThrow(
      /unknown key id 'k9'/,
    );
    expect(() => oldRing.decrypt('s3cr3t', ctx)).toThrow(DecryptionError);
    expect(() => new EnvelopeCipher(parseKeyring(`k1:${key()}`)).decrypt(sealed, ctx)).toThrow(
      DecryptionError,
    );
  });

  it('rotates online: old values still open, new ones use the active key, re-wrapping moves them over', () => {
    const old = oldRing.encrypt('s3cr3t', ctx);
    expect(rotated.decryptString(old, ctx)).toBe('s3cr3t');
    expect(rotated.needsRewrap(old)).toBe(true);
    const rewrapped = rotated.rewrap(old, ctx);
    expect(rotated.keyIdOf(rewrapped)).toBe('k2');
    expect(rewrapped.split('.')[3]).toBe(old.split('.')[3]);
    expect(rotated.decryptString(rewrapped, ctx)).toBe('s3cr3t');
    expect(() => rotated.rewrap(old, { ...ctx, rowId: 'other' })).toThrow(DecryptionError);
    // Once k1 is retired from the keyring, only re-wrapped values open.
    const retired = new EnvelopeCipher(parseKeyring(`k2:${k2}`));
    expect(retired.decryptString(rewrapped, ctx)).toBe('s3cr3t');
    expect(() => retired.decrypt(old, ctx)).toThrow(/unknown key id 'k1'/);
  });

  it('validates the keyring specification', () => {
    expect(() => parseKeyring('')).toThrow(KeyringError);
    expect(() => parseKeyring(`k1:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseKeyring(`k1:${k1},k2:${k2}`)).toThrow(/name the active one/);
    expect(() => parseKeyring(`k1:${k1}`, 'k2')).toThrow(/not in the keyring/);
    expect(() => parseKeyring(`k1:${k1},k1:${k2}`, 'k1')).toThrow(/twice/);
    expect(() => parseKeyring(`bad id:${k1}`)).toThrow(KeyringError);
  });
});

describe('keyed hashes', () => {
  const hasher = new KeyedHasher(randomBytes(32));

  it('matches only the same secret for the same purpose, and hides it', () => {
    // Not made of hex digits, so the check cannot pass or fail by chance on the hex digest.
    const secret = 'sesame-xyz';
    const stored = hasher.hash('client_secret', secret);
    expect(stored).not.toContain(secret);
    expect(hasher.matches('client_secret', secret, stored)).toBe(true);
    expect(hasher.matches('client_secret', 'sesame-xyw', stored)).toBe(false);
    expect(hasher.matches('refresh_token', secret, stored)).toBe(false);
    expect(hasher.matches('client_secret', secret, 'zz')).toBe(false);
    expect(new KeyedHasher(randomBytes(32)).matches('client_secret', secret, stored)).toBe(false);
  });
});
