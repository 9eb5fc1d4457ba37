import { createHash, createHmac } from 'node:crypto';

/**
 * The hosted setup link is a capability: whoever holds it can link the setup's user's account, so
 * it is unguessable (HMAC-SHA256 of the setup id under a key derived from the server's pepper,
 * 256 bits) and only its SHA-256 is stored. Being derived, it can be shown again (`url` on GET)
 * without being stored; a database dump alone gives no working link.
 */
export class SetupLinks {
  constructor(private readonly key: Buffer) {}

  token(setupId: string): string {
    return createHmac('sha256', this.key).update(`oauth-setup-link\u0000${setupId}`).digest('base64url');
  }

  /** What is stored and looked up. */
  static hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** Whether a string has the shape of a link token (checked before any lookup). */
  static wellFormed(token: string): boolean {
    return /^[A-Za-z0-9_-]{43}$/.test(token);
  }
}
