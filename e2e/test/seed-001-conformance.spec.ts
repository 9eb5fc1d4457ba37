import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { IDENTITY_SCHEMA, UsersService } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { approveDeviceAtDemoIdp, createTestDatabase, sleep, TestDatabase } from '@broker/testing';
import { SeedChecker, loadSeed } from './seed-conformance';
import { DemoIdpProcess, ServiceProcess, freePort } from './service-processes';
import {
  clientCredentialsToken,
  demoProviderSystemEnv,
  startProviderIdp,
  startSystemInto,
} from './system-setup';

/** Operations of seed 001 and the codersdk schemas they name (see the fixture's `source`). */
const SEED = loadSeed('seed-001-api.json');

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const PROVIDER_SECRET = randomBytes(24).toString('base64url');
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const UNKNOWN = '99999999-9999-4999-8999-999999999999';
const LIST = '/api/v2/external-auth';
const ONE = '/api/v2/external-auth/{externalauth}';
const DEVICE = '/api/v2/external-auth/{externalauth}/device';

/**
 * Seed 001 (Coder's external-auth API) field for field: every operation with valid input and the
 * error answers Coder gives (codersdk.Response), every body checked strictly against the codersdk
 * schema; the session token sent as Coder's clients send it (header, cookie) as well as a bearer.
 */
