import { HotTokens } from '../src/lib/token-path/hot-tokens';
import type { ServedToken } from '../src';

const token = (authorizationId: string, expiresInS = 3600): ServedToken => ({
  accessToken: `at-${authorizationId}`,
  tokenType: 'Bearer',
  expiresAt: new Date(Date.now() + expiresInS * 1000),
  authorizationId,
  providerId: 'p',
  userId: 'u',
  scopes: [],
  oauthClientId: 'c',
  credentialId: 'cred',
  createdAt: new Date(),
  refreshTokenExpiresAt: null,
  refreshed: true,
});

function entry(hot: HotTokens, id: string) {
  const found = hot.get('org', id);
  if (!found) throw new Error(`${id} is not remembered`);
  return found;
}

describe('HotTokens (the token path memory)', () => {
  it('serves an entry to its own org only, as not refreshed, until its time to live ends', async () => {
    const hot = new HotTokens(200, 5);
    hot.remember('org-a', token('a1'), 3600);
    expect(hot.get('org-b', 'a1')).toBeUndefined();
    expect(hot.get('org-a', 'a1')?.token).toMatchObject({ accessToken: 'at-a1', refreshed: false });
    // Read it every 20 ms: reading does not extend its life, so it is gone within 200 ms (+ slack).
    const start = Date.now();
    while (hot.get('org-a', 'a1') && Date.now() - start < 2_000) await new Promise((r) => setTimeout(r, 20));
    expect(hot.get('org-a', 'a1')).toBeUndefined();
    expect(Date.now() - start).toBeGreaterThanOrEqual(150);
  });

  it('remembers nothing when the time to live is 0, and forgets on demand', () => {
    const off = new HotTokens(0, 5);
    off.remember('org', token('x'), 3600);
    expect(off.get('org', 'x')).toBeUndefined();
    const hot = new HotTokens(60_000, 5);
    hot.remember('org', token('x'), 3600);
    hot.remember('org', token('y'), 3600);
    hot.forget('x');
    expect(hot.get('org', 'x')).toBeUndefined();
    expect(hot.get('org', 'y')).toBeDefined();
    hot.clear();
    expect(hot.get('org', 'y')).toBeUndefined();
  });

  it('stays bounded at 50 000 authorizations, dropping the least recently used', () => {
    const hot = new HotTokens(60_000, 5);
    for (let i = 0; i < 50_010; i++) hot.remember('org', token(`id-${i}`), 3600);
    expect(hot.get('org', 'id-0')).toBeUndefined();
    expect(hot.get('org', 'id-50009')).toBeDefined();
    expect(hot.get('org', 'id-10')).toBeDefined();
  });

  it('asks a remembered token for the life a caller needs, capped by what a fresh one could give', () => {
    const hot = new HotTokens(60_000, 5);
    hot.remember('org', token('fresh', 16), 20);
    hot.remember('org', token('older', 14), 20);
    // A 20-second token: a caller asking 60 s is served one with lifetime - 5 = 15 s left, not less.
    expect(hot.lastsFor(entry(hot, 'fresh'), 60)).toBe(true);
    expect(hot.lastsFor(entry(hot, 'older'), 60)).toBe(false);
    expect(hot.lastsFor(entry(hot, 'older'), 10)).toBe(true);
    // Without an explicit need: a quarter of the lifetime (5 s), never below the minimum served.
    expect(hot.lastsFor(entry(hot, 'older'), undefined)).toBe(true);
    hot.remember('org', token('dying', 4), 20);
    expect(hot.lastsFor(entry(hot, 'dying'), 1)).toBe(false);
  });
});
