import { RequestMethod } from '@nestjs/common';
import * as fc from 'fast-check';
import { Strategy } from 'passport-http-bearer';
import { plainBearerToken } from '../src/auth/bearer-auth.guard';
import { HOT_TOKEN_ROUTES } from '../src/http/hot-token-routes';

type Req = {
  headers: { authorization?: string };
  body?: Record<string, unknown>;
  query?: Record<string, unknown>;
};

/** What passport-http-bearer itself hands to the verify callback for `req` (undefined: it never verifies). */
function passportToken(req: Req): string | undefined {
  let verified: string | undefined;
  const strategy = new Strategy((token: string, done: (err: unknown, user: false) => void) => {
    verified = token;
    done(null, false);
  }) as unknown as {
    authenticate: (req: unknown) => void;
    fail: () => void;
    error: () => void;
    success: () => void;
  };
  strategy.fail = () => undefined;
  strategy.error = () => undefined;
  strategy.success = () => undefined;
  strategy.authenticate(req);
  return verified;
}

describe('hot token routes', () => {
  it('answer exactly the controller routes they stand in for', () => {
    expect(HOT_TOKEN_ROUTES.map((r) => r.route)).toEqual([
      { path: 'api/v2/externalOAuth/tokens', method: RequestMethod.POST },
      {
        path: 'api/v2/externalOAuth/authorizedProviders/:authorizedProviderId/token',
        method: RequestMethod.POST,
      },
    ]);
  });

  it('read a bearer token only where passport-http-bearer reads the same one, and leave every other request to the guard', () => {
    const word = fc.oneof(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer:', '', 'Token'),
      fc.string({ maxLength: 8 }),
    );
    const header = fc.oneof(
      fc.constant(undefined),
      fc
        .tuple(word, fc.oneof(fc.constant('eyJ.a.b'), fc.string({ maxLength: 12 })))
        .map(([s, t]) => `${s} ${t}`),
      fc.array(fc.oneof(word, fc.constant(' ')), { maxLength: 4 }).map((w) => w.join(' ')),
    );
    const extra = fc.option(
      fc.record({
        access_token: fc.oneof(fc.constant(''), fc.constant('tok'), fc.constant(0), fc.constant(1)),
      }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(header, extra, extra, (authorization, body, query) => {
        const req: Req = { headers: authorization === undefined ? {} : { authorization }, body, query };
        const ours = plainBearerToken(req);
        if (ours !== undefined) expect(passportToken(req)).toBe(ours);
      }),
      { numRuns: 2_000 },
    );
    // The plain case is taken, not declined.
    expect(plainBearerToken({ headers: { authorization: 'Bearer abc.def.ghi' } })).toBe('abc.def.ghi');
    expect(plainBearerToken({ headers: { authorization: 'bearer abc' }, body: {}, query: {} })).toBe('abc');
    // Anything unusual goes to the guard.
    expect(plainBearerToken({ headers: {} })).toBeUndefined();
    expect(plainBearerToken({ headers: { authorization: 'Bearer a b' } })).toBeUndefined();
    expect(
      plainBearerToken({ headers: { authorization: 'Bearer abc' }, query: { access_token: 'x' } }),
    ).toBeUndefined();
    expect(
      plainBearerToken({ headers: { authorization: 'Bearer abc' }, body: { access_token: 'x' } }),
    ).toBeUndefined();
  });
});
