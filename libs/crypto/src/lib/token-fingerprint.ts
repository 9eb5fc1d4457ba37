import { createHash, createHmac, hkdfSync } from 'node:crypto';

/**
 * Keyed fingerprints of provider tokens for the provenance ledger: HMAC-SHA256 under a key derived
 * from the server pepper (HKDF-SHA256, info `broker token ledger v1`), over the token's SHA-256.
 *
 * Over the SHA-256 rather than the token itself so that a provider's own audit record can be
 * joined: GitHub logs `hashed_token` = base64(SHA-256(token)), and whoever can compute this HMAC
 * (the broker, for an org admin) turns that value into the ledger's fingerprint without ever
 * holding the token. Without the pepper, a ledger row cannot be matched to anything.
 */
export class TokenFingerprinter {
  private readonly key: Buffer;

  constructor(pepper: Buffer) {
    if (pepper.length < 32) throw new Error('the pepper must be at least 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), 'broker token ledger v1', 32));
  }

  /** The fingerprint of a token (base64url, 43 characters). */
  ofToken(token: string): string {
    return this.ofSha256(createHash('sha256').update(token, 'utf8').digest());
  }

  /** The fingerprint from a token's SHA-256 (32 bytes), e.g. GitHub's `hashed_token` decoded from base64. */
  ofSha256(digest: Buffer): string {
    if (digest.length !== 32) throw new Error('a SHA-256 digest is 32 bytes');
    return createHmac('sha256', this.key).update(digest).digest('base64url');
  }

  /**
   * A 32-byte key for another use of the ledger (HKDF-SHA256 from the fingerprint key, under its
   * own `info`): every broker replica derives the same one, and it is independent of the
   * fingerprints (knowing one says nothing about the other).
   */
  subkey(info: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), info, 32));
  }
}
