import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase, sleep, testRedisUrl, uniquePrefix } from '@broker/testing';
import { ServiceProcess, freePort } from './service-processes';

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

  beforeAll(async () => {
    db = await createTestDatabase('e2e');
    gatewayPort = await freePort();
    env = {
      PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      SECRET_PEPPER: randomBytes(32).toString('base64'),
      BOOTSTRAP_CLIENT_SECRET: BOOTSTRAP_SECRET,
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      BUS_KEY: randomBytes(32).toString('base64'),
      BUS_PREFIX: uniquePrefix('e2e'),
      BUS_TIMEOUT_MS: '4000',
      LOG_LEVEL: 'info',
    };
    // Registry and worker migrate the same schema at once: the advisory lock must serialize them.
    await Promise.all(['provider-registry', 'token-broker', 'worker', 'gateway'].map((app) => startService(app)));
    await Promise.all(Object.values(services).map((s) => s.ready()));
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await db?.drop();
  });

  it('answers GET /api/v2/externalOAuth/providers/ with {"data": []} on an empty database', async () => {
    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/`);
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
      const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/${qs}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { name: string }[] }).data.map((p) => p.name);
    };
    expect(await get('')).toEqual(['Box', 'GitHub']);
    expect(await get('?orderBy=createdAt')).toEqual(['GitHub', 'Box']);
    expect(await get('?types=github')).toEqual(['GitHub']);
    expect(await get('?types=github&types=box&orderBy=-createdAt')).toEqual(['Box', 'GitHub']);
    expect(await get('?host=box.com')).toEqual(['Box']);

    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/`);
    const [first] = ((await res.json()) as { data: Record<string, unknown>[] }).data;
    expect(Object.keys(first).sort()).toEqual(
      ['clientId', 'createdAt', 'customScopes', 'id', 'metadata', 'name', 'orgId', 'secureConfigId', 'skipConsent', 'status', 'type', 'updatedAt'].sort(),
    );
  });

  it('rejects bad query parameters with 422 in the seed’s error shape', async () => {
    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/?types=myspace&orderBy=name`);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { message: string; errorFields: { name: string }[] };
    expect(body.message).toEqual(expect.any(String));
    expect(body.errorFields.map((f) => f.name).sort()).toEqual(['orderBy', 'types']);
  });

  it('answers a request made while the registry restarts, once it is back', async () => {
    expect(await services['provider-registry'].stop()).toBe(0);
    const pending = fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/?types=box`);
    await sleep(500);
    await (await startService('provider-registry')).ready();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { name: string }[] }).data.map((p) => p.name)).toEqual(['Box']);
  });

  it('answers 503 in the seed’s error shape, without hanging, when the registry is down', async () => {
    await services['provider-registry'].stop();
    const started = Date.now();
    const res = await fetch(`${services['gateway'].url}/api/v2/externalOAuth/providers/`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: expect.any(String), errorFields: [] });
    expect(Date.now() - started).toBeLessThan(8_000);
    await (await startService('provider-registry')).ready();
  });

  it('reports readiness of each service’s dependencies and stops cleanly on SIGTERM', async () => {
    const ready = await fetch(`${services['worker'].url}/health/ready`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { redis: 'up', database: 'up' } });
    const live = await fetch(`${services['gateway'].url}/health/live`);
    expect(live.status).toBe(200);
    expect(await services['token-broker'].stop()).toBe(0);
  });

  it('exits with code 1 naming each missing or bad variable', async () => {
    const broken = new ServiceProcess('worker', await freePort(), { ...env, BUS_KEY: '', DATABASE_URL: 'mysql://nope' }).start();
    expect(await broken.exitCode()).toBe(1);
    const out = broken.output.join('');
    expect(out).toContain('BUS_KEY: required but not set');
    expect(out).toContain('DATABASE_URL: must be a URL');
  });
});
