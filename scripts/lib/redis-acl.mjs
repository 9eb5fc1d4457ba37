// Redis ACL users for the broker: one per service and one per consumer client, each limited to its
// own keys and channels (the second wall behind the bus's cryptography; docs/bus-security.md).
//
//   node scripts/lib/redis-acl.mjs [--prefix broker] [--consumer NAME ...] [--keda]
//                                  [--queue-dashboard off|read|operate] [--json]
// prints ACL file lines (users.acl) with fresh passwords, and each user's REDIS_URL form, for an
// operator's Redis (--json: each user's rules, without passwords, for tools that apply them with
// ACL SETUSER); `npm start` applies the same rules to its local Redis.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICES = ['gateway', 'provider-registry', 'token-broker', 'worker'];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

// What every user may do on its connection: nothing that reads or lists other keys, no MONITOR.
// In a Redis Cluster a client also asks where the slots are (CLUSTER SLOTS; ioredis' ready check
// reads CLUSTER INFO) and follows ASK redirections during a resharding: server facts, no keys. A
// Redis Cluster does not share ACL users between nodes: the same lines go on every node.
const CONNECTION = ['+ping', '+quit', '+client|setname', '+client|getname', '+client|id', '+cluster|slots', '+cluster|info', '+asking'];

// Per service: the keys (~ read/write) and channels (&: publish and subscribe) it touches. Job
// queues (`<p>:jobs:*`: refresh, device-poll, provider-deletion, stats, key-rotation, setup-expiry,
// webhook-delivery) are shared by the services that produce and the worker that runs them (each
// producer's BullMQ queues write their metadata at start-up); bus request lists and request-id
// markers are per service. `<p>:identity:revocations` is the revocation list's content-free ping
// (the token-broker publishes it; every token verifier listens); `<p>:events` carries the signed
// broker events (token-broker, worker and provider-registry publish; token-broker, worker and the
// gateway, for its token cache, listen).
function serviceScope(app, p, dashboard = 'off') {
  const req = (s) => `~${p}:bus:req:${s}`;
  const revocations = `&${p}:identity:revocations`;
  switch (app) {
    case 'gateway':
      return [req('provider-registry'), req('token-broker'), `~${p}:rl:*`, `~${p}:login:*`, `&${p}:bus:reply:gateway:*`, `&${p}:events`, revocations, ...dashboardKeys(p, dashboard)];
    case 'provider-registry':
      return [req('provider-registry'), `~${p}:bus:seen:provider-registry:*`, req('token-broker'), `~${p}:jobs:*`, `&${p}:bus:reply:*`, `&${p}:events`, revocations];
    case 'token-broker':
      return [req('token-broker'), `~${p}:bus:seen:token-broker:*`, req('provider-registry'), `~${p}:jobs:*`, `&${p}:bus:reply:*`, `&${p}:events`, revocations];
    case 'worker':
      // `<p>:rl:refresh:*`: the per-provider refresh rate limit shared by every worker (docs/scale.md).
      return [`~${p}:jobs:*`, `~${p}:rl:refresh:*`, `&${p}:events`];
    default:
      throw new Error(`unknown service ${app}`);
  }
}

export const QUEUE_DASHBOARD_MODES = ['off', 'read', 'operate'];

// The gateway's queue dashboard (QUEUE_DASHBOARD, docs/queue-dashboard.md): nothing of the job
// queues when it is off; read-only key rights (`%R~`) on them in `read` mode (the dashboard sends its
// Lua reads as EVAL_RO / EVALSHA_RO, which Redis 7 checks as reads and which cannot write); read-write
// only when its actions are on (`operate`).
function dashboardKeys(p, mode) {
  if (!QUEUE_DASHBOARD_MODES.includes(mode)) throw new Error(`--queue-dashboard '${mode}': one of ${QUEUE_DASHBOARD_MODES.join(', ')}`);
  if (mode === 'off') return [];
  return [mode === 'read' ? `%R~${p}:jobs:*` : `~${p}:jobs:*`];
}

/**
 * ACL rules of a service's user (after `reset`): every command but the dangerous ones, on its own
 * keys and channels. `dashboard`: the gateway's QUEUE_DASHBOARD mode (off by default).
 */
