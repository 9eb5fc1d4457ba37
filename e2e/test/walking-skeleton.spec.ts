import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { BusRemoteError } from '@broker/bus';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase, sleep } from '@broker/testing';
import { ServiceProcess, busClientFor, freePort, systemEnv } from './service-processes';

/**
 * The four services as separate processes on real PostgreSQL and Redis:
 * gateway → bus → provider-registry → PostgreSQL and back.
 */
const BOOTSTRAP_SECRET = randomBytes(32).toString('base64url');

describe('the system, end to end', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const services: Record<string, ServiceProcess> = {};

  let gatewayPort: number;
  async function startService(app: string): Promise<ServiceProcess> {
    const proc = new ServiceProcess(app, app === 'gateway' ? gatewayPort : await freePort(), env).start();
    services[app] = proc;
    return proc;
  }

  async function sql(query: string, params: unknown[] = []): Promise<unknown[]> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(query, params)).rows;
    } finally {
      await client.end();
    }
  }

  let adminToken: string;
  const authed = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  async function tokenFor(clientId: string, clientSecret: string, scope?: string): Promise<string> {
    const res = await fetch(`${services['gateway'].url}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        ...(scope ? { scope } : {}),
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** A client of another org, created the way the admin tooling will (through the identity lib). */
  async function otherOrgClient(): Promise<{ clientId: string; clientSecret: string }> {
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-admin'),
    ).initialize();
    try {
      const clients = new ClientsService(ds, new KeyedHasher(Buffer.from(env['SECRET_PEPPER'], 'base64')));
      await clients.ensureOrg('other-org', 'Other org');
      return await clients.createClient({
        orgId: 'other-org',
        name: 'other',
        grantTypes: ['client_credentials'],
        scopes: ['providers:read'],
      });
    } finally {
      await ds.destroy();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('e2e');
    gatewayPort = await freePort();
    env = systemEnv(db.url, gatewayPort, 'e2e', {
      BOOTSTRAP_CLIENT_SECRET: BOOTSTRAP_SECRET,
      BUS_TIMEOUT_MS: '4000',
    });
    // Registry and worker migrate the same schema at once: the advisory lock must serialize them.
    await Promise.all(
      ['provider-registry', 'token-broker', 'worker', 'gateway'].map((app) => startService(app)),
    );
    await Promise.all(Object.values(services).map((s) => s.ready()));
    adminToken = await tokenFor('admin', BOOTSTRAP_SECRET);
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await db?.drop();
  });

  it('answers GET /api/v2/externalOAuth/providers/ with {"data": []} on an empty database', async () => {
    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/`, authed(adminToken));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: [] });
  });

  it('lists only the org’s providers from PostgreSQL, with filters and ordering', async () => {
    await sql(
      `INSERT INTO registry.providers (org_id, name, type, client_id, host, created_at) VALUES
        ('default', 'GitHub', 'github', 'gh-client', 'github.com', now() - interval '2 minutes'),
        ('default', 'Box', 'box', 'box-client', 'box.com', now() - interval '1 minute'),
        ('other-org', 'Not yours', 'github', 'x', 'github.com', now())`,
    );
    const get = async (qs: string) => {
      const res = await fetch(
        `${services['gateway'].url}/api/v2/externalOAuth/providers/${qs}`,
        authed(adminToken),
      );
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { name: string }[] }).data.map((p) => p.name);
    };
    expect(await get('')).toEqual(['Box', 'GitHub']);
    expect(await get('?orderBy=createdAt')).toEqual(['GitHub', 'Box']);
    expect(await get('?types=github')).toEqual(['GitHub']);
    expect(await get('?types=github&types=box&orderBy=-createdAt')).toEqual(['Box', 'GitHub']);
    expect(await get('?host=box.com')).toEqual(['Box']);

    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/`, authed(adminToken));
    const [first] = ((await res.json()) as { data: Record<string, unknown>[] }).data;
    expect(Object.keys(first).sort()).toEqual(
      [
        'clientId',
        'createdAt',
        'customScopes',
        'id',
        'metadata',
        'name',
        'orgId',
        'secureConfigId',
        'skipConsent',
        'status',
        'type',
        'updatedAt',
      ].sort(),
    );
  });

  it('rejects bad query parameters with 422 in the seed’s error shape', async () => {
    const res = await fetch(
      `${services['gateway'].url}/api/v2/externalOAuth/providers/?types=myspace&orderBy=name`,
      authed(adminToken),
    );
    expect(res.status).toBe(422);
    const body = (await res.json()) as { message: string; errorFields: { name: string }[] };
    expect(body.message).toEqual(expect.any(String));
    expect(body.errorFields.map((f) => f.name).sort()).toEqual(['orderBy', 'types']);
  });

  it('answers a request made while the registry restarts, once it is back', async () => {
    expect(await services['provider-registry'].stop()).toBe(0);
    const pending = fetch(
      `${services['gateway'].url}/api/v2/externalOAuth/providers/?types=box`,
      authed(adminToken),
    );
    await sleep(500);
    await (await startService('provider-registry')).ready();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { name: string }[] }).data.map((p) => p.name)).toEqual(['Box']);
  });

  it('answers 503 in the seed’s error shape, without hanging, when the registry is down', async () => {
    await services['provider-registry'].stop();
    const started = Date.now();
    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/`, authed(adminToken));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: expect.any(String), errorFields: [] });
    expect(Date.now() - started).toBeLessThan(8_000);
    await (await startService('provider-registry')).ready();
  });

  it('answers 401 with a Bearer challenge without a valid token, 403 without the route’s scope', async () => {
    const url = `${services['gateway'].url}/api/v2/externalOAuth/providers/`;
    for (const init of [{}, authed('not-a-jwt'), authed(`${adminToken.slice(0, -4)}AAAA`)]) {
      const res = await fetch(url, init);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="oauth-broker", error="invalid_token"/,
      );
      expect(await res.json()).toEqual({ message: expect.any(String), errorFields: [] });
    }
    const narrow = await tokenFor('admin', BOOTSTRAP_SECRET, 'jobs:read');
    const res = await fetch(url, authed(narrow));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope", scope="providers:read"/);
  });

  it('never shows one org another org’s providers, over REST or over the bus', async () => {
    const other = await otherOrgClient();
    const otherToken = await tokenFor(other.clientId, other.clientSecret);
    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/`, authed(otherToken));
    expect(((await res.json()) as { data: { name: string }[] }).data.map((p) => p.name)).toEqual([
      'Not yours',
    ]);

    // An internal service on the bus: the org comes from the verified token, not from the payload.
    const bus = busClientFor(env);
    try {
      // A payload naming an org is not even read: the org comes from the verified token only.
      const forged = { orgId: 'default', ids: [] } as unknown as Record<string, never>;
      await expect(bus.request('providers.list', forged, { auth: otherToken })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
      const reply = await bus.request('providers.list', {}, { auth: otherToken });
      expect(reply.data.map((p) => p.orgId)).toEqual(['other-org']);
      const noToken = await bus.request('providers.list', {}).catch((e: unknown) => e);
      expect(noToken).toBeInstanceOf(BusRemoteError);
      expect(noToken).toMatchObject({ code: 'UNAUTHENTICATED' });
      const narrow = await tokenFor('admin', BOOTSTRAP_SECRET, 'jobs:read');
      await expect(bus.request('providers.list', {}, { auth: narrow })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    } finally {
      await bus.close();
    }
  });

  it('reports readiness of each service’s dependencies and stops cleanly on SIGTERM', async () => {
    const ready = await fetch(`${services['worker'].url}/health/ready`);
    expect(await ready.json()).toEqual({
      status: 'ok',
      service: 'worker',
      checks: { redis: 'up', database: 'up' },
      failing: [],
    });
    const live = await fetch(`${services['gateway'].url}/health/live`);
    expect(live.status).toBe(200);
    expect(await services['token-broker'].stop()).toBe(0);
  });

  it('exits with code 1 naming each missing or bad variable', async () => {
    const broken = new ServiceProcess('worker', await freePort(), {
      ...env,
      EVENTS_SIGNING_KEY__worker: '',
      DATABASE_URL: 'mysql://nope',
    }).start();
    expect(await broken.exitCode()).toBe(1);
    const out = broken.output.join('');
    expect(out).toContain('EVENTS_SIGNING_KEY: required but not set');
    expect(out).toContain('DATABASE_URL: must be a URL');
  });
});
