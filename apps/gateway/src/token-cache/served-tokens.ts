import { LRUCache } from 'lru-cache';
import type { BusEvent } from '@broker/contracts';

/**
 * The core of a gateway-side cache of served tokens (issue 20), framework-free. NOT wired into the
 * REST path yet: a hit must also reach the provenance ledger, and the sealed ledger message from
 * the gateway does not exist (docs/gateway-http.md, "Hot tokens in the gateway"). What is here is
 * the part that decides what may be answered: the key, the invalidation by the broker's signed
 * events, and the rules for storing a broker answer.
 */

/** Everything the broker's decision for a serve depended on (docs/gateway-http.md, part 2). */
export interface ServeKey {
  orgId: string;
  clientId: string;
  /** The caller's subject (a person, or the client itself for a service account). */
  sub: string;
  /** Who acts for the subject (delegation), recorded by the ledger. */
  actor?: string;
  /** By id, or by user + provider (+ account). */
  authorizationId?: string;
  userId?: string;
  providerId?: string;
  account?: string;
}

/** A broker answer as kept: the route's body and what invalidation and expiry need. */
export interface ServedEntry<T> {
  body: T;
  authorizationId: string;
  providerId: string;
  /** Epoch ms of the token's expiry; undefined when the provider gave no lifetime. */
  expiresAt?: number;
}

export interface ServedTokensOptions {
  /** Most entries kept (least recently used out first). */
  max: number;
  /** Longest an entry is kept, whatever the token's expiry (ms). */
  ttlMs: number;
  /** A token with less life than this beyond the caller's minimum is neither stored nor served (s). */
  marginSeconds: number;
  /** After a consumer change in an org, nothing of that org is stored for this long (ms): longer than a broker replica's copy of the grants. */
  quietMs: number;
}

/** The moment a bus request for a key started, to tell whether its answer may still be stored. */
export interface FillTicket {
  readonly orgId: string;
  readonly orgEpoch: number;
  readonly epoch: number;
}

/** Each field length-prefixed, so no two different keys share a string whatever their characters. */
export function serveKeyString(k: ServeKey): string {
  return [k.orgId, k.clientId, k.sub, k.actor, k.authorizationId, k.userId, k.providerId, k.account]
    .map((v) => (v === undefined ? '-' : `${v.length}:${v}`))
    .join('|');
}

export class ServedTokens<T extends object> {
  private readonly entries: LRUCache<string, ServedEntry<T> & { orgId: string }>;
  /** Keys by authorization id, and by org + provider, for invalidation without a scan. */
  private readonly byAuthorization = new Map<string, Set<string>>();
  private readonly byProvider = new Map<string, Set<string>>();
  private readonly orgEpochs = new Map<string, number>();
  private readonly quietUntil = new Map<string, number>();
  /** Bumped by a gap or a whole clear: no answer begun before it is stored. */
  private epoch = 0;
  /** False until the events subscription is confirmed, and while it is down. */
  private storing = false;

  constructor(private readonly options: ServedTokensOptions) {
    this.entries = new LRUCache({
      max: options.max,
      ttl: options.ttlMs,
      dispose: (value, key) => this.unindex(key, value),
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached body when its token has at least `minValiditySeconds` (+ the margin) left. */
  lookup(key: string, minValiditySeconds: number, now = Date.now()): T | undefined {
    if (!this.storing) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (
      entry.expiresAt !== undefined &&
      entry.expiresAt - now < (minValiditySeconds + this.options.marginSeconds) * 1000
    )
      return undefined;
    return entry.body;
  }

  /** Taken before the bus request whose answer may be stored. */
  begin(orgId: string): FillTicket {
    return { orgId, orgEpoch: this.orgEpochs.get(orgId) ?? 0, epoch: this.epoch };
  }

  /**
   * Keeps a successful broker answer, unless something may have changed since the request began
   * (an event for its org, a gap), the org is in its quiet time, or the token is about to expire.
   * Errors and refresh-in-progress answers never reach here (the caller stores only a 2xx body).
   */
  store(
    ticket: FillTicket,
    key: string,
    entry: ServedEntry<T>,
    minValiditySeconds: number,
    now = Date.now(),
  ): boolean {
    if (!this.storing || ticket.epoch !== this.epoch) return false;
    if ((this.orgEpochs.get(ticket.orgId) ?? 0) !== ticket.orgEpoch) return false;
    if ((this.quietUntil.get(ticket.orgId) ?? 0) > now) return false;
    if (entry.expiresAt !== undefined) {
      const left = entry.expiresAt - now - (minValiditySeconds + this.options.marginSeconds) * 1000;
      if (left <= 0) return false;
      this.entries.set(key, { ...entry, orgId: ticket.orgId }, { ttl: Math.min(this.options.ttlMs, left) });
    } else this.entries.set(key, { ...entry, orgId: ticket.orgId });
    this.index(this.byAuthorization, entry.authorizationId, key);
    this.index(this.byProvider, providerKey(ticket.orgId, entry.providerId), key);
    return true;
  }

  /** A genuine (signed) broker event: drops every answer it may have changed. */
  onEvent(event: BusEvent, now = Date.now()): void {
    // Any event of an org keeps answers begun before it from being stored.
    this.orgEpochs.set(event.orgId, (this.orgEpochs.get(event.orgId) ?? 0) + 1);
    if (event.type === 'provider.changed') {
      this.dropAll(this.byProvider.get(providerKey(event.orgId, event.providerId)));
    } else if (event.type === 'consumer.changed') {
      // A policy, client or user changed (rare): everything of the org goes, and for a while
      // nothing of it is stored, so an answer from a replica that had not seen the change yet is not kept.
      for (const [key, value] of [...this.entries.entries()])
        if (value.orgId === event.orgId) this.entries.delete(key);
      this.quietUntil.set(event.orgId, now + this.options.quietMs);
    } else {
      this.dropAll(this.byAuthorization.get(event.authorizationId));
    }
  }

  /** The events subscription is confirmed (first time, or again after a gap): start afresh. */
  resumed(): void {
    this.clear();
    this.storing = true;
  }

  /** Events may be missed from now on: nothing is served or stored until `resumed`. */
  gap(): void {
    this.storing = false;
    this.clear();
  }

  clear(): void {
    this.epoch++;
    this.entries.clear();
  }

  private dropAll(keys: Set<string> | undefined): void {
    if (keys) for (const key of [...keys]) this.entries.delete(key);
  }

  private index(map: Map<string, Set<string>>, id: string, key: string): void {
    let keys = map.get(id);
    if (!keys) map.set(id, (keys = new Set()));
    keys.add(key);
  }

  private unindex(key: string, value: ServedEntry<T> & { orgId: string }): void {
    const drop = (map: Map<string, Set<string>>, id: string) => {
      const keys = map.get(id);
      if (!keys) return;
      keys.delete(key);
      if (!keys.size) map.delete(id);
    };
    drop(this.byAuthorization, value.authorizationId);
    drop(this.byProvider, providerKey(value.orgId, value.providerId));
  }
}

function providerKey(orgId: string, providerId: string): string {
  return `${orgId.length}:${orgId}|${providerId}`;
}
