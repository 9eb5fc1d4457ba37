import type { AcquiredToken } from '@broker/contracts';
import { parseBrokerEvent } from '../src/lib/event-subscription';
import {
  generateEventSigningKey,
  parseEventPublicKeys,
  parseEventSigningKey,
  signEvent,
} from '@broker/bus-protocol';
import { TokenCache, aliasKey } from '../src/lib/token-cache';

function token(authorizationId: string, lifetimeSeconds?: number, now = Date.now()): AcquiredToken {
  const t: AcquiredToken = {
    accessToken: `tok-${authorizationId}`,
    tokenType: 'Bearer',
    authorizationId,
    providerId: 'p',
    userId: 'u',
    scopes: [],
    attenuated: false,
  };
  if (lifetimeSeconds !== undefined) t.expiresAt = new Date(now + lifetimeSeconds * 1000).toISOString();
  return t;
}

describe('TokenCache', () => {
  it('keeps callers apart (scope) and invalidates an authorization, an alias or a scope across all of them', () => {
    const cache = new TokenCache(10, { maxAgeMs: 60_000 });
    const now = Date.now();
    const a = { kind: 'id', authorizationId: 'a', scope: '["acme","web"]' } as const;
    const b = { kind: 'id', authorizationId: 'a', scope: '["acme","reports"]' } as const;
    const rival = { kind: 'alias', userId: 'u', providerId: 'p', scope: '["rival","web"]' } as const;
    cache.store(a, token('a', 600, now), now);
    expect(cache.lookup(b, 0, now)).toBeUndefined(); // another caller never finds it
    expect(cache.lookup({ kind: 'id', authorizationId: 'a' }, 0, now)).toBeUndefined();
    cache.store(b, token('a', 600, now), now);
    cache.store(rival, token('r', 600, now), now);
    expect(cache.size).toBe(3);
    // At most maxAgeMs, whatever the token's own life.
    expect(cache.lookup(a, 0, now + 60_001)).toBeUndefined();
    cache.store(a, token('a', 600, now), now);
    cache.invalidate('a');
    expect([cache.lookup(a, 0, now), cache.lookup(b, 0, now)]).toEqual([undefined, undefined]);
    expect(cache.lookup(rival, 0, now)).toBeDefined();
    cache.invalidate('other', 'u', 'p'); // the user + provider alias, in every scope
    expect(cache.lookup(rival, 0, now)).toBeUndefined();
    cache.store(a, token('a', 600, now), now);
    cache.store(rival, token('r', 600, now), now);
    cache.invalidateWhere((_t, scope) => scope?.startsWith('["acme"') ?? false);
    expect(cache.lookup(a, 0, now)).toBeUndefined();
    expect(cache.lookup(rival, 0, now)).toBeDefined();
  });

  it('stores nothing the admit rule refuses, and nothing from a flight an invalidation raced', async () => {
    const cache = new TokenCache(10, { admit: (key) => key.scope !== 'quiet' });
    cache.store({ kind: 'id', authorizationId: 'a', scope: 'quiet' }, token('a', 600));
    expect(cache.size).toBe(0);
    let land: (t: AcquiredToken) => void = () => undefined;
    const key = { kind: 'id', authorizationId: 'a', scope: 's' } as const;
    const flight = cache.startFlight(key, 0, () => new Promise<AcquiredToken>((r) => (land = r)));
    await Promise.resolve();
    cache.invalidate('a');
    land(token('a', 600));
    await flight.promise;
    expect(cache.lookup(key, 0)).toBeUndefined();
  });

  it('serves an entry only while it has the asked remaining life', () => {
    const cache = new TokenCache(10);
    const now = Date.now();
    cache.store({ kind: 'id', authorizationId: 'a' }, token('a', 100, now), now);
    expect(cache.lookup({ kind: 'id', authorizationId: 'a' }, 100, now)).toBeDefined();
    expect(cache.lookup({ kind: 'id', authorizationId: 'a' }, 101, now)).toBeUndefined();
    expect(cache.lookup({ kind: 'id', authorizationId: 'a' }, 60, now + 41_000)).toBeUndefined();
    expect(cache.lookup({ kind: 'id', authorizationId: 'a' }, 0, now + 100_000)).toBeUndefined();
    expect(cache.size).toBe(0); // expired entries leave on lookup
  });

  it('drops an authorization and every alias pointing to it at once', () => {
    const cache = new TokenCache(10);
    cache.store({ kind: 'alias', userId: 'u', providerId: 'p' }, token('a', 600));
    cache.store({ kind: 'alias', userId: 'u2', providerId: 'p' }, token('a', 600));
    cache.store({ kind: 'id', authorizationId: 'b' }, token('b', 600));
    cache.invalidate('a');
    expect(cache.lookup({ kind: 'alias', userId: 'u', providerId: 'p' }, 0)).toBeUndefined();
    expect(cache.lookup({ kind: 'alias', userId: 'u2', providerId: 'p' }, 0)).toBeUndefined();
    expect(cache.lookup({ kind: 'id', authorizationId: 'b' }, 0)).toBeDefined();
  });

  it('evicts expired entries first, then the oldest, beyond its size', () => {
    const cache = new TokenCache(2);
    const now = Date.now();
    cache.store({ kind: 'id', authorizationId: 'a' }, token('a', 600, now), now);
    cache.store({ kind: 'id', authorizationId: 'b' }, token('b', 600, now), now);
    cache.store({ kind: 'id', authorizationId: 'c' }, token('c', 600, now), now);
    expect(cache.size).toBe(2);
    expect(cache.lookup({ kind: 'id', authorizationId: 'a' }, 0, now)).toBeUndefined();
    expect(cache.lookup({ kind: 'id', authorizationId: 'c' }, 0, now)).toBeDefined();
  });

  it('does not cache the answer of a flight invalidated while under way, and stores nothing while stopped', async () => {
    const cache = new TokenCache(10);
    let finish: (t: AcquiredToken) => void = () => undefined;
    const flight = cache.startFlight(
      { kind: 'alias', userId: 'u', providerId: 'p' },
      60,
      () => new Promise((r) => (finish = r)),
    );
    await Promise.resolve();
    cache.invalidate('a'); // names no user/provider: the flight stays, but must not cache 'a'
    finish(token('a', 600));
    await flight.promise;
    expect(cache.size).toBe(0);

    cache.setStoring(false);
    cache.store({ kind: 'id', authorizationId: 'b' }, token('b', 600));
    expect(cache.size).toBe(0);
    cache.setStoring(true);
    cache.store({ kind: 'id', authorizationId: 'b' }, token('b', 600));
    expect(cache.size).toBe(1);
  });

  it('keys aliases so that separators in ids cannot collide', () => {
    expect(aliasKey('a|provider:b', 'c')).not.toBe(aliasKey('a', 'b|provider:c'));
  });
});

describe('parseBrokerEvent', () => {
  const signing = generateEventSigningKey('e1');
  const keys = parseEventPublicKeys(signing.publicKey);
  const event = {
    type: 'authorization.revoked' as const,
    orgId: 'o',
    authorizationId: 'a',
    userId: 'u',
    providerId: 'p',
    status: 'active' as const,
    at: new Date().toISOString(),
  };

  it('takes events the broker signed and ignores anything else', () => {
    expect(parseBrokerEvent(keys, signEvent(parseEventSigningKey(signing.privateKey), event))).toEqual({
      ok: true,
      event,
    });
    for (const raw of [
      '',
      'x',
      '1',
      'null',
      '[]',
      '{}',
      JSON.stringify(event),
      JSON.stringify({ authorizationId: 'a', type: 5 }),
    ]) {
      expect(parseBrokerEvent(keys, raw).ok).toBe(false);
    }
  });
});
