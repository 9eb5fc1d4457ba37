import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { EncryptJWT } from 'jose';
import { QUEUE_NAMES } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { DataSource } from 'typeorm';
import { ServiceProcess, freePort, systemEnv } from './service-processes';
import { clientCredentialsToken, formPost } from './system-setup';

const ACL_SCRIPT = join(__dirname, '..', '..', 'scripts', 'lib', 'redis-acl.mjs');
const ADMIN_CLI = join(__dirname, '..', '..', 'dist', 'apps', 'admin', 'main.js');
const ADMIN_SECRET = randomBytes(32).toString('base64url');
const SESSION_KEY = randomBytes(32);
const BOARD = '/admin/queues';

/** The gateway's Redis ACL rules for a dashboard mode, as scripts/lib/redis-acl.mjs prints them. */
function gatewayRules(prefix: string, mode: string): string[] {
  const out = execFileSync(
    process.execPath,
    [ACL_SCRIPT, '--prefix', prefix, '--queue-dashboard', mode, '--json'],
    {
      encoding: 'utf8',
    },
  );
  return (
    (JSON.parse(out) as { user: string; rules: string[] }[]).find((u) => u.user === 'gateway')?.rules ?? []
  );
}

/**
 * The queue dashboard (docs/queue-dashboard.md), attacked from outside: a browser without the
 * cookie, forged and tampered cookies, an org admin of another org, a revoked token, a token in
 * the URL, actions in read-only mode and from a foreign origin; the gateway runs as its read-only
 * Redis user, which a bare client then tries to write with.
 */
