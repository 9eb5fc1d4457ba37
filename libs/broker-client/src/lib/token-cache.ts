import type { AcquiredToken } from '@broker/contracts';

/** Tokens without `expiresAt` are served from the cache for at most this long. */
export const NO_EXPIRY_CACHE_MS = 30_000;

/**
 * What a request is keyed by: an authorization, or a user + provider that resolves to one; and,
 * where answers depend on who asks (the gateway serves many callers), the caller's `scope`: an
 * entry is only ever found again under the same scope. Absent for a client that is one caller.
 */
export type CacheKey = (
  | { kind: 'id'; authorizationId: string }
  | { kind: 'alias'; userId: string; providerId: string }
) & { scope?: string };

/** A user + provider's key: the user id's length first, so no two pairs share a key, whatever their characters. */
export function aliasKey(userId: string, providerId: string): string {
  return `${userId.length}:${userId}|${providerId}`;
}

/** The key's target without its scope (what events name). */
function targetOf(key: CacheKey): string {
  return key.kind === 'id' ? `id:${key.authorizationId}` : `alias:${aliasKey(key.userId, key.providerId)}`;
}

/** `name` within a caller's scope (a NUL never occurs in a scope or an id: scopes are JSON). */
function scoped(scope: string | undefined, name: string): string {
  return scope === undefined ? name : `${scope}\u0000${name}`;
}

/** What the cache needs of a cached answer; a value may carry more (the gateway keeps its HTTP answer). */
export type CachedToken = Pick<AcquiredToken, 'authorizationId' | 'providerId' | 'expiresAt'>;

interface Entry<T extends CachedToken> {
  token: T;
  scope?: string;
  /** Epoch ms of `expiresAt`, or undefined when the provider gave no lifetime. */
  expiresAt?: number;
  /** Epoch ms after which the entry is never served (the 30 s cap of tokens without expiry). */
  servedUntil: number;
}

/** One bus request under way for a key; concurrent acquires of the key wait on it. */
export interface Flight<T extends CachedToken = AcquiredToken> {
  readonly key: string;
  /** The key without its scope: what an invalidation names. */
  readonly target: string;
  readonly minValiditySeconds: number;
  readonly promise: Promise<T>;
  /** Set when an invalidation hit the flight's key: its result is handed out but not cached. */
  stale: boolean;
  /** Authorizations invalidated while the flight ran: a result for one of them is not cached. */
  readonly invalidated: Set<string>;
}

/** Epoch ms of an ISO time, or undefined when absent or unreadable. */
export function expiryOf(token: CachedToken): number | undefined {
  if (typeof token.expiresAt !== 'string') return undefined;
  const ms = Date.parse(token.expiresAt);
  return Number.isFinite(ms) ? ms : undefined;
}

/** True when the token still has `minValiditySeconds` of life (tokens without expiry always do). */
export function satisfies(token: CachedToken, minValiditySeconds: number, now = Date.now()): boolean {
  const expiresAt = expiryOf(token);
  return expiresAt === undefined || expiresAt - now >= minValiditySeconds * 1000;
}

export interface TokenCacheOptions<T extends CachedToken> {
  /** An entry is served at most this long after it was stored (default: until the token's expiry; 30 s without one). */
  maxAgeMs?: number;
  /** Whether an answer may be stored at all (default: every answer). */
  admit?: (key: CacheKey, token: T) => boolean;
}

/**
 * The local cache: entries by authorization id, user + provider aliases pointing at them, and the
 * bus requests under way. Invalidation drops an entry and all its aliases at once, and keeps a
 * request that was under way from caching what it brings back.
 */
export class TokenCache<T extends CachedToken = AcquiredToken> {
  /** By entry key: the authorization id, within its scope. */
  private readonly entries = new Map<string, Entry<T>>();
  /** Entry keys by authorization id (one per scope that holds it). */
  private readonly keysOf = new Map<string, Set<string>>();
  /** Scoped alias → entry key, and back. */
  private readonly aliases = new Map<string, string>();
  private readonly aliasesOf = new Map<string, Set<string>>();
  /** Scoped aliases by user + provider alias (every scope's). */
  private readonly scopedAliases = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight<T>>();
  /** False while events may be missed (subscription down): nothing is stored. */
  private storing = true;

