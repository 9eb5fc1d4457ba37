import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createRedisConnection } from '@broker/bus';
import type {
  BrokerEvent,
  ExternalAuth,
  ExternalAuthDevice,
  ExternalAuthLink,
  ListUserExternalAuthResponse,
} from '@broker/contracts';
import { SCOPES, brokerEventsChannel } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA, UsersService } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import {
  approveDeviceAtDemoIdp,
  createTestDatabase,
  signInAtDemoIdp,
  sleep,
  TestDatabase,
} from '@broker/testing';
import { pgDump } from './pg-dump';
import { redisSnapshot } from './redis-snapshot';
import { DemoIdpProcess, ServiceProcess, freePort, genuineEvent } from './service-processes';
import {
  clientCredentialsToken,
  demoProviderSystemEnv,
  startProviderIdp,
  startSystemInto,
} from './system-setup';

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const PROVIDER_SECRET = randomBytes(24).toString('base64url');
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const UNKNOWN_ID = '99999999-9999-4999-8999-999999999999';

/**
 * Seed 001's external-auth surface end to end: the four services as processes, the demo IdP
 * (oidc-provider) as the `oidc` provider of the org (device flow, RFC 7009 revocation) and as an
 * `oauth2` provider without revocation endpoint, users signed in through delegated tokens.
 */
