import { LRUCache } from 'lru-cache';
import type { ServedToken } from './options';
import { remaining } from './serveable';

/** At most this many authorizations are remembered; the least recently used goes first. */
const MAX_ENTRIES = 50_000;

interface HotToken {
  orgId: string;
  token: ServedToken;
  /** The token's whole lifetime in seconds (from its write to its expiry). */
  lifetime: number;
}

/**
 * Recently served tokens (decrypted) by authorization id, so the hot path skips the database. An
 * entry lives `ttlMs` from when it was remembered (reading it does not extend it); `ttlMs <= 0`
 * remembers nothing.
 */
export class HotTokens {
  private readonly cache: LRUCache<string, HotToken> | null;

  constructor(
    ttlMs: number,
    private readonly minimumServedSeconds: number,
  ) {
    this.cache =
      ttlMs > 0
        ? new LRUCache<string, HotToken>({ max: MAX_ENTRIES, ttl: ttlMs, updateAgeOnGet: false })
        : null;
  }

  /** The remembered token of this org's authorization, if still within its time to live. */
  get(orgId: string, authorizationId: string): HotToken | undefined {
    const hot = this.cache?.get(authorizationId);
    return hot && hot.orgId === orgId ? hot : undefined;
  }

  /**
   * Whether a remembered token still has the life a caller needs: `minValiditySeconds`, or without
   * it a quarter of the token's lifetime (at most a minute), never more than a fresh token could
   * give (its lifetime less 5 s) and never less than the minimum served.
   */
  lastsFor(hot: HotToken, minValiditySeconds: number | undefined): boolean {
    const want = Math.max(minValiditySeconds ?? Math.min(60, hot.lifetime / 4), this.minimumServedSeconds);
    const need = Math.min(want, Math.max(hot.lifetime - 5, this.minimumServedSeconds));
    return remaining(hot.token.expiresAt) >= need;
  }

  /** Remembers a token just served (as not refreshed: a later hit did not refresh it). */
  remember(orgId: string, token: ServedToken, lifetime: number): void {
    this.cache?.set(token.authorizationId, { orgId, token: { ...token, refreshed: false }, lifetime });
  }

  /** Drops what is remembered of an authorization. */
  forget(authorizationId: string): void {
    this.cache?.delete(authorizationId);
  }

  /** Drops everything. */
  clear(): void {
    this.cache?.clear();
  }
}
