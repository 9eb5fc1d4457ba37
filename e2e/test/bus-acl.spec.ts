import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { BrokerClient, BrokerClientError } from '@broker/broker-client';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, sleep, TestDatabase } from '@broker/testing';
import { DataSource } from 'typeorm';
import { RequestMonitor, until } from './bus-attack-support';
import { ServiceProcess, consumerKeys, freePort, systemEnv } from './service-processes';

const ACL_SCRIPT = join(__dirname, '..', '..', 'scripts', 'lib', 'redis-acl.mjs');

/** The rules scripts/lib/redis-acl.mjs gives each service and consumer (what npm start and operators apply). */
function aclRules(prefix: string, consumers: string[]): Map<string, string[]> {
  const out = execFileSync(
    process.execPath,
    [ACL_SCRIPT, '--prefix', prefix, ...consumers.flatMap((c) => ['--consumer', c]), '--json'],
    { encoding: 'utf8' },
  );
  return new Map((JSON.parse(out) as { user: string; rules: string[] }[]).map((u) => [u.user, u.rules]));
}

function userUrl(base: string, user: string, password: string): string {
  const url = new URL(base);
  url.username = encodeURIComponent(user);
  url.password = password;
  return url.toString();
}

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const APPS = ['token-broker', 'provider-registry', 'worker', 'gateway'];

/**
 * The second wall: the whole system runs as its Redis ACL users (scripts/lib/redis-acl.mjs), and a
 * consumer's user is refused every command beyond what a broker client needs. A consumer holding
 * its own credentials cannot read another consumer's requests or replies.
 */
