import type { BusEvent } from '@broker/contracts';
import { ServedTokens, serveKeyString } from '../src/token-cache/served-tokens';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (ms = 0) => new Date(T0 + ms).toISOString();
const options = { max: 100, ttlMs: 60_000, marginSeconds: 30, quietMs: 5_000 };
const key = serveKeyString({ orgId: 'o1', clientId: 'svc', sub: 'svc', authorizationId: 'a1' });
const entry = (expiresIn = 3_600_000) => ({
  body: { accessToken: 'tok' },
  authorizationId: 'a1',
  providerId: 'p1',
  expiresAt: T0 + expiresIn,
});

function ready(): ServedTokens<{ accessToken: string }> {
  const cache = new ServedTokens<{ accessToken: string }>(options);
  cache.resumed();
  return cache;
}

function filled(): ServedTokens<{ accessToken: string }> {
  const cache = ready();
  expect(cache.store(cache.begin('o1'), key, entry(), 0, T0)).toBe(true);
  return cache;
}

describe('the gateway-side cache core (not wired into the REST path)', () => {
  it('keys every field apart, whatever the characters in them', () => {
    const a = serveKeyString({ orgId: 'o', clientId: 'a|b', sub: 'c' });
    const b = serveKeyString({ orgId: 'o', clientId: 'a', sub: 'b|c' });
    expect(a).not.toBe(b);
    expect(serveKeyString({ orgId: 'o', clientId: 'c', sub: 's', actor: 'x' })).not.toBe(
      serveKeyString({ orgId: 'o', clientId: 'c', sub: 's' }),
    );
  });

  it('stores and serves nothing before the events subscription is confirmed, nor during a gap', () => {
    const cache = new ServedTokens<{ accessToken: string }>(options);
    expect(cache.store(cache.begin('o1'), key, entry(), 0, T0)).toBe(false);
    const live = filled();
    live.gap();
    expect(live.lookup(key, 0, T0)).toBeUndefined();
    expect(live.store(live.begin('o1'), key, entry(), 0, T0)).toBe(false);
    live.resumed();
    expect(live.lookup(key, 0, T0)).toBeUndefined(); // dropped whole, not kept across the gap
  });

  it('serves a hit only with the caller’s minValiditySeconds plus the margin left', () => {
    const cache = filled();
    expect(cache.lookup(key, 60, T0)).toEqual({ accessToken: 'tok' });
    expect(cache.lookup(key, 3_600 - 30, T0)).toEqual({ accessToken: 'tok' });
    expect(cache.lookup(key, 3_600 - 29, T0)).toBeUndefined();
    expect(cache.lookup(key, 0, T0 + 3_600_000 - 29_000)).toBeUndefined();
  });

  it('never stores a token about to expire', () => {
    const cache = ready();
    expect(cache.store(cache.begin('o1'), key, entry(20_000), 0, T0)).toBe(false);
    expect(cache.store(cache.begin('o1'), key, entry(100_000), 90, T0)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('drops an authorization’s answers on its events, a provider’s on provider.changed', () => {
    const cache = filled();
    const other = serveKeyString({ orgId: 'o1', clientId: 'svc', sub: 'svc', authorizationId: 'a2' });
    cache.store(cache.begin('o1'), other, { ...entry(), authorizationId: 'a2', providerId: 'p2' }, 0, T0);
    const refreshed: BusEvent = {
      type: 'authorization.refreshed',
      orgId: 'o1',
      authorizationId: 'a1',
      providerId: 'p1',
      userId: 'u1',
      status: 'active',
      at: at(),
    };
    cache.onEvent(refreshed, T0);
    expect(cache.lookup(key, 0, T0)).toBeUndefined();
    expect(cache.lookup(other, 0, T0)).toEqual({ accessToken: 'tok' });
    cache.onEvent({ type: 'provider.changed', orgId: 'o1', providerId: 'p2', at: at() }, T0);
    expect(cache.lookup(other, 0, T0)).toBeUndefined();
  });

  it('a consumer change drops the org’s answers and stores none of it for the quiet time; other orgs keep theirs', () => {
    const cache = filled();
    const elsewhere = serveKeyString({ orgId: 'o2', clientId: 'svc', sub: 'svc', authorizationId: 'b1' });
    cache.store(cache.begin('o2'), elsewhere, { ...entry(), authorizationId: 'b1' }, 0, T0);
    cache.onEvent({ type: 'consumer.changed', change: 'policy', orgId: 'o1', clientId: 'svc', at: at() }, T0);
    expect(cache.lookup(key, 0, T0)).toBeUndefined();
    expect(cache.lookup(elsewhere, 0, T0)).toEqual({ accessToken: 'tok' });
    expect(cache.store(cache.begin('o1'), key, entry(), 0, T0 + 4_999)).toBe(false);
    expect(cache.store(cache.begin('o1'), key, entry(), 0, T0 + 5_001)).toBe(true);
  });

  it('does not store an answer whose request was under way when an event of its org or a gap came', () => {
    const cache = ready();
    const ticket = cache.begin('o1');
    cache.onEvent(
      {
        type: 'authorization.revoked',
        orgId: 'o1',
        authorizationId: 'a9',
        providerId: 'p1',
        userId: 'u1',
        status: 'active',
        at: at(),
      },
      T0,
    );
    expect(cache.store(ticket, key, entry(), 0, T0)).toBe(false);
    const second = cache.begin('o1');
    cache.gap();
    cache.resumed();
    expect(cache.store(second, key, entry(), 0, T0)).toBe(false);
    expect(cache.store(cache.begin('o1'), key, entry(), 0, T0)).toBe(true);
  });

  it('is bounded: the least recently used entry goes first', () => {
    const cache = new ServedTokens<{ accessToken: string }>({ ...options, max: 2 });
    cache.resumed();
    const k = (id: string) => serveKeyString({ orgId: 'o1', clientId: 'c', sub: 'c', authorizationId: id });
    for (const id of ['x', 'y', 'z'])
      cache.store(cache.begin('o1'), k(id), { ...entry(), authorizationId: id }, 0, T0);
    expect(cache.size).toBe(2);
    expect(cache.lookup(k('x'), 0, T0)).toBeUndefined();
  });
});
