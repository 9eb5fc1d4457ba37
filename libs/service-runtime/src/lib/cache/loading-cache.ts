import { LRUCache } from 'lru-cache';

export interface LoadingCacheOptions<V> {
  /** Most values kept; the least recently used goes first when full. */
  max: number;
  /**
   * How long a loaded value is served (ms), or a function of the value (a token until shortly
   * before it expires). 0 or less: the value is not kept, the cache only shares concurrent loads.
   */
  ttlMs: number | ((value: V) => number);
  /** The clock (ms); tests pass their own. Default: `performance.now()`, which never goes back. */
  now?: () => number;
}

/**
 * The one in-memory cache of the services: values by key, kept `ttlMs` on `lru-cache` (bounded by
 * `max`), with concurrent loads of a key sharing one promise (single flight). A load that fails is
 * not kept (every waiter gets its error, the next `get` loads again). `forget(key)` and `clear()`
 * drop what is kept AND what is being loaded: a load that was under way when its key was forgotten
 * still answers the callers that waited for it, but is not kept, so a value read before a change
 * never outlives the notice of that change.
 */
export class LoadingCache<K extends NonNullable<unknown>, V> {
  // Values are boxed: lru-cache cannot hold null or undefined, and "null" is a real answer to keep.
  private readonly values: LRUCache<K, { value: V }>;
  private readonly loads = new Map<K, Promise<V>>();

  constructor(private readonly options: LoadingCacheOptions<V>) {
    const now = options.now;
    this.values = new LRUCache<K, { value: V }>({
      max: options.max,
      // A test's own clock is read on every look-up; the default reuses one reading for up to 1 ms
      // (a value may be served up to 1 ms past its TTL), which saves a clock read per hit.
      ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    });
  }

  /**
   * The value of `key`: kept, being loaded (shared), or loaded now with `load`. `fresh`: neither
   * served from memory nor joined to a load under way (a new load, kept as usual).
   */
  get(key: K, load: () => Promise<V>, options: { fresh?: boolean } = {}): Promise<V> {
    if (!options.fresh) {
      const kept = this.values.get(key);
      if (kept) return Promise.resolve(kept.value);
      const shared = this.loads.get(key);
      if (shared) return shared;
    }
    const loading: Promise<V> = load().then(
      (value) => {
        // Kept only while this load is still the key's current one (not forgotten, not superseded).
        if (this.loads.get(key) === loading) {
          this.loads.delete(key);
          const ttl =
            typeof this.options.ttlMs === 'function' ? this.options.ttlMs(value) : this.options.ttlMs;
          if (ttl > 0) this.values.set(key, { value }, { ttl });
        }
        return value;
      },
      (err: unknown) => {
        if (this.loads.get(key) === loading) this.loads.delete(key);
        throw err;
      },
    );
    this.loads.set(key, loading);
    return loading;
  }

  /** Drops the key's value, and makes a load of it under way not kept. */
  forget(key: K): void {
    this.values.delete(key);
    this.loads.delete(key);
  }

  /** Drops every value, and makes every load under way not kept. */
  clear(): void {
    this.values.clear();
    this.loads.clear();
  }

  /** How many values are kept (expired ones may still count until they are next looked at). */
  get size(): number {
    return this.values.size;
  }
}