export function serviceRules(app, prefix, dashboard = 'off') {
  // -@dangerous: no MONITOR, KEYS, FLUSHALL, CONFIG, DEBUG, ACL, CLIENT KILL/LIST, ...; INFO is
  // given back (ioredis' ready check and BullMQ's version check use it: server facts, no keys).
  return ['on', 'resetkeys', 'resetchannels', '-@all', '+@all', '-@dangerous', '+info', ...CONNECTION, ...serviceScope(app, prefix, dashboard)];
}

/**
 * ACL rules of a consumer client (what `libs/broker-client` needs and nothing more): push a sealed
 * request on the token-broker's list (and renew its expiry), subscribe to its own reply channel
 * `<prefix>:bus:reply:<name>:*` and to the events channel. It cannot pop, read or scan any key,
 * publish anything, subscribe by pattern or to another client's channel, or run MONITOR.
 */
export function consumerRules(name, prefix) {
  if (!NAME.test(name)) throw new Error(`consumer name '${name}': letters, digits, _ . - only (it names the reply channel)`);
  return [
    'on',
    'resetkeys',
    'resetchannels',
    '-@all',
    ...CONNECTION,
    '+rpush',
    '+expire',
    '+subscribe',
    '+unsubscribe',
    `~${prefix}:bus:req:token-broker`,
    `&${prefix}:bus:reply:${name}:*`,
    `&${prefix}:events`,
  ];
}

/**
 * ACL rules of KEDA's user (the worker Deployments' ScaledObjects, `redis` / `redis-cluster`
 * triggers): read the length of the BullMQ wait lists `<prefix>:jobs:<queue>:wait`, nothing else.
 * KEDA's redis-lists scaler (2.x) does not send LLEN itself: it runs one EVAL whose script asks
 * the key's TYPE and then LLEN (or ZCARD, SCARD, HLEN for other types; a wait list is a list, or
 * absent, which the script counts with LLEN). Scripts run with their caller's ACL, so the script
 * can touch only the wait lists and only with these commands. go-redis opens with HELLO (and
 * falls back to AUTH, always allowed) and, for a cluster, reads CLUSTER SLOTS / CLUSTER SHARDS; its
 * CLIENT SETINFO (Redis 7.2+) is left refused: go-redis ignores that answer.
 * Not given: reading a job (its hash), the job ids in a list (LRANGE), writing, any other key,
 * KEYS, SCAN, pub/sub.
 */
export function kedaRules(prefix) {
  return [
    'on',
    'resetkeys',
    'resetchannels',
    '-@all',
    '+ping',
    '+hello',
    '+cluster|slots',
    '+cluster|shards',
    '+eval',
    '+type',
    '+llen',
    // `~`, not the read-only `%R~`: EVAL declares its keys as read-write (a script may write), so a
    // read-only key pattern refuses the EVAL itself. Nothing can be written all the same: the only
    // commands a script of this user may call are TYPE and LLEN.
    `~${prefix}:jobs:*:wait`,
  ];
}

/** The rules of a user that may do everything (an operator's admin user). */
export function adminRules() {
  return ['on', '~*', '&*', '+@all'];
}

/** One ACL file line (the password stored as its SHA-256, as Redis does). */
export function aclFileLine(user, password, rules) {
  return `user ${user} ${rules.join(' ')} #${createHash('sha256').update(password).digest('hex')}`;
}