describe('Redis ACL users: services and consumers each limited to their own keys and channels', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let base: string;
  const services: ServiceProcess[] = [];
  const users: string[] = [];
  const consumers: Record<string, { url: string; clientId: string; clientSecret: string }> = {};
  let admin: IORedis;
  const prefix = () => env['BUS_PREFIX'];

  const connectConsumer = (name: string) =>
    BrokerClient.connect({
      redisUrl: consumers[name].url,
      ...consumerKeys(env),
      prefix: prefix(),
      credentials: {
        tokenUrl: `${base}/api/v1/oauth/token`,
        clientId: consumers[name].clientId,
        clientSecret: consumers[name].clientSecret,
      },
      name,
      logger: { warn: () => undefined },
      defaultTimeoutMs: 10_000,
    });

  beforeAll(async () => {
    db = await createTestDatabase('busacl');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = systemEnv(db.url, port, 'busacl', { BOOTSTRAP_CLIENT_SECRET: ADMIN_SECRET });
    const redisUrl = env['REDIS_URL'];
    const rules = aclRules(prefix(), ['consumer-a', 'consumer-b']);
    const created: { name: string; password: string; rules: string[] }[] = [];
    for (const app of APPS) {
      const user = {
        name: `${prefix()}-${app}`,
        password: randomBytes(16).toString('hex'),
        rules: rules.get(app) ?? [],
      };
      created.push(user);
      env[`REDIS_URL__${app.replace(/-/g, '_')}`] = userUrl(redisUrl, user.name, user.password);
    }
    const ds = await new DataSource(domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-acl')).initialize();
    for (const name of ['consumer-a', 'consumer-b']) {
      const user = {
        name: `${prefix()}-${name}`,
        password: randomBytes(16).toString('hex'),
        rules: rules.get(name) ?? [],
      };
      created.push(user);
      consumers[name] = { url: userUrl(redisUrl, user.name, user.password), clientId: '', clientSecret: '' };
    }
    const setup = new IORedis(redisUrl);
    for (const user of created)
      await setup.call('ACL', 'SETUSER', user.name, 'reset', ...user.rules, `>${user.password}`);
    setup.disconnect();
    users.push(...created.map((u) => u.name));
    // envForApp gives each service its own REDIS_URL__<app>: none of them runs as the default user.
    services.push(new ServiceProcess('token-broker', await freePort(), env).start());
    await services[0].ready();
    services.push(
      new ServiceProcess('provider-registry', await freePort(), env).start(),
      new ServiceProcess('worker', await freePort(), env).start(),
      new ServiceProcess('gateway', port, env).start(),
    );
    await Promise.all(services.map((s) => s.ready()));
    const clients = new ClientsService(ds, new KeyedHasher(Buffer.from(env['SECRET_PEPPER'], 'base64')));
    for (const name of ['consumer-a', 'consumer-b']) {
      const client = await clients.createClient({
        orgId: 'default',
        name,
        grantTypes: ['client_credentials'],
        scopes: ['tokens:read'],
      });
      consumers[name].clientId = client.clientId;
      consumers[name].clientSecret = client.clientSecret;
    }
    await ds.destroy();
    admin = new IORedis(redisUrl);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    for (const user of users) await admin?.call('ACL', 'DELUSER', user).catch(() => undefined);
    admin?.disconnect();
    await db?.drop();
  });

  it('runs the whole system as its service users: REST, the bus and the worker work', async () => {
    const token = await fetch(`${base}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'admin',
        client_secret: ADMIN_SECRET,
      }),
    });
    expect(token.status).toBe(200);
    const bearer = ((await token.json()) as { access_token: string }).access_token;
    const stats = await fetch(`${base}/api/v2/externalOAuth/jobs/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{"type":"STATS"}',
    });
    expect(stats.status).toBe(202);
    const location = ((await stats.json()) as { location: string }).location;
    await until(
      async () =>
        (
          (await (
            await fetch(`${base}${location}`, { headers: { authorization: `Bearer ${bearer}` } })
          ).json()) as { status: string }
        ).status === 'COMPLETED',
      20_000,
      'the worker to run the job',
    );
    for (const s of services) expect(s.output.join('')).not.toMatch(/NOPERM/);
  });

  it('serves a consumer through its own ACL user', async () => {
    const client = await connectConsumer('consumer-a');
    try {
      const err = await client
        .acquire({ authorizationId: '00000000-0000-4000-8000-000000000000' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerClientError);
      expect((err as BrokerClientError).code).toBe('NOT_FOUND'); // the broker's own answer: the round trip works
      expect(client.stats().subscribed).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('refuses every command a consumer does not need', async () => {
    const b = new IORedis(consumers['consumer-b'].url, { enableReadyCheck: false, maxRetriesPerRequest: 1 });
    const p = prefix();
    const attempts: Record<string, () => Promise<unknown>> = {
      MONITOR: () => b.call('MONITOR'),
      'BLPOP the token-broker list': () => b.blpop(`${p}:bus:req:token-broker`, 1),
      'LPOP the token-broker list': () => b.lpop(`${p}:bus:req:token-broker`),
      'LRANGE the token-broker list': () => b.lrange(`${p}:bus:req:token-broker`, 0, -1),
      'RPUSH to the registry list': () => b.rpush(`${p}:bus:req:provider-registry`, 'x'),
      'DEL the token-broker list': () => b.del(`${p}:bus:req:token-broker`),
      'SET a request-id marker': () => b.set(`${p}:bus:seen:token-broker:x`, '1'),
      'PUBLISH an event': () => b.publish(`${p}:events`, 'x'),
      'PUBLISH on a reply channel': () => b.publish(`${p}:bus:reply:consumer-b:x`, 'x'),
      'GET a job key': () => b.get(`${p}:jobs:stats:id`),
      'HGETALL a job': () => b.hgetall(`${p}:jobs:stats:1`),
      KEYS: () => b.keys('*'),
      SCAN: () => b.scan('0'),
      INFO: () => b.info(),
      'CONFIG GET': () => b.config('GET', '*'),
      'ACL LIST': () => b.call('ACL', 'LIST'),
      'CLIENT LIST': () => b.client('LIST'),
      FLUSHALL: () => b.flushall(),
      EVAL: () => b.eval('return 1', 0),
    };
    try {
      for (const [what, attempt] of Object.entries(attempts)) {
        const err = await attempt().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect({ what, refused: err?.message.startsWith('NOPERM') ?? false }).toEqual({
          what,
          refused: true,
        });
      }
      for (const channel of [
        `${p}:bus:reply:consumer-a:x`,
        `${p}:bus:reply:gateway:x`,
        `${p}:bus:reply:token-broker:x`,
      ]) {
        const sub = new IORedis(consumers['consumer-b'].url, {
          enableReadyCheck: false,
          maxRetriesPerRequest: 1,
        });
        await expect(sub.subscribe(channel)).rejects.toThrow(/NOPERM/);
        await expect(sub.psubscribe(`${p}:*`)).rejects.toThrow(/NOPERM/);
        sub.disconnect();
      }
      // What it may do: push to the token-broker's list, and listen to its own channel and the events.
      expect(await b.rpush(`${p}:bus:req:token-broker`, 'not a request')).toBeGreaterThan(0);
    } finally {
      b.disconnect();
    }
  });

  it('a consumer with its own credentials cannot read another consumer’s requests or replies', async () => {
    const a = await connectConsumer('consumer-a');
    const monitor = new RequestMonitor(env['REDIS_URL'], prefix()); // someone else captures A's bytes for B
    await monitor.start();
    const b = new IORedis(consumers['consumer-b'].url, { enableReadyCheck: false, maxRetriesPerRequest: 1 });
    const heard: string[] = [];
    const bSub = new IORedis(consumers['consumer-b'].url, {
      enableReadyCheck: false,
      maxRetriesPerRequest: 1,
    });
    bSub.on('message', (_c: string, m: string) => heard.push(m));
    try {
      await a.acquire({ authorizationId: '00000000-0000-4000-8000-000000000001' }).catch(() => undefined);
      await until(
        () => monitor.seen.some((s) => s.envelope.r?.includes(':consumer-a:')),
        3_000,
        'A’s request',
      );
      const fromA = monitor.seen.find((s) => s.envelope.r?.includes(':consumer-a:'));
      if (!fromA) throw new Error('not captured');
      // B cannot listen where A's replies go.
      await expect(bSub.subscribe(fromA.envelope.r as string)).rejects.toThrow(/NOPERM/);
      // B re-sends A's request to be answered on B's own channel, and byte for byte: nothing comes back to B.
      const mine = `${prefix()}:bus:reply:consumer-b:${randomBytes(4).toString('hex')}`;
      await bSub.subscribe(mine);
      await b.rpush(
        `${prefix()}:bus:req:token-broker`,
        JSON.stringify({ ...fromA.envelope, r: mine }),
        fromA.raw,
      );
      await sleep(1_000);
      expect(heard).toEqual([]);
      expect(await b.llen(`${prefix()}:bus:req:token-broker`).catch((e: Error) => e.message)).toMatch(
        /NOPERM/,
      );
    } finally {
      monitor.stop();
      bSub.disconnect();
      b.disconnect();
      await a.close();
    }
  });
});
