import type { AcquiredToken } from '@broker/contracts';

/** Tokens without `expiresAt` are served from the cache for at most this long. */
export const NO_EXPIRY_CACHE_MS = 30_000;

/** What a request is keyed by: an authorization, or a user + provider that resolves to one. */
export type CacheKey =
  | { kind: 'id'; authorizationId: string }
  | { kind: 'alias'; userId: string; providerId: string };

/** A user + provider's key: the user id's length first, so no two pairs share a key, whatever their characters. */
export function aliasKey(userId: string, providerId: string): string {
  return `${userId.length}:${userId}|${providerId}`;
}

function flightKey(key: CacheKey): string {
  return key.kind === 'id' ? `id:${key.authorizationId}` : `alias:${aliasKey(key.userId, key.providerId)}`;
}

interface Entry {
  token: AcquiredToken;
  /** Epoch ms of `expiresAt`, or undefined when the provider gave no lifetime. */
  expiresAt?: number;
  /** Epoch ms after which the entry is never served (the 30 s cap of tokens without expiry). */
  servedUntil: number;
}

/** One bus request under way for a key; concurrent acquires of the key wait on it. */
export interface Flight {
  readonly key: string;
  readonly minValiditySeconds: number;
  readonly promise: Promise<AcquiredToken>;
  /** Set when an invalidation hit the flight's key: its result is handed out but not cached. */
  stale: boolean;
  /** Authorizations invalidated while the flight ran: a result for one of them is not cached. */
  readonly invalidated: Set<string>;
}

/** Epoch ms of an ISO time, or undefined when absent or unreadable. */
export function expiryOf(token: AcquiredToken): number | undefined {
  if (typeof token.expiresAt !== 'string') return undefined;
  const ms = Date.parse(token.expiresAt);
  return Number.isFinite(ms) ? ms : undefined;
}

/** True when the token still has `minValiditySeconds` of life (tokens without expiry always do). */
export function satisfies(token: AcquiredToken, minValiditySeconds: number, now = Date.now()): boolean {
  const expiresAt = expiryOf(token);
  return expiresAt === undefined || expiresAt - now >= minValiditySeconds * 1000;
}

/**
 * The local cache: entries by authorization id, user + provider aliases pointing at them, and the
 * bus requests under way. Invalidation drops an entry and all its aliases at once, and keeps a
 * request that was under way from caching what it brings back.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly aliases = new Map<string, string>();
  private readonly aliasesOf = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  /** False while events may be missed (subscription down): nothing is stored. */
  private storing = true;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** A cached token with at least `minValiditySeconds` of life left, if any. */
  lookup(key: CacheKey, minValiditySeconds: number, at?: number): AcquiredToken | undefined {
    const id =
      key.kind === 'id' ? key.authorizationId : this.aliases.get(aliasKey(key.userId, key.providerId));
    if (id === undefined) return undefined;
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    // One clock read per lookup, and only when there is an entry to check.
    const now = at ?? Date.now();
    if (now >= entry.servedUntil) {
      if (entry.expiresAt === undefined || now >= entry.expiresAt) this.remove(id);
      return undefined;
    }
    if (entry.expiresAt !== undefined && entry.expiresAt - now < minValiditySeconds * 1000) return undefined;
    return entry.token;
  }

  /** The live (not invalidated) request under way for this key, if any. */
  flight(key: CacheKey): Flight | undefined {
    return this.flights.get(flightKey(key));
  }

  /** Registers a request under way; `run` starts it. The flight leaves the table when it settles. */
  startFlight(key: CacheKey, minValiditySeconds: number, run: () => Promise<AcquiredToken>): Flight {
    const k = flightKey(key);
    const flight: Flight = {
      key: k,
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

  private storeFromFlight(key: CacheKey, flight: Flight, token: AcquiredToken): void {
    if (!this.storing || flight.stale || flight.invalidated.has(token.authorizationId)) return;
    this.store(key, token);
  }

  /** Caches a token from the broker under its authorization id (and the alias it was asked by). */
  store(key: CacheKey, token: AcquiredToken, now = Date.now()): void {
    if (!this.storing) return;
    const id = token.authorizationId;
    const expiresAt = expiryOf(token);
    const servedUntil = expiresAt === undefined ? now + NO_EXPIRY_CACHE_MS : expiresAt;
    if (servedUntil <= now) return;
    const entry: Entry = { token, servedUntil };
    if (expiresAt !== undefined) entry.expiresAt = expiresAt;
    // Re-inserted at the end: the Map's order is the eviction order.
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (key.kind === 'alias') {
      const alias = aliasKey(key.userId, key.providerId);
      const previous = this.aliases.get(alias);
      if (previous !== undefined && previous !== id) this.aliasesOf.get(previous)?.delete(alias);
      this.aliases.set(alias, id);
      let set = this.aliasesOf.get(id);
      if (!set) this.aliasesOf.set(id, (set = new Set()));
      set.add(alias);
    }
    if (this.entries.size > this.maxEntries) this.evict(now);
  }

  /**
   * Drops an authorization's entry and every alias pointing to it, and the alias of the user +
   * provider when known; requests under way for them will not cache their answer.
   */
  invalidate(authorizationId: string, userId?: string, providerId?: string): void {
    this.remove(authorizationId);
    const alias = userId !== undefined && providerId !== undefined ? aliasKey(userId, providerId) : undefined;
    if (alias !== undefined) this.removeAlias(alias);
    for (const flight of [...this.flights.values()]) {
      if (
        flight.key === `id:${authorizationId}` ||
        (alias !== undefined && flight.key === `alias:${alias}`)
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
    for (const [id, entry] of [...this.entries]) {
      if (entry.token.providerId === providerId) this.remove(id);
    }
    for (const flight of this.flights.values()) flight.stale = true;
    this.flights.clear();
  }

  /** Forgets everything, including what requests under way bring back. */
  clear(): void {
    this.entries.clear();
    this.aliases.clear();
    this.aliasesOf.clear();
    for (const flight of this.flights.values()) flight.stale = true;
    this.flights.clear();
  }

  /** Stops (false) or resumes (true) caching; stopping also clears. */
  setStoring(storing: boolean): void {
    if (!storing) this.clear();
    this.storing = storing;
  }

  private remove(authorizationId: string): void {
    this.entries.delete(authorizationId);
    const aliases = this.aliasesOf.get(authorizationId);
    if (aliases) {
      for (const alias of aliases) {
        if (this.aliases.get(alias) === authorizationId) this.aliases.delete(alias);
      }
      this.aliasesOf.delete(authorizationId);
    }
  }

  private removeAlias(alias: string): void {
    const id = this.aliases.get(alias);
    if (id === undefined) return;
    this.aliases.delete(alias);
    this.aliasesOf.get(id)?.delete(alias);
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
