import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { testRedisUrl, uniquePrefix } from '@broker/testing';

const ACL_SCRIPT = join(__dirname, '..', '..', 'scripts', 'lib', 'redis-acl.mjs');

// What KEDA's redis-lists scaler (2.x) sends for a trigger: one EVAL that asks the key's type
// and counts it accordingly (a list with LLEN; an absent key counts as an empty list).
const KEDA_LENGTH_SCRIPT = `
local kind = redis.call('type', KEYS[1]).ok
local count = { list = 'llen', none = 'llen', zset = 'zcard', set = 'scard', hash = 'hlen' }
return redis.call(count[kind], KEYS[1])`;

/**
 * KEDA's Redis user (scripts/lib/redis-acl.mjs --keda): it reads the length of the BullMQ wait
 * lists the ScaledObjects watch and can do nothing else, whatever script or command it sends.
 */
describe("KEDA's Redis ACL user", () => {
  const prefix = uniquePrefix('keda');
  const user = `keda-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  let admin: IORedis;
  let keda: IORedis;
  let queue: Queue;
  let jobKey: string;

  beforeAll(async () => {
    const rules = (
      JSON.parse(
        execFileSync(process.execPath, [ACL_SCRIPT, '--prefix', prefix, '--keda', '--json'], {
          encoding: 'utf8',
        }),
      ) as { user: string; rules: string[] }[]
    ).find((u) => u.user === 'keda')?.rules;
    expect(rules).toBeDefined();
    admin = new IORedis(testRedisUrl());
    await admin.call('ACL', 'SETUSER', user, 'reset', ...(rules ?? []), `>${password}`);
    const url = new URL(testRedisUrl());
    url.username = user;
    url.password = password;
    // KEDA (go-redis) sends no INFO ready check; neither does this stand-in.
    keda = new IORedis(url.toString(), { maxRetriesPerRequest: 1, enableReadyCheck: false });
    queue = new Queue('token-refresh', { connection: { url: testRedisUrl() }, prefix: `${prefix}:jobs` });
    const jobs = await queue.addBulk(
      [1, 2, 3].map((i) => ({
        name: 'REFRESH_AUTHORIZATION',
        data: { orgId: 'o', authorizationId: `a${i}` },
      })),
    );
    jobKey = `${prefix}:jobs:token-refresh:${jobs[0].id}`;
  });

  afterAll(async () => {
    keda?.disconnect();
    await queue?.obliterate({ force: true });
    await queue?.close();
    await admin?.call('ACL', 'DELUSER', user);
    admin?.disconnect();
  });

  // An ACL refusal: NOPERM for a command or key, or the same refusals inside a script.
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => 'allowed',
      (err: Error) =>
        /NOPERM|user executing the script can't (run this command|access at least one of the keys)/.test(
          err.message,
        )
          ? 'refused'
          : err.message,
    );

  it("runs KEDA's length script on a wait list (and on an absent one, as empty)", async () => {
    expect(await keda.eval(KEDA_LENGTH_SCRIPT, 1, `${prefix}:jobs:token-refresh:wait`)).toBe(3);
    expect(await keda.eval(KEDA_LENGTH_SCRIPT, 1, `${prefix}:jobs:webhook-delivery:wait`)).toBe(0);
    expect(await keda.ping()).toBe('PONG');
  });

  it('cannot read a job, list the job ids, change a list, or reach any other key', async () => {
    const wait = `${prefix}:jobs:token-refresh:wait`;
    const attempts: Record<string, Promise<unknown>> = {
      'HGETALL a job': keda.hgetall(jobKey),
      'LRANGE the wait list': keda.lrange(wait, 0, -1),
      'LLEN outside a script on another key': keda.llen(`${prefix}:jobs:token-refresh:active`),
      'a script reading a job hash it names': keda.eval("return redis.call('hgetall', KEYS[1])", 1, jobKey),
      'a script naming the wait list but reading a job': keda.eval(
        "return redis.call('hgetall', ARGV[1])",
        1,
        wait,
        jobKey,
      ),
      'a script counting a list it did not declare': keda.eval(
        "return redis.call('llen', ARGV[1])",
        1,
        wait,
        `${prefix}:jobs:token-refresh:active`,
      ),
      'a script listing the job ids': keda.eval("return redis.call('lrange', KEYS[1], 0, -1)", 1, wait),
      'a script emptying the wait list': keda.eval("return redis.call('del', KEYS[1])", 1, wait),
      'a script pushing onto the wait list': keda.eval("return redis.call('lpush', KEYS[1], 'x')", 1, wait),
      "another deployment's wait list": keda.eval(KEDA_LENGTH_SCRIPT, 1, `other:jobs:token-refresh:wait`),
      KEYS: keda.keys('*'),
      SCAN: keda.scan(0),
      SUBSCRIBE: keda.subscribe(`${prefix}:events`).finally(() => keda.unsubscribe().catch(() => undefined)),
      'CONFIG GET': keda.config('GET', '*'),
      'CLIENT LIST': keda.client('LIST'),
    };
    const results: Record<string, string> = {};
    for (const [name, attempt] of Object.entries(attempts)) results[name] = await refused(attempt);
    expect(results).toEqual(Object.fromEntries(Object.keys(attempts).map((name) => [name, 'refused'])));
    expect(await admin.llen(`${prefix}:jobs:token-refresh:wait`)).toBe(3);
  });
});
