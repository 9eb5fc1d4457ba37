import { MAX_BODY_DEPTH, inspect, unstorableText } from '../src/http/request-hygiene';
import { surfaceOf } from '../src/http/surfaces';
import { FREE_FAILURES, backoffSeconds } from '../src/oauth/token-rate-limiter';

describe('request hygiene', () => {
  it('knows text PostgreSQL cannot store or that is not Unicode', () => {
    expect(unstorableText('plain ✓ 𝄞')).toBe(false);
    expect(unstorableText('a\u0000b')).toBe(true);
    expect(unstorableText('lone \ud800 high')).toBe(true);
    expect(unstorableText('lone \udc00 low')).toBe(true);
    expect(unstorableText('\u0001\u001f')).toBe(false); // other controls are storable: validators judge them
  });

  it('finds NULs in keys and values at any depth, and nesting deeper than the limit, without recursion', () => {
    expect(inspect({ a: [{ b: 'ok' }] })).toBeUndefined();
    expect(inspect({ a: [{ b: 'x\u0000' }] })).toMatch(/NUL/);
    expect(inspect({ ['k\u0000']: 1 })).toMatch(/NUL/);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_BODY_DEPTH; i++) deep = [deep];
    expect(inspect(deep)).toBeUndefined();
    let tooDeep: unknown = 1;
    for (let i = 0; i < 100_000; i++) tooDeep = [tooDeep];
    expect(inspect(tooDeep)).toMatch(/nested/);
  });

  it('sends each path to its surface’s error shape', () => {
    expect(surfaceOf('POST', '/api/v1/oauth/token')).toBe('oauth-protocol');
    expect(surfaceOf('POST', '/api/v1/oauth/delegated-token/')).toBe('oauth-api');
    expect(surfaceOf('GET', '/api/v2/external-auth/x/device')).toBe('external-auth');
    expect(surfaceOf('GET', '/api/v2/externalOAuth/providers/callback/')).toBe('page');
    expect(surfaceOf('POST', '/api/v2/externalOAuth/providers/callback/')).toBe('external-oauth');
    expect(surfaceOf('GET', '/.well-known/jwks.json')).toBe('oauth-protocol');
    expect(surfaceOf('GET', '/anything-else')).toBe('external-oauth');
  });

  it('backs off failed client authentications exponentially after the free ones, up to 15 minutes', () => {
    expect(Array.from({ length: FREE_FAILURES }, (_, i) => backoffSeconds(i + 1))).toEqual(
      Array(FREE_FAILURES).fill(0),
    );
    expect([11, 12, 13, 14].map(backoffSeconds)).toEqual([1, 2, 4, 8]);
    expect(backoffSeconds(100)).toBe(900);
  });
});