describe('queue dashboard: operators only, read-only, no token in a URL', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let base: string;
  let admin: IORedis;
  const services: ServiceProcess[] = [];
  let gateway: ServiceProcess;
  const aclUser = `qb-${randomBytes(4).toString('hex')}`;
  const aclPassword = randomBytes(16).toString('hex');
  let gatewayRedisUrl: string;
  const clients: Record<string, { id: string; secret: string }> = {};
  const canaries: string[] = [ADMIN_SECRET, SESSION_KEY.toString('base64')];
  let statsJobId = '';

  const login = (token: string, origin = base) =>
    fetch(`${base}${BOARD}/login`, {
      ...formPost({ access_token: token }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      redirect: 'manual',
    });
  const sessionOf = (res: Response): string => {
    const cookie = res.headers.get('set-cookie') ?? '';
    const match = /^broker-queues=([^;]+);/.exec(cookie);
    if (!match) throw new Error(`no session cookie in ${res.status}: ${cookie}`);
    return match[1] as string;
  };
  const api = (path: string, session: string | undefined, init: RequestInit = {}) =>
    fetch(`${base}${BOARD}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(session ? { cookie: `broker-queues=${session}` } : {}), ...(init.headers ?? {}) },
    });
  const tokenOf = async (name: string) => {
    const token = await clientCredentialsToken(base, clients[name].id, clients[name].secret);
    expect(token).toMatch(/^ey/);
    canaries.push(token);
    return token;
  };

  beforeAll(async () => {
    db = await createTestDatabase('qboard');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = systemEnv(db.url, port, 'qboard', {
      BOOTSTRAP_CLIENT_SECRET: ADMIN_SECRET,
      QUEUE_DASHBOARD: 'read',
      QUEUE_DASHBOARD_SESSION_KEY: SESSION_KEY.toString('base64'),
    });
    admin = new IORedis(env['REDIS_URL']);
    await admin.call(
      'ACL',
      'SETUSER',
      aclUser,
      'reset',
      ...gatewayRules(env['BUS_PREFIX'], 'read'),
      `>${aclPassword}`,
    );
    const url = new URL(env['REDIS_URL']);
    url.username = aclUser;
    url.password = aclPassword;
    gatewayRedisUrl = url.toString();
    canaries.push(aclPassword);
    services.push(new ServiceProcess('token-broker', await freePort(), env).start());
    await services[0].ready();
    gateway = new ServiceProcess('gateway', port, { ...env, REDIS_URL__gateway: gatewayRedisUrl }).start();
    // The registry enqueues the stats job below; no worker runs, so it stays waiting.
    services.push(gateway, new ServiceProcess('provider-registry', await freePort(), env).start());
    await Promise.all(services.map((s) => s.ready()));
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-qboard'),
    ).initialize();
    try {
      const service = new ClientsService(ds, new KeyedHasher(Buffer.from(env['SECRET_PEPPER'], 'base64')));
      await service.ensureOrg('acme', 'acme');
      const make = async (name: string, orgId: string, scopes: string[]) => {
        const c = await service.createClient({ orgId, name, grantTypes: ['client_credentials'], scopes });
        clients[name] = { id: c.clientId, secret: c.clientSecret };
        canaries.push(c.clientSecret);
      };
      await make('operator', 'default', ['queues:dashboard']);
      await make('operator-actions', 'default', ['queues:dashboard', 'queues:operate']);
      // Another org's admin, even holding the scope (as if written into its row): not the operator org.
      await make('acme-admin', 'acme', ['identity:admin', 'queues:dashboard', 'queues:operate']);
    } finally {
      await ds.destroy();
    }
    clients['bootstrap'] = { id: 'admin', secret: ADMIN_SECRET };
    // A real job in a real queue, enqueued by the provider-registry for an org's STATS request.
    const bearer = await tokenOf('bootstrap');
    const stats = await fetch(`${base}/api/v2/externalOAuth/jobs/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{"type":"STATS"}',
    });
    expect(stats.status).toBe(202);
    const queue = new Queue('stats', {
      connection: admin,
      prefix: `${env['BUS_PREFIX']}:jobs`,
      skipMetasUpdate: true,
    });
    try {
      for (let i = 0; i < 100 && !statsJobId; i++) {
        statsJobId = (await queue.getJobs(['waiting', 'prioritized']))[0]?.id ?? '';
        if (!statsJobId) await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await queue.close();
    }
    expect(statsJobId).toBeTruthy();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await admin?.call('ACL', 'DELUSER', aclUser).catch(() => undefined);
    admin?.disconnect();
    await db?.drop();
  });

  it('serves a sign-in form under the strict CSP, and the pages redirect there without a session', async () => {
    const form = await fetch(`${base}${BOARD}/login`);
    expect(form.status).toBe(200);
    expect(form.headers.get('content-type')).toContain('text/html');
    expect(form.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await form.text()).toContain('name="access_token"');
    const page = await api('/', undefined);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`${BOARD}/login`);
  });

  it('lets an operator sign in through the form and see every queue with its counts', async () => {
    const res = await login(await tokenOf('operator'));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${BOARD}/`);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(new RegExp(`Path=${BOARD}(;|$)`));
    const session = sessionOf(res);
    canaries.push(session);
    const queues = await api('/api/queues', session);
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as {
      queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[];
    };
    // Every queue of the contract, and nothing else.
    expect(body.queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    for (const q of body.queues) expect(q.readOnlyMode).toBe(true);
    expect(body.queues.find((q) => q.name === 'stats')?.counts['waiting']).toBeGreaterThanOrEqual(1);
    // The UI itself, under its own policy.
    const page = await api('/', session);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(await page.text())?.[1];
    expect(script).toBeDefined();
    expect((await api(`/${script}`, session)).status).toBe(200);
    expect((await api(`/${script}`, undefined)).status).toBe(401);
  });

  it('answers 401 to the JSON API without a cookie, with a tampered cookie and with a forged one', async () => {
    const session = sessionOf(await login(await tokenOf('operator')));
    expect((await api('/api/queues', undefined)).status).toBe(401);
    const middle = Math.floor(session.length / 2);
    const flipped = session[middle] === 'A' ? 'B' : 'A';
    const tampered = `${session.slice(0, middle)}${flipped}${session.slice(middle + 1)}`;
    const tamperedRes = await api('/api/queues', tampered);
    expect(tamperedRes.status).toBe(401);
    expect(await tamperedRes.json()).toEqual({
      error: 'unauthorized',
      message: `Sign in at ${BOARD}/login.`,
    });
    // Well-formed, but sealed with another key (what someone without the session key can make).
    const forged = await new EncryptJWT({ tok: await tokenOf('operator') })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setExpirationTime('10m')
      .encrypt(randomBytes(32));
    expect((await api('/api/queues', forged)).status).toBe(401);
    expect((await api('/api/queues', 'x'.repeat(5000))).status).toBe(401);
  });

  it("refuses another org's admin and an operator-org token without the scope at sign-in", async () => {
    const foreign = await login(await tokenOf('acme-admin'));
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('set-cookie')).toBeNull();
    expect(await foreign.text()).toContain('operator org');
    const orgAdmin = await login(await tokenOf('bootstrap'));
    expect(orgAdmin.status).toBe(403);
    expect(orgAdmin.headers.get('set-cookie')).toBeNull();
    expect((await login('not-a-token')).status).toBe(401);
  });

  it('refuses a sign-in posted from another origin (login CSRF)', async () => {
    const res = await login(await tokenOf('operator'), 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it("ends a revoked token's session on the next request", async () => {
    const token = await tokenOf('operator');
    const session = sessionOf(await login(token));
    expect((await api('/api/queues', session)).status).toBe(200);
    const revoked = await fetch(
      `${base}/api/v1/oauth/revoke`,
      formPost({ token, client_id: clients['operator'].id, client_secret: clients['operator'].secret }),
    );
    expect(revoked.status).toBe(200);
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      status = (await api('/api/queues', session)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
  });

  it('ignores a token in the query string', async () => {
    const token = await tokenOf('operator');
    expect((await api(`/api/queues?access_token=${encodeURIComponent(token)}`, undefined)).status).toBe(401);
    const page = await api(`/?access_token=${encodeURIComponent(token)}`, undefined);
    expect(page.status).toBe(303);
    const viaQuery = await fetch(`${base}${BOARD}/login?access_token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      redirect: 'manual',
    });
    expect(viaQuery.status).toBe(400);
    expect(viaQuery.headers.get('set-cookie')).toBeNull();
  });

  it('refuses actions in read-only mode, and any from a foreign origin', async () => {
    const session = sessionOf(await login(await tokenOf('operator-actions')));
    const retry = await api('/api/queues/stats/retry/failed', session, {
      method: 'PUT',
      headers: { origin: base },
    });
    expect(retry.status).toBe(403);
    expect(((await retry.json()) as { error: string }).error).toBe('read_only');
    const clean = await api(`/api/queues/stats/${statsJobId}/clean`, session, {
      method: 'PUT',
      headers: { origin: 'https://evil.example' },
    });
    expect(clean.status).toBe(403);
    expect(((await clean.json()) as { error: string }).error).toBe('forbidden');
    const noOrigin = await api('/api/queues/pause', session, { method: 'PUT' });
    expect(noOrigin.status).toBe(403);
    // The job is still there, untouched.
    const job = await api(`/api/queues/stats/${statsJobId}`, session);
    expect(job.status).toBe(200);
  });

  it("gives the gateway's Redis user read-only rights on the queue keys", async () => {
    const p = env['BUS_PREFIX'];
    const bare = new IORedis(gatewayRedisUrl, { maxRetriesPerRequest: 1 });
    try {
      const jobKey = `${p}:jobs:stats:${statsJobId}`;
      expect(Object.keys(await bare.hgetall(jobKey))).toContain('data'); // reads work
      const writes: Record<string, () => Promise<unknown>> = {
        HSET: () => bare.hset(jobKey, 'data', '{}'),
        DEL: () => bare.del(jobKey),
        LPUSH: () => bare.lpush(`${p}:jobs:stats:wait`, 'x'),
        SET: () => bare.set(`${p}:jobs:stats:new`, '1'),
        'EVAL (writes)': () => bare.eval("return redis.call('del', KEYS[1])", 1, jobKey),
        'EVAL_RO (writes)': () => bare.call('EVAL_RO', "return redis.call('del', KEYS[1])", 1, jobKey),
      };
      for (const [what, attempt] of Object.entries(writes)) {
        const err = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ what, refused: err instanceof Error }).toEqual({ what, refused: true });
      }
      expect(await admin.exists(jobKey)).toBe(1);
    } finally {
      bare.disconnect();
    }
  });

  it('shows no secret in its answers or in the logs (canary)', async () => {
    const session = sessionOf(await login(await tokenOf('operator')));
    canaries.push(session);
    const answers = await Promise.all(
      ['/api/queues', `/api/queues/stats/${statsJobId}`, '/api/redis/stats', '/'].map(async (path) => {
        const res = await api(path, session);
        expect(res.status).toBe(200);
        return res.text();
      }),
    );
    const logs = gateway.output.join('');
    expect(logs).toContain(`${BOARD}/login`); // the access log saw the sign-ins
    for (const canary of canaries) {
      for (const text of answers) expect(text.includes(canary)).toBe(false);
      expect(logs.includes(canary)).toBe(false);
    }
    for (const s of services) expect(s.output.join('')).not.toMatch(/NOPERM/);
  });

  it('has the admin CLI grant operator scopes only to the operator org, and its client signs in', async () => {
    const cli = (org: string) =>
      spawnSync(
        process.execPath,
        [ADMIN_CLI, 'create-client', '--org', org, '--name', 'ops', '--scopes', 'queues:dashboard'],
        {
          env: {
            PATH: process.env['PATH'] ?? '',
            DATABASE_URL: env['DATABASE_URL'],
            SECRET_PEPPER: env['SECRET_PEPPER'],
            ENCRYPTION_KEYS: env['ENCRYPTION_KEYS'],
          },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    const refused = cli('acme');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("only for clients of the operator org 'default'");
    const created = cli('default');
    expect(created.status).toBe(0);
    const { client_id: id, client_secret: secret } = JSON.parse(created.stdout) as {
      client_id: string;
      client_secret: string;
    };
    clients['cli-operator'] = { id, secret };
    canaries.push(secret);
    const res = await login(await tokenOf('cli-operator'));
    expect(res.status).toBe(303);
    expect((await api('/api/queues', sessionOf(res))).status).toBe(200);
  }, 120_000);

  it('with QUEUE_DASHBOARD=operate, runs an action for a queues:operate session only', async () => {
    // A second gateway, as its own read-write Redis user (redis-acl.mjs --queue-dashboard operate).
    const user = `${aclUser}-rw`;
    const password = randomBytes(16).toString('hex');
    await admin.call(
      'ACL',
      'SETUSER',
      user,
      'reset',
      ...gatewayRules(env['BUS_PREFIX'], 'operate'),
      `>${password}`,
    );
    const url = new URL(env['REDIS_URL']);
    url.username = user;
    url.password = password;
    const port = await freePort();
    const operating = new ServiceProcess('gateway', port, {
      ...env,
      QUEUE_DASHBOARD: 'operate',
      REDIS_URL__gateway: url.toString(),
    }).start();
    services.push(operating);
    const queue = new Queue('stats', {
      connection: admin,
      prefix: `${env['BUS_PREFIX']}:jobs`,
      skipMetasUpdate: true,
    });
    try {
      await operating.ready();
      const at = (path: string, session: string) =>
        fetch(`http://127.0.0.1:${port}${BOARD}${path}`, {
          method: 'PUT',
          headers: { cookie: `broker-queues=${session}`, origin: base },
          redirect: 'manual',
        });
      const signIn = async (name: string) =>
        sessionOf(
          await fetch(`http://127.0.0.1:${port}${BOARD}/login`, {
            ...formPost({ access_token: await tokenOf(name) }),
            headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
            redirect: 'manual',
          }),
        );
      const reader = await at('/api/queues/stats/pause', await signIn('operator'));
      expect(reader.status).toBe(403);
      expect(((await reader.json()) as { error: string }).error).toBe('read_only');
      expect(await queue.isPaused()).toBe(false);
      const actions = await signIn('operator-actions');
      // A malformed body is the client's fault, answered without a stack.
      const malformed = await fetch(`http://127.0.0.1:${port}${BOARD}/api/queues/stats/concurrency`, {
        method: 'PUT',
        headers: { cookie: `broker-queues=${actions}`, origin: base, 'content-type': 'application/json' },
        body: '{"concurrency":',
      });
      expect(malformed.status).toBe(400);
      expect(await malformed.text()).not.toMatch(/\bat \S+ \(|stack/i);
      expect((await at('/api/queues/stats/pause', actions)).status).toBe(200);
      expect(await queue.isPaused()).toBe(true);
      expect((await at('/api/queues/stats/resume', actions)).status).toBe(200);
      expect(await queue.isPaused()).toBe(false);
    } finally {
      await queue.close();
      await operating.stop();
      await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
    }
  }, 120_000);

  it('signs out: the cookie is cleared', async () => {
    const session = sessionOf(await login(await tokenOf('operator')));
    const out = await api('/logout', session, { method: 'POST', headers: { origin: base } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^broker-queues=;.*Max-Age=0/);
  });
});
