import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signInAtDemoIdp } from '@broker/testing';
import { BrokerSystem } from './broker-system';

interface Route {
  method: string;
  path: string;
  surface: string;
  auth: 'bearer' | 'principal' | 'client' | 'none';
  body: 'json' | 'form' | null;
}

const ROUTES = (
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'gateway-routes.json'), 'utf8')) as {
    routes: Route[];
  }
).routes;
/** Public documents without personal data: cacheable. */
const PUBLIC = new Set([
  '/.well-known/jwks.json',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/api',
]);

/**
 * The headers of point 7 on every answer of every route (successes, refusals, errors): `no-store`
 * (except the public discovery documents), `nosniff`, no framing (`frame-ancestors 'none'` and
 * `X-Frame-Options: DENY`), a Content-Security-Policy (strict on the HTML pages), no
 * `X-Powered-By`. Then the answers the issue named, each as a success: the provider-token answer,
 * device codes, consent state, userinfo, the token endpoint, the hosted pages.
 */
describe('security headers on every answer', () => {
  const system = new BrokerSystem({ label: 'headers', providerClient: true });
  let admin: string;
  let alice: string;
  let providerId: string;
  const checked: string[] = [];

  beforeAll(async () => {
    await system.start();
    ({ admin, providerId, alice } = await system.adminAndAlice());
  });

  afterAll(async () => {
    process.stdout.write(`headers checked on ${checked.length} answers\n`);
    await system.stop();
  });

  function expectHeaders(label: string, res: Response): void {
    const h = (name: string) => res.headers.get(name) ?? '';
    const url = new URL(res.url || 'http://x/');
    const publicDoc = PUBLIC.has(url.pathname) && res.status === 200;
    const got = {
      label,
      nosniff: h('x-content-type-options'),
      frameOptions: h('x-frame-options'),
      noStore: publicDoc ? 'public' : /\bno-store\b/.test(h('cache-control')),
      csp:
        /default-src 'none'/.test(h('content-security-policy')) &&
        /frame-ancestors 'none'/.test(h('content-security-policy')),
      poweredBy: res.headers.has('x-powered-by'),
    };
    expect(got).toEqual({
      label,
      nosniff: 'nosniff',
      frameOptions: 'DENY',
      noStore: publicDoc ? 'public' : true,
      csp: true,
      poweredBy: false,
    });
    if (/text\/html/.test(h('content-type'))) {
      // A page: scripts nowhere, its stylesheet only by nonce, no base-uri tricks.
      expect(h('content-security-policy')).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]+'/);
      expect(h('content-security-policy')).toContain("base-uri 'none'");
      expect(h('content-security-policy')).not.toMatch(/script-src|unsafe-inline/);
    }
    checked.push(label);
  }

  const concrete = (path: string) =>
    path
      .replace(':providerId', randomUUID())
      .replace(':jobId', randomUUID())
      .replace(':authorizedProviderId', randomUUID())
      .replace(':externalauth', randomUUID())
      .replace(':clientId', 'no-such-client')
      .replace(':sub', 'no-such-user');

  it('on every route, with and without credentials', async () => {
    for (const route of ROUTES) {
      for (const withAuth of [true, false]) {
        const headers: Record<string, string> = {};
        if (withAuth && (route.auth === 'bearer' || route.auth === 'principal'))
          headers['authorization'] = `Bearer ${admin}`;
        let body: string | undefined;
        if (route.body === 'json') {
          headers['content-type'] = 'application/json';
          body = '{}';
        } else if (route.body === 'form') {
          headers['content-type'] = 'application/x-www-form-urlencoded';
          body =
            withAuth && route.auth === 'client'
              ? new URLSearchParams({
                  client_id: 'admin',
                  client_secret: system.adminSecret,
                  grant_type: 'client_credentials',
                  token: 'x',
                }).toString()
              : '';
        }
        const res = await fetch(`${system.base}${concrete(route.path)}`, {
          method: route.method,
          headers,
          body,
          redirect: 'manual',
        });
        await res.arrayBuffer();
        expectHeaders(
          `${route.method} ${route.path} ${withAuth ? 'authenticated' : 'anonymous'} → ${res.status}`,
          res,
        );
      }
    }
  });

  it('on refusals before routing: an unknown path, a corrupt gzip body, a NUL in the query', async () => {
    const unknown = await fetch(`${system.base}/api/v2/nothing-here`);
    expectHeaders('unknown path', unknown);
    const gzip = await fetch(`${system.base}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'not gzip at all',
    });
    expect(gzip.status).toBe(400);
    expectHeaders('corrupt gzip', gzip);
    const nul = await fetch(`${system.base}/api/v1/oauth/authorize?client_id=%00`);
    expect(nul.status).toBe(400);
    expectHeaders('NUL in the query', nul);
  });

  it('on the answers that carry tokens, codes, states and personal data', async () => {
    const token = await system.tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'admin',
      client_secret: system.adminSecret,
    });
    expect(token.status).toBe(200);
    expectHeaders('token endpoint', token);

    // Consent state, the start page (HTML), the provider's way back, the provider-token answer.
    const authorize = await system.api(`/api/v2/externalOAuth/providers/${providerId}/authorize/`, alice, {
      method: 'POST',
    });
    expect(authorize.status).toBe(200);
    expectHeaders('consent authorize (state)', authorize);
    const { redirectUrl } = (await authorize.json()) as { redirectUrl: string };
    const page = await fetch(redirectUrl);
    expect(page.status).toBe(200);
    expectHeaders('consent start page', page);
    const jars = new Map<string, Map<string, string>>();
    const back = await signInAtDemoIdp(
      redirectUrl,
      'alice@example.test',
      (u) => u.startsWith(`${system.base}/api/v2/externalOAuth/providers/callback`),
      undefined,
      jars,
    );
    const cookie = [...(jars.get(system.base) ?? new Map<string, string>())]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
    const callback = await fetch(back, { redirect: 'manual', headers: { cookie } });
    expect(callback.status).toBe(303);
    expectHeaders('browser callback', callback);
    const done = await fetch(callback.headers.get('location') ?? '');
    expectHeaders('connect done page', done);
    const authorizationId = new URL(callback.headers.get('location') ?? '').searchParams.get(
      'authorizedProviderId',
    );
    const providerToken = await system.api(
      `/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`,
      alice,
      { method: 'POST' },
    );
    expect(providerToken.status).toBe(201);
    expectHeaders('provider access token', providerToken);
    const providerUser = await system.api(
      `/api/v2/externalOAuth/authorizedProviders/${authorizationId}/userinfo/`,
      alice,
    );
    expect(providerUser.status).toBe(200);
    expectHeaders('provider userinfo', providerUser);

    const device = await system.api(`/api/v2/external-auth/${providerId}/device`, alice);
    expect(device.status).toBe(200);
    expect(await device.json()).toMatchObject({
      device_code: expect.any(String),
      user_code: expect.any(String),
    });
    expectHeaders('device code', device);

    const userinfo = await system.api('/api/v1/oauth/userinfo', alice);
    expect(userinfo.status).toBe(200);
    expectHeaders('userinfo', userinfo);
    const links = await system.api('/api/v2/external-auth', alice);
    expect(links.status).toBe(200);
    expectHeaders('external-auth links', links);
    const jwks = await fetch(`${system.base}/.well-known/jwks.json`);
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
    expectHeaders('jwks', jwks);
  });
});