describe('external auth (seed 001)', () => {
  let db: TestDatabase;
  let idp: DemoIdpProcess;
  let base: string;
  let env: Record<string, string>;
  const services: ServiceProcess[] = [];
  /** Processes killed by a test: their output still goes through the canary scan. */
  const retired: ServiceProcess[] = [];
  let admin: string;
  const users: Record<string, string> = {};
  let mallory: string; // a user of another org
  let oidcId: string;
  let plainId: string;
  const seen: string[] = [];
  const events: BrokerEvent[] = [];
  let subscriber: ReturnType<typeof createRedisConnection>;
  let ds: DataSource;

  const api = (
    path: string,
    bearer: string | null,
    init: { method?: string; body?: unknown; raw?: string } = {},
  ) =>
    fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(init.body !== undefined || init.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
  /** The `links` of `GET /api/v2/external-auth` (Coder's `{providers, links}`) for a user's token. */
  const linksOf = async (token: string): Promise<ExternalAuthLink[]> => {
    const res = await api('/api/v2/external-auth', token);
    expect(res.status).toBe(200);
    return (await json<ListUserExternalAuthResponse>(res)).links;
  };
  const hooks = async (path: string, body?: unknown) =>
    (await (
      await fetch(
        `${idp.issuer}/__test/${path}`,
        body === undefined
          ? {}
          : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      )
    ).json()) as Record<string, number>;

  async function delegated(adminToken: string, sub: string): Promise<string> {
    const res = await api('/api/v1/oauth/delegated-token', adminToken, {
      method: 'POST',
      body: { sub, scopes: ['authorizations:read', 'authorizations:write', 'tokens:read'] },
    });
    expect(res.status).toBe(200);
    return (await json<{ access_token: string }>(res)).access_token;
  }

  async function startDevice(user: string): Promise<ExternalAuthDevice> {
    const res = await api(`/api/v2/external-auth/${oidcId}/device`, users[user]);
    expect(res.status).toBe(200);
    const device = await json<ExternalAuthDevice>(res);
    seen.push(device.device_code);
    return device;
  }

  const exchange = (user: string, deviceCode: string) =>
    api(`/api/v2/external-auth/${oidcId}/device`, users[user], {
      method: 'POST',
      body: { device_code: deviceCode },
    });

  /** POSTs the device code until the answer is not `authorization_pending` / `slow_down`. */
  async function exchangeUntilSettled(
    user: string,
    deviceCode: string,
    timeoutMs = 20_000,
  ): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await exchange(user, deviceCode);
      if (res.status !== 400) return res;
      const body = await json<{ message: string }>(res.clone());
      if (!['authorization_pending', 'slow_down'].includes(body.message) || Date.now() > deadline) return res;
      await sleep(500);
    }
  }

  const deviceRecord = async (userId: string) =>
    (
      (await ds.query(
        `SELECT status, interval_seconds, polls, error, authorization_id FROM tokens.device_authorizations WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1`,
        [userId],
      )) as {
        status: string;
        interval_seconds: number;
        polls: number;
        authorization_id: string | null;
      }[]
    )[0];

  beforeAll(async () => {
    db = await createTestDatabase('extauth');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startProviderIdp(
      base,
      {
        clientId: 'broker-provider',
        secret: PROVIDER_SECRET,
        grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
      },
      { DEMO_IDP_DEVICE_INTERVAL: '1', DEMO_IDP_TEST_HOOKS: '1' },
    );
    env = demoProviderSystemEnv(db.url, port, 'extauth', { adminSecret: ADMIN_SECRET, idp });
    await startSystemInto(services, env, port);

    admin = await clientCredentialsToken(base, 'admin', ADMIN_SECRET);
    ds = await new DataSource(domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-extauth')).initialize();
    const people = new UsersService(ds);
    for (const sub of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      await people.upsert('default', { sub, email: `${sub}@example.test` });
      users[sub] = await delegated(admin, sub);
    }
    // Another org with its own admin client and user.
    const clients = new ClientsService(ds, new KeyedHasher(Buffer.from(env['SECRET_PEPPER'], 'base64')));
    await clients.ensureOrg('other', 'Other org');
    const otherAdmin = await clients.createClient({
      orgId: 'other',
      name: 'other admin',
      grantTypes: ['client_credentials'],
      scopes: [...SCOPES],
    });
    await people.upsert('other', { sub: 'mallory', email: 'mallory@example.test' });
    const otherToken = await clientCredentialsToken(base, otherAdmin.clientId, otherAdmin.clientSecret);
    mallory = await delegated(otherToken, 'mallory');

    const oidc = await api('/api/v2/externalOAuth/providers/', admin, {
      method: 'POST',
      body: {
        type: 'oidc',
        name: 'Demo IdP',
        clientId: 'broker-provider',
        clientSecret: PROVIDER_SECRET,
        issuer: idp.issuer,
      },
    });
    expect(oidc.status).toBe(201);
    oidcId = (await json<{ id: string }>(oidc)).id;
    const plain = await api('/api/v2/externalOAuth/providers/', admin, {
      method: 'POST',
      body: {
        type: 'oauth2',
        name: 'Plain OAuth',
        clientId: 'broker-provider',
        clientSecret: PROVIDER_SECRET,
        scopes: ['openid', 'email', 'profile'],
        endpoints: {
          authorizationUrl: `${idp.issuer}/auth`,
          tokenUrl: `${idp.issuer}/token`,
          userinfoUrl: `${idp.issuer}/me`,
        },
      },
    });
    expect(plain.status).toBe(201);
    plainId = (await json<{ id: string }>(plain)).id;

    subscriber = createRedisConnection(env['REDIS_URL'], 'e2e-extauth-events', {});
    await subscriber.subscribe(brokerEventsChannel(env['BUS_PREFIX']));
    subscriber.on('message', (_c: string, m: string) => {
      const event = genuineEvent(env, m);
      if (event) events.push(event);
    });
  }, 120_000);

  afterAll(async () => {
    await subscriber?.quit();
    await ds?.destroy();
    await Promise.all(services.map((s) => s.stop()));
    await idp?.stop();
    await db?.drop();
  });

  it('answers 401 in the codersdk.Response shape without a bearer token, on every operation', async () => {
    const calls: [string, string][] = [
      ['GET', '/api/v2/external-auth'],
      ['GET', `/api/v2/external-auth/${oidcId}`],
      ['DELETE', `/api/v2/external-auth/${oidcId}`],
      ['GET', `/api/v2/external-auth/${oidcId}/device`],
      ['POST', `/api/v2/external-auth/${oidcId}/device`],
    ];
    for (const [method, path] of calls) {
      const res = await api(path, null, {
        method,
        ...(method === 'POST' ? { body: { device_code: 'x' } } : {}),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await res.json()).toEqual({ message: expect.any(String) });
    }
    const garbage = await api('/api/v2/external-auth', 'not-a-token');
    expect(garbage.status).toBe(401);
  });

  it('shows a provider before linking: not authenticated, device flow and revocation supported, no user, no installations', async () => {
    const res = await api(`/api/v2/external-auth/${oidcId}`, users['alice']);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      authenticated: false,
      device: true,
      display_name: 'Demo IdP',
      supports_revocation: true,
      user: null,
      installations: [],
      app_install_url: '',
      app_installable: false,
    } satisfies ExternalAuth);
    const list = await api('/api/v2/external-auth', users['alice']);
    expect(list.status).toBe(200);
    const listed = await json<ListUserExternalAuthResponse>(list);
    expect(listed.links).toEqual([]);
    // The org's providers the user can link, with what each supports (Coder's ExternalAuthLinkProvider).
    expect(listed.providers.find((p) => p.id === oidcId)).toEqual({
      id: oidcId,
      type: 'oidc',
      device: true,
      display_name: 'Demo IdP',
      display_icon: '',
      allow_refresh: true,
      allow_validate: true,
      supports_revocation: true,
      code_challenge_methods_supported: ['S256'],
    });
    expect(listed.providers.find((p) => p.id === plainId)).toMatchObject({
      type: 'oauth2',
      device: false,
      supports_revocation: false,
      allow_validate: true,
    });
  });

  it('answers 404 for an unknown provider id, a non-UUID, or a provider of another org; 400 with validations for a bad device body', async () => {
    for (const path of [
      `/api/v2/external-auth/${UNKNOWN_ID}`,
      '/api/v2/external-auth/github',
      `/api/v2/external-auth/${UNKNOWN_ID}/device`,
    ]) {
      const res = await api(path, users['alice']);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ message: 'External auth provider not found.' });
    }
    // Another org's user learns nothing of this org's providers.
    for (const [method, path] of [
      ['GET', `/api/v2/external-auth/${oidcId}`],
      ['DELETE', `/api/v2/external-auth/${oidcId}`],
      ['GET', `/api/v2/external-auth/${oidcId}/device`],
    ]) {
      const res = await api(path, mallory, { method });
      expect(res.status).toBe(404);
    }
    expect(await json<ListUserExternalAuthResponse>(await api('/api/v2/external-auth', mallory))).toEqual({
      providers: [],
      links: [],
    });

    const cases: [unknown, string | undefined][] = [
      [{}, 'device_code'],
      [{ device_code: '' }, 'device_code'],
      [{ device_code: 42 }, 'device_code'],
      [{ device_code: 'x', extra: 1 }, 'body'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await api(`/api/v2/external-auth/${oidcId}/device`, users['alice'], {
        method: 'POST',
        body,
      });
      expect(res.status).toBe(400);
      const answer = await json<{ message: string; validations: { field: string; detail: string }[] }>(res);
      expect(answer.message).toBe('Invalid request body.');
      expect(answer.validations.length).toBeGreaterThan(0);
      if (field !== 'body') expect(answer.validations[0].field).toBe(field);
    }
    const malformed = await api(`/api/v2/external-auth/${oidcId}/device`, users['alice'], {
      method: 'POST',
      raw: '{"device_code":',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ message: 'The body is not valid JSON.' });
    const noRoute = await api(`/api/v2/external-auth/${oidcId}/nope`, users['alice']);
    expect(noRoute.status).toBe(404);
    expect(await noRoute.json()).toEqual({ message: expect.any(String) });
    const unknownCode = await exchange('alice', 'no-such-device-code');
    expect(unknownCode.status).toBe(404);
    expect(await unknownCode.json()).toEqual({ message: expect.stringContaining('No device authorization') });
  });

  let aliceAuthorizationId: string;

  it('links through the device flow: pending until approved at the provider, then 204; the link is listed, validated and serves tokens', async () => {
    await hooks('reset', {});
    const device = await startDevice('alice');
    expect(device).toEqual({
      device_code: expect.any(String),
      user_code: expect.any(String),
      verification_uri: `${idp.issuer}/device`,
      expires_in: expect.any(Number),
      interval: 1,
    });
    expect(device.expires_in).toBeGreaterThan(60);
    const pending = await exchange('alice', device.device_code);
    expect(pending.status).toBe(400);
    expect(await pending.json()).toEqual({ message: 'authorization_pending', detail: expect.any(String) });
    // Another user of the org cannot use alice's device code.
    expect((await exchange('bob', device.device_code)).status).toBe(404);

    const page = await approveDeviceAtDemoIdp(
      device.verification_uri,
      device.user_code,
      'alice@example.test',
    );
    expect(page).toContain('Device connected');
    const done = await exchangeUntilSettled('alice', device.device_code);
    expect(done.status).toBe(204);
    expect(await done.text()).toBe('');
    expect((await exchange('alice', device.device_code)).status).toBe(204); // stays linked

    const counted = await hooks('events');
    expect(counted).toMatchObject({
      'device_authorization.success': 1,
      'device_code.consumed': 1,
      'grant.success.device_code': 1,
    });
    const record = await deviceRecord('alice');
    expect(record).toMatchObject({
      status: 'authorized',
      interval_seconds: 1,
      authorization_id: expect.any(String),
    });
    aliceAuthorizationId = record.authorization_id as string;
    await sleep(200);
    expect(
      events.some(
        (e) =>
          e.type === 'authorization.created' &&
          e.authorizationId === aliceAuthorizationId &&
          e.userId === 'alice' &&
          e.providerId === oidcId,
      ),
    ).toBe(true);

    const links = await linksOf(users['alice']);
    expect(links).toEqual([
      {
        provider_id: oidcId,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        has_refresh_token: true,
        expires: expect.any(String),
        authenticated: true,
        validate_error: '',
      },
    ]);
    expect(new Date(links[0].expires).getTime()).toBeGreaterThan(Date.now());
    const shown = await json<ExternalAuth>(await api(`/api/v2/external-auth/${oidcId}`, users['alice']));
    expect(shown).toMatchObject({
      authenticated: true,
      device: true,
      supports_revocation: true,
      user: { id: 0, login: 'alice@example.test', avatar_url: '', profile_url: '', name: expect.any(String) },
    });

    // Bob sees none of it.
    expect(await linksOf(users['bob'])).toEqual([]);
    expect(
      await json<ExternalAuth>(await api(`/api/v2/external-auth/${oidcId}`, users['bob'])),
    ).toMatchObject({ authenticated: false, user: null });
    expect((await api(`/api/v2/external-auth/${oidcId}`, users['bob'], { method: 'DELETE' })).status).toBe(
      404,
    );

    // The linked account serves tokens like any other authorization.
    const token = await api(
      `/api/v2/externalOAuth/authorizedProviders/${aliceAuthorizationId}/token/`,
      users['alice'],
      { method: 'POST' },
    );
    expect(token.status).toBe(201);
    const served = await json<{
      accessToken: string;
      authorizedOauthProvider: { id: string; provider: { id: string } };
    }>(token);
    expect(served.authorizedOauthProvider).toMatchObject({
      id: aliceAuthorizationId,
      provider: { id: oidcId },
    });
    seen.push(served.accessToken);
  }, 60_000);

  it('slow_down: the poller adds 5 s to the interval, keeps it, and still completes', async () => {
    await hooks('reset', {});
    await hooks('faults', { tokenErrorBody: { error: 'slow_down' }, count: 1 });
    const device = await startDevice('dave');
    const started = Date.now();
    // The first poll (after 1 s) gets slow_down; the next one waits 6 s.
    const deadline = started + 10_000;
    while (((await hooks('events'))['faults.token_error_body'] ?? 0) < 1 && Date.now() < deadline)
      await sleep(100);
    const slowed = await hooks('events');
    expect(slowed['faults.token_error_body']).toBe(1);
    await sleep(300);
    expect(await deviceRecord('dave')).toMatchObject({ status: 'pending', interval_seconds: 6 });
    const told = await exchange('dave', device.device_code);
    expect(told.status).toBe(400);
    expect(await told.json()).toEqual({ message: 'slow_down', detail: expect.stringContaining('6 s') });
    await approveDeviceAtDemoIdp(device.verification_uri, device.user_code, 'dave@example.test');
    // At a 1 s interval it would have polled ~3 more times by now; at 6 s, not once.
    await sleep(Math.max(0, started + 4_500 - Date.now()));
    expect((await hooks('events'))['token_requests.device_code']).toBe(slowed['token_requests.device_code']);
    const done = await exchangeUntilSettled('dave', device.device_code, 15_000);
    expect(done.status).toBe(204);
    expect(await deviceRecord('dave')).toMatchObject({ status: 'authorized', interval_seconds: 6 });
    const counted = await hooks('events');
    expect(counted['token_requests.device_code']).toBe(2); // slow_down, then the approved poll
    expect(counted['grant.success.device_code']).toBe(1);
  }, 40_000);

  it('access_denied: the user cancels at the provider; the record is denied, POST says so, nothing is linked', async () => {
    await hooks('reset', {});
    const device = await startDevice('carol');
    await approveDeviceAtDemoIdp(device.verification_uri, device.user_code, 'carol@example.test', {
      deny: true,
    });
    const res = await exchangeUntilSettled('carol', device.device_code);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'access_denied', detail: expect.any(String) });
    expect(await deviceRecord('carol')).toMatchObject({ status: 'denied', authorization_id: null });
    expect(await linksOf(users['carol'])).toEqual([]);
    expect(await ds.query(`SELECT 1 FROM tokens.authorizations WHERE user_id = 'carol'`)).toEqual([]);
    // The poller stopped: no more polls of that code.
    const polls = (await hooks('events'))['token_requests.device_code'];
    await sleep(2_500);
    expect((await hooks('events'))['token_requests.device_code']).toBe(polls);
  }, 40_000);

  it('access_denied injected at the token endpoint ends the flow the same way', async () => {
    await hooks('reset', {});
    await hooks('faults', { tokenErrorBody: { error: 'access_denied' }, count: 1 });
    const device = await startDevice('carol');
    const res = await exchangeUntilSettled('carol', device.device_code);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: 'access_denied' });
    expect(await ds.query(`SELECT 1 FROM tokens.authorizations WHERE user_id = 'carol'`)).toEqual([]);
  }, 30_000);

  it('a worker killed while a poller waits: a new worker picks the job up and the flow completes', async () => {
    const device = await startDevice('erin');
    const index = services.findIndex((s) => s.app === 'worker');
    await services[index].kill();
    retired.push(services[index]);
    await approveDeviceAtDemoIdp(device.verification_uri, device.user_code, 'erin@example.test');
    await sleep(1_500);
    expect(await deviceRecord('erin')).toMatchObject({ status: 'pending' }); // nobody polls meanwhile
    services[index] = new ServiceProcess('worker', await freePort(), env).start();
    await services[index].ready();
    const done = await exchangeUntilSettled('erin', device.device_code, 70_000);
    expect(done.status).toBe(204);
    expect(await linksOf(users['erin'])).toMatchObject([{ provider_id: oidcId, authenticated: true }]);
  }, 90_000);

  it('a provider without device flow or revocation API: GET device is refused (400), DELETE reports the revocation as unsupported', async () => {
    const shown = await json<ExternalAuth>(await api(`/api/v2/external-auth/${plainId}`, users['alice']));
    expect(shown).toMatchObject({
      authenticated: false,
      device: false,
      supports_revocation: false,
      display_name: 'Plain OAuth',
      user: null,
    });
    const device = await api(`/api/v2/external-auth/${plainId}/device`, users['alice']);
    expect(device.status).toBe(400);
    expect(await device.json()).toEqual({
      message: expect.stringContaining('does not support the device flow'),
    });

    // Link alice through the consent flow (authorization code + PKCE).
    const start = await api(`/api/v2/externalOAuth/providers/${plainId}/authorize/`, users['alice'], {
      method: 'POST',
    });
    expect(start.status).toBe(200);
    const { redirectUrl } = await json<{ redirectUrl: string }>(start);
    const back = await signInAtDemoIdp(redirectUrl, 'alice@example.test', (u) =>
      u.startsWith(`${base}/api/v2/externalOAuth/providers/callback`),
    );
    seen.push(back.searchParams.get('code') ?? '');
    const callback = await api('/api/v2/externalOAuth/providers/callback/', users['alice'], {
      method: 'POST',
      body: {
        code: back.searchParams.get('code'),
        state: back.searchParams.get('state'),
        providerId: plainId,
      },
    });
    expect(callback.status).toBe(200);
    expect(
      await json<ExternalAuth>(await api(`/api/v2/external-auth/${plainId}`, users['alice'])),
    ).toMatchObject({ authenticated: true, user: { login: 'alice@example.test' } });
    expect((await linksOf(users['alice'])).map((l) => l.provider_id).sort()).toEqual(
      [oidcId, plainId].sort(),
    );

    await hooks('reset', {});
    const removed = await api(`/api/v2/external-auth/${plainId}`, users['alice'], { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({
      token_revoked: false,
      token_revocation_error: expect.stringMatching(/not supported/),
    });
    expect((await hooks('events'))['revocation_requests'] ?? 0).toBe(0); // nothing was sent
    expect((await linksOf(users['alice'])).map((l) => l.provider_id)).toEqual([oidcId]);
  }, 40_000);

  it('unlinks with revocation at a provider that supports it: token_revoked true, the provider reports the grant revoked, the link is gone', async () => {
    await hooks('reset', {});
    const res = await api(`/api/v2/external-auth/${oidcId}`, users['alice'], { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token_revoked: true, token_revocation_error: '' });
    const counted = await hooks('events');
    expect(counted['revocation.success']).toBe(1);
    expect(counted['grant.revoked']).toBe(1);
    expect(await linksOf(users['alice'])).toEqual([]);
    expect(
      await json<ExternalAuth>(await api(`/api/v2/external-auth/${oidcId}`, users['alice'])),
    ).toMatchObject({ authenticated: false, user: null });
    expect(
      (
        await api(
          `/api/v2/externalOAuth/authorizedProviders/${aliceAuthorizationId}/token/`,
          users['alice'],
          { method: 'POST' },
        )
      ).status,
    ).toBe(404);
    expect((await api(`/api/v2/external-auth/${oidcId}`, users['alice'], { method: 'DELETE' })).status).toBe(
      404,
    );
    await sleep(200);
    expect(
      events.some((e) => e.type === 'authorization.revoked' && e.authorizationId === aliceAuthorizationId),
    ).toBe(true);
    const audit = (await ds.query(
      `SELECT type, detail FROM tokens.audit_events WHERE authorization_id = $1`,
      [aliceAuthorizationId],
    )) as { type: string; detail: string }[];
    expect(audit).toContainEqual({ type: 'unlinked', detail: 'revoked at the provider' });
  });

  it('reports the provider’s validation error when the provider no longer accepts the token', async () => {
    expect(await linksOf(users['dave'])).toMatchObject([{ provider_id: oidcId, authenticated: true }]);
    await hooks('revoke-grants', {}); // the user revoked the app at the provider
    const links = await linksOf(users['dave']);
    expect(links).toEqual([
      expect.objectContaining({
        provider_id: oidcId,
        authenticated: false,
        validate_error: expect.any(String),
      }),
    ]);
    expect(links[0].validate_error).not.toBe('');
    expect(
      await json<ExternalAuth>(await api(`/api/v2/external-auth/${oidcId}`, users['dave'])),
    ).toMatchObject({ authenticated: false });
  });

  it('keeps device codes, codes and tokens out of the logs, the Redis keys and job data, and the database dump', async () => {
    const secrets = seen.filter((s) => s.length > 8);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const logs = [...services, ...retired].map((s) => s.output.join('')).join('') + idp.output.join('');
    const redis = await redisSnapshot(env['REDIS_URL'], env['BUS_PREFIX']);
    expect(redis).toContain('POLL_DEVICE_AUTHORIZATION'); // the poller jobs are there: the scan is real
    const dump = pgDump(db.url);
    expect(dump).toContain('device_authorizations');
    for (const secret of [...secrets, PROVIDER_SECRET]) {
      expect(logs).not.toContain(secret);
      expect(redis).not.toContain(secret);
      expect(dump).not.toContain(secret);
    }
  });
});
