import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import * as oidc from 'openid-client';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA, UsersService } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, signInAtDemoIdp, TestDatabase } from '@broker/testing';
import { SeedChecker, loadSeed } from './seed-conformance';
import { DemoIdpProcess, ServiceProcess, freePort, systemEnv } from './service-processes';

/** Operations and schemas of seed 003, the `tz` enum included (see the fixture's `source`). */
const SEED = loadSeed('seed-003-api.json');
const TIME_ZONES = (SEED.schemas['TokenRequest']['properties'] as { tz: { enum: string[]; default: string } })
  .tz;

const PEPPER = randomBytes(32).toString('base64');
const ADMIN_SECRET = randomBytes(32).toString('base64url');
const UPSTREAM_SECRET = randomBytes(24).toString('base64url');
const APP_REDIRECT = 'http://127.0.0.1:1/app/callback';
const TOKEN = '/api/v1/oauth/token';
const USERINFO = '/api/v1/oauth/userinfo';
const DELEGATED = '/api/v1/oauth/delegated-token';
const PRINCIPAL = '/api/v1/oauth/principal-token';

/** Documented statuses no input can produce here, and why. */
const UNREACHABLE: Record<string, string> = {
  'GET /api/v1/oauth/userinfo 422':
    'no parameter and no body: the caller token is checked by authentication (401), nothing is left to validate',
  'GET /api/v1/oauth/principal-token 422':
    'no parameter and no body: the caller token is checked by authentication (401), nothing is left to validate',
};

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

/**
 * Seed 003 field for field: the token endpoint's three grants, userinfo, principal-token and
 * delegated-token with valid input and every documented error, every body checked strictly against
 * the seed's schemas; and every `tz` the seed lists accepted and carried into the token.
 */