describe('seed 001 conformance', () => {
  const seed = new SeedChecker(SEED, {
    // Coder's `user` is a pointer (null before linking); Response's detail and validations are omitempty.
    nullable: { 'codersdk.ExternalAuth': ['user'] },
    optional: { 'codersdk.Response': ['detail', 'validations'] },
  });
  let db: TestDatabase;
  let idp: DemoIdpProcess;
  let base: string;
  const services: ServiceProcess[] = [];
  let admin: string;
  let user: string;
  let oidcId: string;
  let plainId: string;
  let githubId: string;

  type Auth = { bearer?: string; coderHeader?: string; cookie?: string; xRequestedWith?: boolean } | null;
  const call = (method: string, path: string, auth: Auth, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(auth?.bearer ? { authorization: `Bearer ${auth.bearer}` } : {}),
        ...(auth?.coderHeader ? { 'Coder-Session-Token': auth.coderHeader } : {}),
        ...(auth?.cookie ? { cookie: `other=1; coder_session_token=${auth.cookie}` } : {}),
        ...(auth?.xRequestedWith ? { 'x-requested-with': 'XMLHttpRequest' } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const asUser = (): Auth => ({ coderHeader: user });
  const rest = (method: string, path: string, body?: unknown) =>
    fetch(`${base}/api/v2/externalOAuth${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    db = await createTestDatabase('seed001');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startProviderIdp(
      base,
      {
        clientId: 'seed001',
        secret: PROVIDER_SECRET,
        grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
      },
      { DEMO_IDP_DEVICE_INTERVAL: '1' },
    );
    const env = demoProviderSystemEnv(db.url, port, 'seed001', { adminSecret: ADMIN_SECRET, idp });
    await startSystemInto(services, env, port);
    admin = await clientCredentialsToken(base, 'admin', ADMIN_SECRET);
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-seed001'),
    ).initialize();
    await new UsersService(ds).upsert('default', { sub: 'una', email: 'una@example.test' });
    await ds.destroy();
    const delegated = await fetch(`${base}/api/v1/oauth/delegated-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sub: 'una',
        scopes: ['authorizations:read', 'authorizations:write', 'tokens:read'],
      }),
    });
    user = ((await delegated.json()) as { access_token: string }).access_token;
    oidcId = (
      (await (
        await rest('POST', '/providers/', {
          type: 'oidc',
          name: 'Demo IdP',
          clientId: 'seed001',
          clientSecret: PROVIDER_SECRET,
          issuer: idp.issuer,
        })
      ).json()) as { id: string }
    ).id;
    plainId = (
      (await (
        await rest('POST', '/providers/', {
          type: 'oauth2',
          name: 'Plain',
          clientId: 'seed001',
          clientSecret: PROVIDER_SECRET,
          endpoints: {
            authorizationUrl: `${idp.issuer}/auth`,
            tokenUrl: `${idp.issuer}/token`,
            userinfoUrl: `${idp.issuer}/me`,
          },
        })
      ).json()) as { id: string }
    ).id;
    const github = await rest('POST', '/providers/', {
      type: 'github',
      name: 'GitHub',
      clientId: 'Iv1.app',
      clientSecret: 'x',
      appSlug: 'acme-broker',
    });
    expect(github.status).toBe(201);
    githubId = ((await github.json()) as { id: string }).id;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await idp?.stop();
    await db?.drop();
  });

  it('transcribes the seed’s five operations', () => {
    expect(SEED.operations.map((o) => `${o.method} ${o.path}`)).toEqual([
      `GET ${LIST}`,
      `GET ${ONE}`,
      `DELETE ${ONE}`,
      `GET ${DEVICE}`,
      `POST ${DEVICE}`,
    ]);
  });

  it('takes the session token as Coder’s clients send it: bearer, Coder-Session-Token header, or cookie with X-Requested-With', async () => {
    for (const auth of [{ bearer: user }, { coderHeader: user }, { cookie: user, xRequestedWith: true }]) {
      const listed = (await seed.conform('GET', LIST, await call('GET', LIST, auth))) as {
        providers: unknown[];
        links: unknown[];
      };
      expect(listed.links).toEqual([]);
    }
    // A cookie alone could come from any site the browser visits: refused.
    const crossSite = await call('GET', LIST, { cookie: user });
    expect((await seed.conform('GET', LIST, crossSite)) as { message: string }).toEqual({
      message: expect.stringMatching(/X-Requested-With/),
      detail: expect.any(String),
    });
    for (const auth of [
      null,
      { coderHeader: 'not-a-token' },
      { cookie: 'not-a-token', xRequestedWith: true },
      { bearer: `${user.slice(0, -4)}AAAA` },
    ]) {
      const res = await call('GET', LIST, auth);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="oauth-broker"/);
      await seed.conform('GET', LIST, res);
      expect(res.status).toBe(401);
    }
  });

  it('lists the providers a user can link with what each supports, as Coder’s ExternalAuthLinkProvider', async () => {
    const listed = (await seed.conform('GET', LIST, await call('GET', LIST, asUser()))) as {
      providers: Record<string, unknown>[];
    };
    const byId = new Map(listed.providers.map((p) => [p['id'], p]));
    expect(byId.get(oidcId)).toEqual({
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
    expect(byId.get(plainId)).toMatchObject({
      type: 'oauth2',
      device: false,
      supports_revocation: false,
      code_challenge_methods_supported: ['S256'],
    });
    expect(byId.get(githubId)).toMatchObject({
      type: 'github',
      device: true,
      supports_revocation: true,
      allow_validate: true,
    });
    // A provider marked invalid cannot be linked: not offered.
    await rest('PATCH', `/providers/${plainId}/`, { status: 'invalid' });
    const without = (await seed.conform('GET', LIST, await call('GET', LIST, asUser()))) as {
      providers: { id: string }[];
    };
    expect(without.providers.map((p) => p.id)).not.toContain(plainId);
    await rest('PATCH', `/providers/${plainId}/`, { status: 'active' });
  });

  it('a GitHub App’s install URL is known before anyone installed it: from its slug, or as configured', async () => {
    const shown = (await seed.conform(
      'GET',
      ONE,
      await call('GET', `${LIST}/${githubId}`, asUser()),
    )) as Record<string, unknown>;
    expect(shown).toMatchObject({
      authenticated: false,
      user: null,
      installations: [],
      app_install_url: 'https://github.com/apps/acme-broker/installations/new',
      app_installable: true,
    });
    expect(
      (
        await rest('PATCH', `/providers/${githubId}/`, {
          appInstallUrl: 'https://github.com/apps/acme-broker/installations/select_target',
        })
      ).status,
    ).toBe(200);
    expect(await seed.conform('GET', ONE, await call('GET', `${LIST}/${githubId}`, asUser()))).toMatchObject({
      app_install_url: 'https://github.com/apps/acme-broker/installations/select_target',
    });
    expect(
      (await rest('PATCH', `/providers/${githubId}/`, { appSlug: null, appInstallUrl: null })).status,
    ).toBe(200);
    expect(await seed.conform('GET', ONE, await call('GET', `${LIST}/${githubId}`, asUser()))).toMatchObject({
      app_install_url: '',
      app_installable: false,
    });
    // Checked on the way in: a slug is a slug, an install URL https, and only GitHub has them.
    const bad = await rest('PATCH', `/providers/${githubId}/`, {
      appSlug: 'Not A Slug',
      appInstallUrl: 'javascript:alert(1)',
    });
    expect(bad.status).toBe(422);
    expect(
      ((await bad.json()) as { errorFields: { name: string }[] }).errorFields.map((f) => f.name).sort(),
    ).toEqual(['appInstallUrl', 'appSlug']);
    const notGithub = await rest('PATCH', `/providers/${oidcId}/`, { appSlug: 'acme' });
    expect(notGithub.status).toBe(422);
  });

  it('every operation: provider details, device flow start and exchange, links, unlink; and their error answers', async () => {
    const before = (await seed.conform(
      'GET',
      ONE,
      await call('GET', `${LIST}/${oidcId}`, asUser()),
    )) as Record<string, unknown>;
    expect(before).toMatchObject({
      authenticated: false,
      device: true,
      supports_revocation: true,
      user: null,
    });
    await seed.conform('GET', ONE, await call('GET', `${LIST}/${UNKNOWN}`, asUser()));
    await seed.conform('GET', ONE, await call('GET', `${LIST}/not-a-uuid`, asUser()));

    await seed.conform('GET', DEVICE, await call('GET', `${LIST}/${plainId}/device`, asUser())); // 400: no device flow
    await seed.conform('GET', DEVICE, await call('GET', `${LIST}/${UNKNOWN}/device`, asUser()));
    const device = (await seed.conform(
      'GET',
      DEVICE,
      await call('GET', `${LIST}/${oidcId}/device`, asUser()),
    )) as { device_code: string; user_code: string; verification_uri: string };
    const pending = (await seed.conform(
      'POST',
      DEVICE,
      await call('POST', `${LIST}/${oidcId}/device`, asUser(), { device_code: device.device_code }),
    )) as { message: string };
    expect(pending.message).toBe('authorization_pending');
    await seed.conform(
      'POST',
      DEVICE,
      await call('POST', `${LIST}/${oidcId}/device`, asUser(), { device_code: '' }),
    );
    await seed.conform(
      'POST',
      DEVICE,
      await call('POST', `${LIST}/${oidcId}/device`, asUser(), '{"device_code": '),
    );
    await seed.conform(
      'POST',
      DEVICE,
      await call('POST', `${LIST}/${oidcId}/device`, asUser(), { device_code: 'no-such-code' }),
    );
    await approveDeviceAtDemoIdp(device.verification_uri, device.user_code, 'una@example.test');
    const deadline = Date.now() + 20_000;
    let exchanged: Response;
    for (;;) {
      exchanged = await call('POST', `${LIST}/${oidcId}/device`, asUser(), {
        device_code: device.device_code,
      });
      if (exchanged.status === 204 || Date.now() > deadline) break;
      await seed.conform('POST', DEVICE, exchanged);
      await sleep(500);
    }
    await seed.conform('POST', DEVICE, exchanged);
    expect(exchanged.status).toBe(204);

    const linked = (await seed.conform('GET', LIST, await call('GET', LIST, asUser()))) as {
      links: Record<string, unknown>[];
    };
    expect(linked.links).toEqual([
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
    expect(seed.errors('codersdk.ExternalAuthLink', linked.links[0])).toBeNull(); // the seed's own schema for the list's entries
    const after = (await seed.conform(
      'GET',
      ONE,
      await call('GET', `${LIST}/${oidcId}`, asUser()),
    )) as Record<string, unknown>;
    expect(after).toMatchObject({ authenticated: true, user: { login: 'una@example.test' } });

    // A provider marked invalid: the link is still listed (so it can be unlinked), not authenticated, and says why.
    await rest('PATCH', `/providers/${oidcId}/`, { status: 'invalid' });
    const blocked = (await seed.conform('GET', LIST, await call('GET', LIST, asUser()))) as {
      links: { authenticated: boolean; validate_error: string }[];
    };
    expect(blocked.links).toEqual([
      expect.objectContaining({
        authenticated: false,
        validate_error: expect.stringMatching(/provider is invalid/),
      }),
    ]);
    await rest('PATCH', `/providers/${oidcId}/`, { status: 'active' });

    const unlinked = (await seed.conform(
      'DELETE',
      ONE,
      await call('DELETE', `${LIST}/${oidcId}`, asUser()),
    )) as Record<string, unknown>;
    expect(unlinked).toEqual({ token_revoked: true, token_revocation_error: '' });
    await seed.conform('DELETE', ONE, await call('DELETE', `${LIST}/${oidcId}`, asUser()));
    await seed.conform('DELETE', ONE, await call('DELETE', `${LIST}/${UNKNOWN}`, asUser()));
    expect(
      ((await seed.conform('GET', LIST, await call('GET', LIST, asUser()))) as { links: unknown[] }).links,
    ).toEqual([]);
  }, 60_000);

  it('walked every documented status of every operation', () => {
    expect(seed.notWalked()).toEqual([]);
  });
});
