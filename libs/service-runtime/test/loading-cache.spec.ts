import { LoadingCache } from '../src/lib/cache/loading-cache';

/** A load the test settles by hand, counting how often it was started. */
function manualLoads<V>() {
  const pending: { resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];
  let started = 0;
  const load = () =>
    new Promise<V>((resolve, reject) => {
      started++;
      pending.push({ resolve, reject });
    });
  return { load, pending, started: () => started };
}

describe('LoadingCache', () => {
  let clock = 1_000;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000;
  });

  it('serves a kept value until its TTL runs out, then loads again', async () => {
    const cache = new LoadingCache<string, number>({ max: 10, ttlMs: 100, now });
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('a', load)).toBe(1);
    clock += 99;
    expect(await cache.get('a', load)).toBe(1);
    clock += 2;
    expect(await cache.get('a', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('takes the TTL from the value when given a function, and keeps nothing for a TTL of 0 or less', async () => {
    const cache = new LoadingCache<string, { ttl: number }>({ max: 10, ttlMs: (v) => v.ttl, now });
    let loads = 0;
    const load = (ttl: number) => async () => ({ ttl, n: ++loads });
    await cache.get('short', load(10));
    clock += 11;
    await cache.get('short', load(10));
    expect(loads).toBe(2);
    await cache.get('never', load(0));
    await cache.get('never', load(0));
    expect(loads).toBe(4);
    expect(cache.size).toBe(1);
  });

  it('keeps null as an answer', async () => {
    const cache = new LoadingCache<string, string | null>({ max: 10, ttlMs: 1_000, now });
    let loads = 0;
    const load = async () => {
      loads++;
      return null;
    };
    expect(await cache.get('gone', load)).toBeNull();
    expect(await cache.get('gone', load)).toBeNull();
    expect(loads).toBe(1);
  });

  it('shares one load between concurrent callers (single flight)', async () => {
    const cache = new LoadingCache<string, string>({ max: 10, ttlMs: 1_000, now });
    const m = manualLoads<string>();
    const waits = [cache.get('k', m.load), cache.get('k', m.load), cache.get('k', m.load)];
    expect(m.started()).toBe(1);
    m.pending[0].resolve('v');
    expect(await Promise.all(waits)).toEqual(['v', 'v', 'v']);
    expect(await cache.get('k', m.load)).toBe('v');
    expect(m.started()).toBe(1);
  });

  it('does not keep an error: every waiter gets it, and the next get loads again', async () => {
    const cache = new LoadingCache<string, string>({ max: 10, ttlMs: 1_000, now });
    const m = manualLoads<string>();
    const a = cache.get('k', m.load);
    const b = cache.get('k', m.load);
    m.pending[0].reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    const c = cache.get('k', m.load);
    expect(m.started()).toBe(2);
    m.pending[1].resolve('up');
    expect(await c).toBe('up');
    expect(cache.size).toBe(1);
  });

  it('does not keep a load that raced forget(key), and a get after the forget starts its own load', async () => {
    const cache = new LoadingCache<string, string>({ max: 10, ttlMs: 1_000, now });
    const m = manualLoads<string>();
    const before = cache.get('k', m.load);
    cache.forget('k');
    const after = cache.get('k', m.load);
    expect(m.started()).toBe(2);
    m.pending[0].resolve('read before the change');
    expect(await before).toBe('read before the change');
    expect(cache.size).toBe(0);
    m.pending[1].resolve('read after the change');
    expect(await after).toBe('read after the change');
    expect(await cache.get('k', m.load)).toBe('read after the change');
    expect(m.started()).toBe(2);
  });

  it('forgets one key only, and clear() drops every value and every load under way', async () => {
    const cache = new LoadingCache<string, string>({ max: 10, ttlMs: 1_000, now });
    await cache.get('a', async () => 'a1');
    await cache.get('b', async () => 'b1');
    cache.forget('a');
    expect(await cache.get('a', async () => 'a2')).toBe('a2');
    expect(await cache.get('b', async () => 'b2')).toBe('b1');
    const m = manualLoads<string>();
    const inFlight = cache.get('c', m.load);
    cache.clear();
    m.pending[0].resolve('c1');
    expect(await inFlight).toBe('c1');
    expect(cache.size).toBe(0);
    expect(await cache.get('b', async () => 'b3')).toBe('b3');
  });

  it('fresh: neither served from memory nor joined to a load under way, and kept', async () => {
    const cache = new LoadingCache<string, number>({ max: 10, ttlMs: 1_000, now });
    await cache.get('k', async () => 1);
    expect(await cache.get('k', async () => 2, { fresh: true })).toBe(2);
    expect(await cache.get('k', async () => 3)).toBe(2);
    const m = manualLoads<number>();
    const shared = cache.get('j', m.load);
    const fresh = cache.get('j', m.load, { fresh: true });
    expect(m.started()).toBe(2);
    m.pending[1].resolve(20);
    m.pending[0].resolve(10);
    expect([await shared, await fresh]).toEqual([10, 20]);
    // The superseded load is not kept over the fresh one.
    expect(await cache.get('j', async () => 30)).toBe(20);
  });

  it('holds at most max values, dropping the least recently used', async () => {
    const cache = new LoadingCache<string, string>({ max: 2, ttlMs: 1_000, now });
    await cache.get('a', async () => 'a');
    await cache.get('b', async () => 'b');
    await cache.get('a', async () => 'not loaded');
    await cache.get('c', async () => 'c');
    expect(cache.size).toBe(2);
    expect(await cache.get('a', async () => 'reloaded')).toBe('a');
    expect(await cache.get('b', async () => 'reloaded')).toBe('reloaded');
  });
});