  constructor(
    private readonly maxEntries: number,
    private readonly options: TokenCacheOptions<T> = {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** A cached token with at least `minValiditySeconds` of life left, if any. */
  lookup(key: CacheKey, minValiditySeconds: number, at?: number): T | undefined {
    const id =
      key.kind === 'id'
        ? scoped(key.scope, key.authorizationId)
        : this.aliases.get(scoped(key.scope, aliasKey(key.userId, key.providerId)));
    if (id === undefined) return undefined;
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    // One clock read per lookup, and only when there is an entry to check.
    const now = at ?? Date.now();
    if (now >= entry.servedUntil) {
      this.remove(id);
      return undefined;
    }
    if (entry.expiresAt !== undefined && entry.expiresAt - now < minValiditySeconds * 1000) return undefined;
    return entry.token;
  }

  /** The live (not invalidated) request under way for this key, if any. */
  flight(key: CacheKey): Flight<T> | undefined {
    return this.flights.get(scoped(key.scope, targetOf(key)));
  }

  /** Registers a request under way; `run` starts it. The flight leaves the table when it settles. */
  startFlight(key: CacheKey, minValiditySeconds: number, run: () => Promise<T>): Flight<T> {
    const target = targetOf(key);
    const k = scoped(key.scope, target);
    const flight: Flight<T> = {
      key: k,
      target,
      minValiditySeconds,
      stale: false,
      invalidated: new Set(),
      promise: Promise.resolve().then(run),
    };
    this.flights.set(k, flight);
    const done = (): void => {
      if (this.flights.get(k) === flight) this.flights.delete(k);
    };
    flight.promise.then((token) => {
      done();
      this.storeFromFlight(key, flight, token);
    }, done);
    return flight;
  }

  private storeFromFlight(key: CacheKey, flight: Flight<T>, token: T): void {
    if (!this.storing || flight.stale || flight.invalidated.has(token.authorizationId)) return;
    this.store(key, token);
  }

  /** Caches a token from the broker under its authorization id (and the alias it was asked by). */
  store(key: CacheKey, token: T, now = Date.now()): void {
    if (!this.storing || (this.options.admit && !this.options.admit(key, token))) return;
    const id = scoped(key.scope, token.authorizationId);
    const expiresAt = expiryOf(token);
    const maxAge = this.options.maxAgeMs;
    const servedUntil =
      expiresAt === undefined
        ? now + (maxAge ?? NO_EXPIRY_CACHE_MS)
        : Math.min(expiresAt, now + (maxAge ?? Number.POSITIVE_INFINITY));
    if (servedUntil <= now) return;
    const entry: Entry<T> = { token, servedUntil };
    if (key.scope !== undefined) entry.scope = key.scope;
    if (expiresAt !== undefined) entry.expiresAt = expiresAt;
    // Re-inserted at the end: the Map's order is the eviction order.
    this.entries.delete(id);
    this.entries.set(id, entry);
    let keys = this.keysOf.get(token.authorizationId);
    if (!keys) this.keysOf.set(token.authorizationId, (keys = new Set()));
    keys.add(id);
    if (key.kind === 'alias') {
      const plain = aliasKey(key.userId, key.providerId);
      const alias = scoped(key.scope, plain);
      const previous = this.aliases.get(alias);
      if (previous !== undefined && previous !== id) this.aliasesOf.get(previous)?.delete(alias);
      this.aliases.set(alias, id);
      let set = this.aliasesOf.get(id);
      if (!set) this.aliasesOf.set(id, (set = new Set()));
      set.add(alias);
      let all = this.scopedAliases.get(plain);
      if (!all) this.scopedAliases.set(plain, (all = new Set()));
      all.add(alias);
    }
    if (this.entries.size > this.maxEntries) this.evict(now);
  }

  /**
   * Drops an authorization's entry and every alias pointing to it, and the alias of the user +
   * provider when known; requests under way for them will not cache their answer.
   */
  invalidate(authorizationId: string, userId?: string, providerId?: string): void {
    for (const key of [...(this.keysOf.get(authorizationId) ?? [])]) this.remove(key);
    const alias = userId !== undefined && providerId !== undefined ? aliasKey(userId, providerId) : undefined;
    if (alias !== undefined)
      for (const each of [...(this.scopedAliases.get(alias) ?? [])]) this.removeAlias(each);
    for (const flight of [...this.flights.values()]) {
      if (
        flight.target === `id:${authorizationId}` ||
        (alias !== undefined && flight.target === `alias:${alias}`)
      ) {
        // Later acquires must ask again rather than wait for an answer from before the event.
        flight.stale = true;
        this.flights.delete(flight.key);
      } else {
        flight.invalidated.add(authorizationId);
      }
    }
  }

  /**
   * Drops every token of a provider (its status or credentials changed: a disabled provider serves
   * nothing); requests under way will not cache their answer. Rare, so a scan is fine.
   */
  invalidateProvider(providerId: string): void {
    this.invalidateWhere((token) => token.providerId === providerId);
  }

  /**
   * Drops every entry whose token or scope matches (a rare, wide change: a scan is fine); no
   * request under way caches its answer.
   */
  invalidateWhere(matches: (token: T, scope: string | undefined) => boolean): void {
    for (const [id, entry] of [...this.entries]) {
      if (matches(entry.token, entry.scope)) this.remove(id);
    }
    for (const flight of this.flights.values()) flight.stale = true;
    this.flights.clear();
  }

  /** Forgets everything, including what requests under way bring back. */
  clear(): void {
    this.entries.clear();
    this.keysOf.clear();
    this.aliases.clear();
    this.aliasesOf.clear();
    this.scopedAliases.clear();
    for (const flight of this.flights.values()) flight.stale = true;
    this.flights.clear();
  }

  /** Stops (false) or resumes (true) caching; stopping also clears. */
  setStoring(storing: boolean): void {
    if (!storing) this.clear();
    this.storing = storing;
  }

  /** Removes one entry (by its scoped key) and the aliases pointing to it. */
  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const id = entry.token.authorizationId;
    const keys = this.keysOf.get(id);
    keys?.delete(key);
    if (keys?.size === 0) this.keysOf.delete(id);
    const aliases = this.aliasesOf.get(key);
    if (aliases) {
      for (const alias of [...aliases]) {
        if (this.aliases.get(alias) === key) this.removeAlias(alias);
      }
      this.aliasesOf.delete(key);
    }
  }

  private removeAlias(alias: string): void {
    const id = this.aliases.get(alias);
    if (id === undefined) return;
    this.aliases.delete(alias);
    this.aliasesOf.get(id)?.delete(alias);
    const plain = alias.slice(alias.indexOf('\u0000') + 1);
    const all = this.scopedAliases.get(plain);
    all?.delete(alias);
    if (all?.size === 0) this.scopedAliases.delete(plain);
  }

  private evict(now: number): void {
    for (const [id, entry] of this.entries) {
      if (now >= entry.servedUntil) this.remove(id);
    }
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.remove(id);
    }
  }
}