describe('seed 003 conformance', () => {
  // The token endpoint leaves out an absent refresh or ID token (RFC 6749 clients refuse null there);
  // principal-token and delegated-token send every field, null where there is none.
  const seed = new SeedChecker(SEED, {
    optionalIn: { [`POST ${TOKEN}`]: { TokenResponse: ['refresh_token', 'id_token'] } },
  });
  let db: TestDatabase;
  let idp: DemoIdpProcess;
  let base: string;
  const services: ServiceProcess[] = [];
  let app: { clientId: string; clientSecret: string };
  let admin: string;
  /** The person signed in through the code flow (a user of the org, for delegation). */
  let personSub: string;

  const form = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
    });
  const json = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    db = await createTestDatabase('seed003');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = new DemoIdpProcess(await freePort(), UPSTREAM_SECRET, [`${base}/api/v1/oauth/upstream/callback`]);
    await idp.start();
    const env = systemEnv(db.url, port, 'seed003', {
      SECRET_PEPPER: PEPPER,
      BOOTSTRAP_CLIENT_SECRET: ADMIN_SECRET,
      // Every tz of the seed is one token request: room for all of them.
      TOKEN_RATE_LIMIT_PER_IP: '5000',
      TOKEN_RATE_LIMIT_PER_CLIENT: '5000',
      ...idp.upstreamEnv(),
    });
    services.push(new ServiceProcess('token-broker', await freePort(), env).start());
    await services[0].ready();
    services.push(
      new ServiceProcess('gateway', port, env).start(),
      new ServiceProcess('provider-registry', await freePort(), env).start(),
    );
    await Promise.all(services.map((s) => s.ready()));
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-seed003'),
    ).initialize();
    try {
      app = await new ClientsService(ds, new KeyedHasher(Buffer.from(PEPPER, 'base64'))).createClient({
        orgId: 'default',
        name: 'web app',
        scopes: ['providers:read', 'tokens:read'],
        grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
        redirectUris: [APP_REDIRECT],
      });
      // Only invited people may sign in (the default sign-in policy): invite the person, with what they may do.
      await new UsersService(ds).upsert('default', { sub: 'tz-person', email: 'tz@example.test' }, [
        'providers:read',
        'tokens:read',
      ]);
    } finally {
      await ds.destroy();
    }
    admin = (
      (await (await form({ grant_type: 'client_credentials' }, basic('admin', ADMIN_SECRET))).json()) as {
        access_token: string;
      }
    ).access_token;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await idp?.stop();
    await db?.drop();
  });

  it('transcribes the seed’s four operations and its 599 tz values (default Europe/Oslo)', () => {
    expect(SEED.operations.map((o) => `${o.method} ${o.path}`)).toEqual([
      `POST ${TOKEN}`,
      `GET ${USERINFO}`,
      `POST ${DELEGATED}`,
      `GET ${PRINCIPAL}`,
    ]);
    expect(TIME_ZONES.enum).toHaveLength(599);
    expect(TIME_ZONES.enum).toEqual(
      expect.arrayContaining(['Asia/Kolkata', 'Europe/Kyiv', 'US/Eastern', 'Etc/GMT+5', 'CET', 'localtime']),
    );
    expect(TIME_ZONES.default).toBe('Europe/Oslo');
  });

  it('client_credentials: TokenResponse with no refresh or ID token (left out: RFC 6749 clients refuse null), the seed’s default tz applied', async () => {
    for (const res of [
      await form({ grant_type: 'client_credentials' }, basic(app.clientId, app.clientSecret)),
      await json(TOKEN, {
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: app.clientSecret,
      }),
    ]) {
      const token = (await seed.conform('POST', TOKEN, res)) as Record<string, unknown>;
      expect(Object.keys(token)).toEqual(['access_token', 'token_type', 'expires_in', 'scope']);
      expect(token).toMatchObject({ token_type: 'Bearer', scope: 'providers:read tokens:read' });
      expect(claimsOf(String(token['access_token']))['zoneinfo']).toBe('Europe/Oslo');
    }
    // An OAuth client library takes it as it is.
    const config = await oidc.discovery(
      new URL(base),
      app.clientId,
      {},
      oidc.ClientSecretBasic(app.clientSecret),
      { execute: [oidc.allowInsecureRequests] },
    );
    expect(await oidc.clientCredentialsGrant(config)).toMatchObject({
      token_type: 'bearer',
      scope: 'providers:read tokens:read',
    });
  });

  it('accepts every tz value the seed lists and carries it into the token', async () => {
    const refused: string[] = [];
    const wrong: string[] = [];
    const queue = [...TIME_ZONES.enum];
    // Eight at a time: 599 sequential requests would only be slower.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let tz = queue.shift(); tz !== undefined; tz = queue.shift()) {
          const res = await form(
            { grant_type: 'client_credentials', tz },
            basic(app.clientId, app.clientSecret),
          );
          if (res.status !== 200) {
            refused.push(`${tz}: ${res.status}`);
            continue;
          }
          const zone = claimsOf(((await res.json()) as { access_token: string }).access_token)['zoneinfo'];
          // `localtime` is the server's own zone (a real zone name, never the word itself).
          if (
            tz === 'localtime' ? typeof zone !== 'string' || zone === 'localtime' || zone === '' : zone !== tz
          )
            wrong.push(`${tz} → ${String(zone)}`);
        }
      }),
    );
    expect(refused).toEqual([]);
    expect(wrong).toEqual([]);
  }, 120_000);

  it('answers 422 in the seed’s shape for a tz it does not list, an empty one, a missing grant_type, wrong types and a body that is not JSON', async () => {
    const cases: [Response, string[]][] = [
      [
        await form(
          { grant_type: 'client_credentials', tz: 'Mars/Olympus_Mons' },
          basic(app.clientId, app.clientSecret),
        ),
        ['body.tz'],
      ],
      [
        await form({ grant_type: 'client_credentials', tz: '' }, basic(app.clientId, app.clientSecret)),
        ['body.tz'],
      ],
      [await json(TOKEN, { client_id: 42, tz: 'Europe/Oslo' }), ['body.client_id', 'body.grant_type']],
      [await json(TOKEN, '{"grant_type": "client_credentials", '), ['body']],
    ];
    for (const [res, locs] of cases) {
      const body = (await seed.conform('POST', TOKEN, res)) as { detail: { loc: (string | number)[] }[] };
      expect(res.status).toBe(422);
      expect(body.detail.map((d) => d.loc.join('.')).sort()).toEqual(locs);
    }
    // What the parser saw is not quoted back.
    const quoted = await json(TOKEN, '{"grant_type": "sekrit-value');
    expect(await quoted.text()).not.toContain('sekrit');
    // RFC 6749 errors of the grant itself keep the OAuth shape (documented extensions).
    await seed.conform(
      'POST',
      TOKEN,
      await form({ grant_type: 'client_credentials' }, basic(app.clientId, 'wrong-secret')),
    );
    await seed.conform(
      'POST',
      TOKEN,
      await form({ grant_type: 'password' }, basic(app.clientId, app.clientSecret)),
    );
  });

  it('authorization_code and refresh_token: tz honoured on both grants, refresh and ID tokens present', async () => {
    const config = await oidc.discovery(
      new URL(base),
      app.clientId,
      { id_token_signed_response_alg: 'ES256' },
      oidc.ClientSecretPost(app.clientSecret),
      { execute: [oidc.allowInsecureRequests] },
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: APP_REDIRECT,
      scope: 'openid providers:read',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const back = await signInAtDemoIdp(url.toString(), 'tz@example.test', (u) => u.startsWith(APP_REDIRECT));
    const code = back.searchParams.get('code') ?? '';
    const exchanged = (await seed.conform(
      'POST',
      TOKEN,
      await form(
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: APP_REDIRECT,
          code_verifier: verifier,
          tz: 'Asia/Kolkata',
        },
        basic(app.clientId, app.clientSecret),
      ),
    )) as { access_token: string; refresh_token: string; id_token: string };
    expect(exchanged).toMatchObject({ refresh_token: expect.any(String), id_token: expect.any(String) });
    expect(claimsOf(exchanged.access_token)['zoneinfo']).toBe('Asia/Kolkata');
    expect(claimsOf(exchanged.id_token)['zoneinfo']).toBe('Asia/Kolkata');

    const refreshed = (await seed.conform(
      'POST',
      TOKEN,
      await form(
        { grant_type: 'refresh_token', refresh_token: exchanged.refresh_token, tz: 'US/Eastern' },
        basic(app.clientId, app.clientSecret),
      ),
    )) as { access_token: string; refresh_token: string; id_token: string | null };
    expect(claimsOf(refreshed.access_token)['zoneinfo']).toBe('US/Eastern');
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    // Without tz, the default applies (this person's sign-in named no zone).
    const again = (await seed.conform(
      'POST',
      TOKEN,
      await form(
        { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token },
        basic(app.clientId, app.clientSecret),
      ),
    )) as {
      access_token: string;
    };
    expect(claimsOf(again.access_token)['zoneinfo']).toBe('Europe/Oslo');

    // userinfo and principal-token for this person.
    const user = (await seed.conform(
      'GET',
      USERINFO,
      await fetch(`${base}${USERINFO}`, { headers: bearer(again.access_token) }),
    )) as Record<string, unknown>;
    expect(user).toMatchObject({ email: 'tz@example.test', given_name: 'Ada', name: 'Ada Lovelace' });
    personSub = String(user['sub']);
    const principal = (await seed.conform(
      'GET',
      PRINCIPAL,
      await fetch(`${base}${PRINCIPAL}`, { headers: bearer(again.access_token) }),
    )) as Record<string, unknown>;
    expect(principal).toMatchObject({ token_type: 'Bearer', refresh_token: null, id_token: null });
  });

  it('userinfo, principal-token and delegated-token: success, 422 and the authentication errors', async () => {
    const serviceUser = (await seed.conform(
      'GET',
      USERINFO,
      await fetch(`${base}${USERINFO}`, { headers: bearer(admin) }),
    )) as Record<string, unknown>;
    expect(serviceUser).toEqual({
      sub: 'admin',
      given_name: null,
      family_name: null,
      email: null,
      registered_at: expect.any(String),
      name: expect.any(String),
    });
    await seed.conform('GET', USERINFO, await fetch(`${base}${USERINFO}`));
    await seed.conform('GET', PRINCIPAL, await fetch(`${base}${PRINCIPAL}`, { headers: bearer(admin) }));
    await seed.conform(
      'GET',
      PRINCIPAL,
      await fetch(`${base}${PRINCIPAL}`, { headers: { 'refreshed-token': 'not-a-token' } }),
    );

    const delegated = (await seed.conform(
      'POST',
      DELEGATED,
      await json(DELEGATED, { sub: personSub, scopes: ['providers:read'], team_id: null }, bearer(admin)),
    )) as { access_token: string };
    expect(delegated).toMatchObject({ scope: 'providers:read', refresh_token: null, id_token: null });
    expect(claimsOf(delegated.access_token)).toMatchObject({ sub: personSub, act: { sub: 'admin' } });
    await seed.conform('POST', DELEGATED, await json(DELEGATED, { sub: 'nobody-here' }, bearer(admin)));
    await seed.conform('POST', DELEGATED, await json(DELEGATED, { scopes: ['tokens:read'] }, bearer(admin)));
    await seed.conform('POST', DELEGATED, await json(DELEGATED, '{"sub": ', bearer(admin)));
    await seed.conform('POST', DELEGATED, await json(DELEGATED, { sub: 'admin' }));
    const narrow = (
      (await (
        await form({ grant_type: 'client_credentials', scope: 'tokens:read' }, basic('admin', ADMIN_SECRET))
      ).json()) as { access_token: string }
    ).access_token;
    await seed.conform('POST', DELEGATED, await json(DELEGATED, { sub: 'someone' }, bearer(narrow)));
  });

  it('walked every documented status of every operation', () => {
    expect(seed.notWalked(UNREACHABLE)).toEqual([]);
  });
});
