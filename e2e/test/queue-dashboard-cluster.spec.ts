import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { QUEUE_NAMES } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { DataSource } from 'typeorm';
import { LocalRedisCluster } from './redis-cluster';
import { ServiceProcess, freePort, systemEnv } from './service-processes';
import { clientCredentialsToken, formPost } from './system-setup';

const ACL_SCRIPT = join(__dirname, '..', '..', 'scripts', 'lib', 'redis-acl.mjs');
const ADMIN_SECRET = randomBytes(32).toString('base64url');
const BOARD = '/admin/queues';

/**
 * The queue dashboard on a real Redis Cluster (three masters): a hash-tagged BUS_PREFIX, the
 * gateway as its read-only ACL user on every node, and the dashboard's Lua reads (sent as
 * EVALSHA_RO) answered by the node that holds the queue's slot.
 */
describe('queue dashboard on a Redis Cluster', () => {
  const cluster = new LocalRedisCluster();
  const prefix = `{qb${randomBytes(3).toString('hex')}}`;
  let db: TestDatabase;
  let base: string;
  const services: ServiceProcess[] = [];
  let operator = { id: '', secret: '' };

  beforeAll(async () => {
    await cluster.start();
    const rules = (
      JSON.parse(
        execFileSync(
          process.execPath,
          [ACL_SCRIPT, '--prefix', prefix, '--queue-dashboard', 'read', '--json'],
          {
            encoding: 'utf8',
          },
        ),
      ) as { user: string; rules: string[] }[]
    ).find((u) => u.user === 'gateway')?.rules;
    expect(rules).toContain(`%R~${prefix}:jobs:*`);
    const gatewayUser = { name: 'gateway', password: randomBytes(16).toString('hex'), rules: rules ?? [] };
    await cluster.addUsers([gatewayUser]);
    db = await createTestDatabase('qbcluster');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = systemEnv(db.url, port, 'qbcluster', {
      REDIS_URL: cluster.url(),
      BUS_PREFIX: prefix,
      BOOTSTRAP_CLIENT_SECRET: ADMIN_SECRET,
      QUEUE_DASHBOARD: 'read',
      QUEUE_DASHBOARD_SESSION_KEY: randomBytes(32).toString('base64'),
    });
    services.push(new ServiceProcess('token-broker', await freePort(), env).start());
    await services[0].ready(60_000); // migrations on a loaded machine
    services.push(
      new ServiceProcess('gateway', port, { ...env, REDIS_URL__gateway: cluster.url(gatewayUser) }).start(),
      new ServiceProcess('provider-registry', await freePort(), env).start(),
    );
    await Promise.all(services.map((s) => s.ready(60_000)));
    const ds = await new DataSource(domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-qbc')).initialize();
    try {
      const clients = new ClientsService(ds, new KeyedHasher(Buffer.from(env['SECRET_PEPPER'], 'base64')));
      const c = await clients.createClient({
        orgId: 'default',
        name: 'operator',
        grantTypes: ['client_credentials'],
        scopes: ['queues:dashboard'],
      });
      operator = { id: c.clientId, secret: c.clientSecret };
    } finally {
      await ds.destroy();
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await db?.drop();
    await cluster.stop();
  }, 60_000);

  it('shows every queue and a waiting job, read through the read-only user', async () => {
    const bearer = await clientCredentialsToken(base, 'admin', ADMIN_SECRET);
    const stats = await fetch(`${base}/api/v2/externalOAuth/jobs/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{"type":"STATS"}',
    });
    expect(stats.status).toBe(202);
    const token = await clientCredentialsToken(base, operator.id, operator.secret);
    const login = await fetch(`${base}${BOARD}/login`, {
      ...formPost({ access_token: token }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const session = /^broker-queues=([^;]+);/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    expect(session).toBeDefined();
    let waiting = 0;
    for (let i = 0; i < 50 && waiting < 1; i++) {
      const res = await fetch(`${base}${BOARD}/api/queues?activeQueue=stats&status=waiting`, {
        headers: { cookie: `broker-queues=${session}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        queues: { name: string; counts: Record<string, number>; jobs: { id: string }[] }[];
      };
      expect(body.queues).toHaveLength(QUEUE_NAMES.length);
      const queue = body.queues.find((q) => q.name === 'stats');
      waiting = queue?.counts['waiting'] ?? 0;
      if (waiting >= 1) expect(queue?.jobs.length).toBeGreaterThanOrEqual(1);
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(waiting).toBeGreaterThanOrEqual(1);
    for (const s of services) expect(s.output.join('')).not.toMatch(/NOPERM|CROSSSLOT/);
  });
});
