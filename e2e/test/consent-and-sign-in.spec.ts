import { ClientCredentials, ClientPolicyError } from '@broker/identity';
import { consentStartForm, signInAtDemoIdp } from '@broker/testing';
import { BrokerSystem } from './broker-system';

type Jars = Map<string, Map<string, string>>;

/**
 * A browser, as far as these tests need one: cookies per origin, manual redirects. Each instance
 * is a different person's browser.
 */
class Browser {
  readonly jars: Jars = new Map();

  async fetch(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
      body: init.form ? new URLSearchParams(init.form) : undefined,
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0];
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value && !/max-age=0|expires=thu, 01 jan 1970/i.test(cookie)) jar.set(name, value);
      else jar.delete(name);
    }
    return res;
  }
}

/**
 * Consent bound to the browser that started it (account-linking CSRF), RFC 9207 `iss` from a
 * provider that advertises it, the sign-in policy of first-party apps, and a refresh asking for
 * more than was granted — each attacked from outside.
 */
describe('consent bound to the browser, iss, sign-in policy', () => {
  const system = new BrokerSystem({ label: 'consent-csrf', providerClient: true });
  let admin: string;
  let providerId: string;
  let mallory: string;
  let alice: string;
  let app: ClientCredentials;

  beforeAll(async () => {
    await system.start();
    admin = await system.adminToken();
    const created = await system.api('/api/v2/externalOAuth/providers/', admin, {
      method: 'POST',
      body: {
        type: 'oidc',
        name: 'Demo',
        clientId: 'broker-provider',
        clientSecret: system.providerSecret,
        issuer: system.idp.issuer,
      },
    });
    expect(created.status).toBe(201);
    providerId = ((await created.json()) as { id: string }).id;
    await system.users.upsert('default', {
      sub: 'mallory',
      email: 'mallory@evil.test',
      givenName: 'Mallory',
    });
    await system.users.upsert('default', { sub: 'alice', email: 'alice@example.test' });
    const delegate = async (sub: string) =>
      (
        (await (
          await system.api('/api/v1/oauth/delegated-token', admin, {
            method: 'POST',
            body: { sub, scopes: ['authorizations:read', 'authorizations:write', 'tokens:read'] },
          })
        ).json()) as {
          access_token: string;
        }
      ).access_token;
    mallory = await delegate('mallory');
    alice = await delegate('alice');
    app = await system.createClient({
      orgId: 'default',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['providers:read', 'authorizations:read', 'tokens:read'],
      redirectUris: ['http://127.0.0.1:1/app/callback'],
    });
  });

  afterAll(() => system.stop());

  const linksOf = async (token: string) =>
    (
      (await (await system.api('/api/v2/externalOAuth/authorizedProviders/', token)).json()) as {
        data: unknown[];
      }
    ).data.length;
  const consentUrl = async (token: string, query = '') => {
    const res = await system.api(`/api/v2/externalOAuth/providers/${providerId}/authorize/${query}`, token, {
      method: 'POST',
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { redirectUrl: string; state: string }).redirectUrl;
  };
  const atCallback = (u: string) => u.startsWith(`${system.base}/api/v2/externalOAuth/providers/callback`);

  it('advertises RFC 9207 at the demo provider (so iss is required from it below)', async () => {
    const metadata = (await (
      await fetch(`${system.idp.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(metadata['authorization_response_iss_parameter_supported']).toBe(true);
  });

  it('starts a browser consent on the broker’s page, which names the account it links to and sets a short-lived, HttpOnly, SameSite=Lax cookie', async () => {
    const browser = new Browser();
    const url = await consentUrl(mallory);
    expect(new URL(url).pathname).toBe('/connect/start');
    const page = await browser.fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Mallory &#60;mallory@evil.test&#62;'); // whose account it would be linked to
    const cookie = page.headers.getSetCookie().find((c) => c.startsWith('broker-consent-')) ?? '';
    // On this http test system the documented fallback name (browsers refuse __Host- without https).
    expect(cookie).toMatch(
      /^broker-consent-[0-9a-f]{16}=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
    );
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });

  it('refuses to link when another browser completes a consent URL someone else started (account-linking CSRF)', async () => {
    // The attacker starts a consent for himself and confirms it in his own browser, to get the provider URL...
    const attacker = new Browser();
    const start = await consentUrl(mallory);
    const page = await attacker.fetch(start);
    const toProvider = await attacker.fetch(`${system.base}/connect/start`, {
      form: consentStartForm(await page.text()) ?? {},
    });
    expect(toProvider.status).toBe(303);
    const providerUrl = toProvider.headers.get('location') ?? '';
    expect(new URL(providerUrl).origin).toBe(system.idp.issuer);
    // ...and sends it to the victim, whose browser signs in at the provider and is sent back to the broker.
    const victim = new Browser();
    const back = await signInAtDemoIdp(providerUrl, 'alice@example.test', atCallback, undefined, victim.jars);
    const refused = await victim.fetch(back.toString());
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await refused.text();
    expect(html).toContain('not started in this browser');
    expect(html).not.toMatch(/<a |href=/); // a clear page, nothing to click through
    expect(await linksOf(mallory)).toBe(0);
    expect(await linksOf(alice)).toBe(0);
    // The attempt spent the state: the attacker cannot finish it with the code either.
    const late = await attacker.fetch(back.toString());
    expect(late.status).toBe(303);
    expect(new URL(late.headers.get('location') ?? '').searchParams.get('status')).toBe('failed');
    expect(await linksOf(mallory)).toBe(0);
  });

  it('refuses a start form posted without this browser’s page cookie (a cross-site auto-submit), or with another value', async () => {
    const start = new URL(await consentUrl(mallory));
    const flow = start.searchParams.get('flow') ?? '';
    const victim = new Browser();
    const blind = await victim.fetch(`${system.base}/connect/start`, {
      form: { flow, nonce: 'A'.repeat(43) },
    });
    expect(blind.status).toBe(403);
    expect(blind.headers.get('location')).toBeNull();
    // Even after the victim's browser was made to load the page, a forged form does not match its cookie.
    await victim.fetch(start.toString());
    const forged = await victim.fetch(`${system.base}/connect/start`, {
      form: { flow, nonce: 'B'.repeat(43) },
    });
    expect(forged.status).toBe(403);
    expect(await linksOf(mallory)).toBe(0);
  });

  it('completes a consent in the browser that started it, once', async () => {
    const browser = new Browser();
    const back = await signInAtDemoIdp(
      await consentUrl(alice, '?state=app-1'),
      'alice@example.test',
      atCallback,
      undefined,
      browser.jars,
    );
    expect(back.searchParams.get('iss')).toBe(system.idp.issuer);
    const done = await browser.fetch(back.toString());
    expect(done.status).toBe(303);
    expect(Object.fromEntries(new URL(done.headers.get('location') ?? '').searchParams)).toMatchObject({
      status: 'connected',
      state: 'app-1',
      providerId,
    });
    expect(await linksOf(alice)).toBe(1);
    // The cookie is cleared and the state spent; a replay of the callback links nothing more.
    expect(browser.jars.get(system.base)?.size ?? 0).toBe(0);
    const replay = await browser.fetch(back.toString());
    expect(new URL(replay.headers.get('location') ?? '').searchParams.get('status')).toBe('failed');
    expect(await linksOf(alice)).toBe(1);
  });

  it('refuses a callback without iss from a provider that advertises RFC 9207, in the browser and through the API', async () => {
    await system.users.upsert('default', { sub: 'ivy', email: 'ivy@example.test' });
    const ivy = (
      (await (
        await system.api('/api/v1/oauth/delegated-token', admin, {
          method: 'POST',
          body: { sub: 'ivy', scopes: ['authorizations:read', 'authorizations:write'] },
        })
      ).json()) as {
        access_token: string;
      }
    ).access_token;
    const browser = new Browser();
    const back = await signInAtDemoIdp(
      await consentUrl(ivy),
      'ivy@example.test',
      atCallback,
      undefined,
      browser.jars,
    );
    back.searchParams.delete('iss');
    const res = await browser.fetch(back.toString());
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location') ?? '').searchParams.get('status')).toBe('failed');
    expect(await linksOf(ivy)).toBe(0);

    const api = await signInAtDemoIdp(await consentUrl(ivy), 'ivy@example.test', atCallback);
    const posted = await system.api('/api/v2/externalOAuth/providers/callback/', ivy, {
      method: 'POST',
      body: { code: api.searchParams.get('code'), state: api.searchParams.get('state'), providerId },
    });
    expect(posted.status).toBe(400);
    expect(await posted.json()).toEqual({ message: expect.stringContaining('RFC 9207'), errorFields: [] });
    expect(await linksOf(ivy)).toBe(0);
  });

  it('gives a stranger who signs in upstream no user and no token under the default policy', async () => {
    const before = (await system.identity.query(`SELECT count(*)::int AS n FROM identity.users`))[0]
      .n as number;
    const { callback } = await system.signIn(app, 'stranger@evil.test', 'openid providers:read');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
    expect((await system.identity.query(`SELECT count(*)::int AS n FROM identity.users`))[0].n).toBe(before);
    expect(
      (await system.identity.query(`SELECT count(*)::int AS n FROM identity.authorization_codes`))[0].n,
    ).toBe(0);
  });

  it('admits an invited person with the client’s scopes ∩ their own, never tokens:delegate without the client flag', async () => {
    await system.users.upsert('default', { sub: 'nina', email: 'nina@example.test' }, [
      'providers:read',
      'tokens:delegate',
      'jobs:write',
    ]);
    const tokens = await system.userTokens(
      app,
      'nina@example.test',
      'openid providers:read authorizations:read tokens:read',
    );
    expect(tokens.scope).toBe('openid providers:read');
    // A code-flow client cannot even be given tokens:delegate without the explicit flag...
    await expect(
      system.createClient({
        orgId: 'default',
        grantTypes: ['authorization_code'],
        scopes: ['tokens:delegate'],
        redirectUris: ['http://127.0.0.1:1/app/callback'],
      }),
    ).rejects.toBeInstanceOf(ClientPolicyError);
    // ...and with it, only a person whose own scopes hold it gets it.
    const delegating = await system.createClient({
      orgId: 'default',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['providers:read', 'tokens:delegate'],
      redirectUris: ['http://127.0.0.1:1/app/callback'],
      allowUserDelegation: true,
    });
    expect((await system.userTokens(delegating, 'nina@example.test', 'openid tokens:delegate')).scope).toBe(
      'openid tokens:delegate',
    );
    expect((await system.userTokens(delegating, 'alice@example.test', 'openid tokens:delegate')).scope).toBe(
      'openid',
    );
  });

  it('shows another org (and another user) nothing: the same status, body and timing as for an id that does not exist', async () => {
    const [aliceLink] = (
      (await (await system.api('/api/v2/externalOAuth/authorizedProviders/', alice)).json()) as {
        data: { id: string }[];
      }
    ).data;
    expect(aliceLink).toBeDefined();
    await system.clients.ensureOrg('rival', 'Rival');
    const rivalAdmin = await system.clientToken(
      await system.createClient({
        orgId: 'rival',
        grantTypes: ['client_credentials'],
        scopes: [
          'providers:read',
          'providers:write',
          'authorizations:read',
          'authorizations:write',
          'tokens:read',
        ],
      }),
    );
    const unknown = '3f2c1d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f';
    const probes: [string, string, (id: string) => string, string, unknown?][] = [
      ['rival org', 'GET', (id) => `/api/v2/externalOAuth/providers/${id}/`, providerId],
      ['rival org', 'PATCH', (id) => `/api/v2/externalOAuth/providers/${id}/`, providerId, { name: 'mine' }],
      ['rival org', 'DELETE', (id) => `/api/v2/externalOAuth/providers/${id}/`, providerId],
      ['rival org', 'POST', (id) => `/api/v2/externalOAuth/providers/${id}/authorize/`, providerId],
      ['rival org', 'GET', (id) => `/api/v2/external-auth/${id}`, providerId],
      ['rival org', 'POST', (id) => `/api/v2/externalOAuth/authorizedProviders/${id}/token/`, aliceLink.id],
      [
        'another user',
        'POST',
        (id) => `/api/v2/externalOAuth/authorizedProviders/${id}/token/`,
        aliceLink.id,
      ],
      [
        'another user',
        'GET',
        (id) => `/api/v2/externalOAuth/authorizedProviders/${id}/userinfo/`,
        aliceLink.id,
      ],
      ['another user', 'DELETE', (id) => `/api/v2/externalOAuth/authorizedProviders/${id}/`, aliceLink.id],
    ];
    for (const [who, method, path, real, body] of probes) {
      const token = who === 'rival org' ? rivalAdmin : mallory;
      const answer = async (id: string) => {
        const res = await system.api(path(id), token, { method, body });
        return { status: res.status, body: await res.text() };
      };
      const [theirs, none] = [await answer(real), await answer(unknown)];
      expect({ who, method, path: path(':id'), ...theirs }).toEqual({
        who,
        method,
        path: path(':id'),
        ...none,
      });
      expect(theirs.status).toBe(404);
    }
    // Timing: interleaved, the real id of another org answers like an unknown one (medians within noise).
    const timed = async (id: string) => {
      const started = process.hrtime.bigint();
      await (await system.api(`/api/v2/externalOAuth/providers/${id}/`, rivalAdmin)).arrayBuffer();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const theirs: number[] = [];
    const none: number[] = [];
    for (let i = 0; i < 40; i++) {
      theirs.push(await timed(providerId));
      none.push(await timed(unknown));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    process.stdout.write(
      `isolation timing: another org's id ${median(theirs).toFixed(2)} ms, unknown id ${median(none).toFixed(2)} ms (medians of 40)\n`,
    );
    expect(Math.abs(median(theirs) - median(none))).toBeLessThan(Math.max(3, 0.5 * median(none)));
    // Still there for its own org.
    expect((await system.api(`/api/v2/externalOAuth/providers/${providerId}/`, admin)).status).toBe(200);
    expect(await linksOf(alice)).toBe(1);
  });

  it('answers invalid_scope to a refresh asking for an ungranted scope, and the refresh token stays usable', async () => {
    await system.users.upsert('default', { sub: 'otto', email: 'otto@example.test' }, [
      'providers:read',
      'authorizations:read',
    ]);
    const tokens = await system.userTokens(app, 'otto@example.test', 'openid providers:read');
    const refresh = (scope?: string) =>
      system.tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: app.clientId,
        client_secret: app.clientSecret,
        ...(scope ? { scope } : {}),
      });
    const wider = await refresh('providers:read authorizations:read');
    expect(wider.status).toBe(400);
    expect(await wider.json()).toMatchObject({ error: 'invalid_scope' });
    // Not a reuse: the same refresh token works, and the family lives on.
    const ok = await refresh();
    expect(ok.status).toBe(200);
    const next = (await ok.json()) as { refresh_token: string; access_token: string };
    const again = await system.tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: next.refresh_token,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    });
    expect(again.status).toBe(200);
  });

  // Last: it removes alice.
  it('unlinks a deleted user’s provider accounts, so no service keeps getting their provider tokens', async () => {
    const before = await system.bus.request(
      'tokens.acquire',
      { userId: 'alice', providerId },
      { auth: admin },
    );
    expect(before.accessToken).toEqual(expect.any(String));
    expect((await system.api('/api/v1/oauth/admin/users/alice', admin, { method: 'DELETE' })).status).toBe(
      204,
    );
    await expect(
      system.bus.request('tokens.acquire', { userId: 'alice', providerId }, { auth: admin }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