/** The REDIS_URL a user connects with. */
export function userUrl(baseUrl, user, password) {
  const url = new URL(baseUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** Creates or resets users on a Redis (ACL SETUSER): `users` is [{ name, password (null: none), rules }]. */
export async function applyUsers(redisUrl, users) {
  const { Redis: IORedis } = await import('ioredis');
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    for (const user of users) await redis.call('ACL', 'SETUSER', user.name, 'reset', ...user.rules, ...(user.password ? [`>${user.password}`] : []));
  } finally {
    redis.disconnect();
  }
}

/** The password of a local-default user, derived from REDIS_ACL_SECRET. */
export function localPassword(secret, user) {
  return createHmac('sha256', secret).update(`redis-acl:${user}`).digest('base64url');
}

/** The default user of the local Redis: PING and SHUTDOWN only (how the runner checks and stops its own server). */
const LOCAL_DEFAULT_USER = { name: 'default', password: null, rules: ['on', 'nopass', 'resetkeys', 'resetchannels', '-@all', '+ping', '+shutdown'] };

/** The queue dashboard mode `npm start` runs the gateway with (read-only: docs/queue-dashboard.md). */
export const LOCAL_QUEUE_DASHBOARD = 'read';

/**
 * The local default's users on the Redis `npm start` provisions: one per service (the gateway's
 * with read-only rights on the job queues, for the local queue dashboard), one consumer
 * (`demo-consumer`, for trying libs/broker-client) and an `admin` user. Passwords derive from the
 * local secret REDIS_ACL_SECRET.
 */
export function localUsers(prefix, secret) {
  const password = (user) => localPassword(secret, user);
  return [
    ...SERVICES.map((app) => ({ name: app, password: password(app), rules: serviceRules(app, prefix, LOCAL_QUEUE_DASHBOARD) })),
    { name: 'demo-consumer', password: password('demo-consumer'), rules: consumerRules('demo-consumer', prefix) },
    { name: 'admin', password: password('admin'), rules: adminRules() },
  ];
}

/**
 * The ACL file of the local Redis (`--aclfile`): the local users (passwords stored hashed) and a
 * default user that can only PING and SHUTDOWN. A file rather than ACL SETUSER once: a Redis the
 * runner restarts after a crash loads the same users before it takes a connection.
 */
export function localAclFile(prefix, secret) {
  const lines = localUsers(prefix, secret).map((u) => aclFileLine(u.name, u.password, u.rules));
  lines.push(`user default ${LOCAL_DEFAULT_USER.rules.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** Each local user's REDIS_URL on the Redis at `redisUrl`. */
export function localUserUrls(redisUrl, prefix, secret) {
  return Object.fromEntries(localUsers(prefix, secret).map((u) => [u.name, userUrl(redisUrl, u.name, u.password)]));
}

/**
 * Applies the local default's users to a running Redis with ACL SETUSER (tests that start their
 * own Redis); resolves with each user's REDIS_URL. The default user is restricted last.
 */
export async function setupLocalRedisAcl(redisUrl, prefix, secret) {
  await applyUsers(redisUrl, localUsers(prefix, secret));
  await applyUsers(redisUrl, [LOCAL_DEFAULT_USER]);
  return localUserUrls(redisUrl, prefix, secret);
}

function cli(argv) {
  let prefix = 'broker';
  let json = false;
  let keda = false;
  let dashboard = 'off';
  const consumers = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--prefix') prefix = argv[++i];
    else if (argv[i] === '--consumer') consumers.push(argv[++i]);
    else if (argv[i] === '--json') json = true;
    else if (argv[i] === '--keda') keda = true;
    else if (argv[i] === '--queue-dashboard') dashboard = argv[++i];
    else throw new Error(`usage: node scripts/lib/redis-acl.mjs [--prefix broker] [--consumer NAME ...] [--keda] [--queue-dashboard off|read|operate] [--json] (unknown: ${argv[i]})`);
  }
  if (json) {
    const rules = [
      ...SERVICES.map((app) => ({ user: app, rules: serviceRules(app, prefix, dashboard) })),
      ...consumers.map((name) => ({ user: name, rules: consumerRules(name, prefix) })),
      ...(keda ? [{ user: 'keda', rules: kedaRules(prefix) }] : []),
    ];
    process.stdout.write(`${JSON.stringify(rules)}\n`);
    return;
  }
  const lines = [];
  const urls = [];
  const add = (name, rules) => {
    const pass = randomBytes(24).toString('base64url');
    lines.push(aclFileLine(name, pass, rules));
    urls.push(`# ${name}: REDIS_URL=redis://${name}:${pass}@<host>:6379`);
  };
  for (const app of SERVICES) add(app, serviceRules(app, prefix, dashboard));
  for (const name of consumers) add(name, consumerRules(name, prefix));
  if (keda) add('keda', kedaRules(prefix));
  process.stdout.write(`${lines.join('\n')}\n\n# Give each its own URL (never print these into a log):\n${urls.join('\n')}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    cli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
