import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 with a server pepper, for secrets that are only ever compared (client secrets,
 * authorization codes, refresh tokens): a database dump alone does not allow guessing them offline.
 */
export class KeyedHasher {
  constructor(private readonly pepper: Buffer) {
    if (pepper.length < 32) throw new Error('the pepper must be at least 32 bytes');
  }

  /** The hex HMAC of `secret`, labelled by purpose so one kind of secret never matches another. */
  hash(purpose: string, secret: string): string {
    return createHmac('sha256', this.pepper).update(`${purpose}\0${secret}`).digest('hex');
  }

  /** Constant-time comparison of `secret` against a stored hash. */
  matches(purpose: string, secret: string, storedHash: string): boolean {
    const a = Buffer.from(this.hash(purpose, secret), 'hex');
    const b = Buffer.from(storedHash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
