/**
 * Where Redis is, as one REDIS_URL string says it. Every Redis connection of a service is made from
 * this one setting (bus, events, job queues, rate limits, revocation pings), so a deployment moves
 * to a Redis Cluster or to Sentinel by changing the URL's scheme, and no caller changes:
 *
 * - `redis://[user:pass@]host:port[/db]`, `rediss://…`: one server (ioredis' own URL form);
 * - `redis+cluster://[user:pass@]host:port[,host:port…]`, `rediss+cluster://…`: a Redis Cluster,
 *   from one or more seed nodes (the others are discovered with CLUSTER SLOTS);
 * - `redis+sentinel://[user:pass@]host:port[,host:port…]/<master name>[?sentinelUsername=…&sentinelPassword=…]`,
 *   `rediss+sentinel://…`: the master a set of Sentinels names (user and password are the data
 *   nodes'; the query gives the Sentinels' own, when they require one).
 *
 * Several hosts in a plain `redis://` URL are refused: it could mean either of the last two.
 */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: RedisNode[];
      masterName: string;
      username?: string;
      password?: string;
      sentinelUsername?: string;
      sentinelPassword?: string;
      db: number;
      tls: boolean;
    };

export interface RedisNode {
  host: string;
  port: number;
}

/** A REDIS_URL that names no usable Redis; the message says what is wrong (never the password). */
export class RedisUrlError extends Error {}

const SCHEME = /^(rediss?)(\+cluster|\+sentinel)?:\/\/(.*)$/s;
const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** Parses REDIS_URL (see RedisTopology); throws RedisUrlError. */
export function parseRedisUrl(url: string): RedisTopology {
  const m = SCHEME.exec(url);
  if (!m)
    throw new RedisUrlError(
      'must start with redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://',
    );
  const [, scheme, mode, rest] = m;
  const tls = scheme === 'rediss';
  // Authority (credentials and hosts) up to the first '/' or '?'; escaped credentials contain neither.
  const authorityEnd = rest.search(/[/?]/) === -1 ? rest.length : rest.search(/[/?]/);
  const authority = rest.slice(0, authorityEnd);
  const pathAndQuery = rest.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const credentials = at >= 0 ? authority.slice(0, at) : '';
  const hostList = at >= 0 ? authority.slice(at + 1) : authority;
  const nodes = hostList.split(',').map((entry) => node(entry, mode === '+sentinel' ? 26379 : 6379));
  if (!mode) {
    if (nodes.length > 1)
      throw new RedisUrlError(
        'names several hosts: use redis+cluster:// for a Redis Cluster or redis+sentinel:// for Sentinel',
      );
    try {
      new URL(url);
    } catch {
      throw new RedisUrlError('is not a valid URL');
    }
    return { kind: 'single', url };
  }
  const { username, password } = userAndPassword(credentials);
  const [path, query = ''] = pathAndQuery.split('?', 2);
  const params = new URLSearchParams(query);
  if (mode === '+cluster') {
    if (path.replace(/^\//, '') !== '')
      throw new RedisUrlError('a Redis Cluster has only database 0: give no /path');
    if ([...params.keys()].length)
      throw new RedisUrlError(
        `takes no query parameters in cluster mode (got ${[...params.keys()].join(', ')})`,
      );
    return { kind: 'cluster', nodes, username, password, tls };
  }
  const [masterName, db = '0'] = path.replace(/^\//, '').split('/');
  if (!/^[A-Za-z0-9_.-]+$/.test(masterName ?? ''))
    throw new RedisUrlError('needs the master name as its path: redis+sentinel://host:26379/<master name>');
  if (!/^\d{1,2}$/.test(db)) throw new RedisUrlError('database number after the master name must be 0-99');
  const unknown = [...params.keys()].filter((k) => k !== 'sentinelUsername' && k !== 'sentinelPassword');
  if (unknown.length)
    throw new RedisUrlError(
      `unknown query parameter(s): ${unknown.join(', ')} (sentinelUsername, sentinelPassword are known)`,
    );
  return {
    kind: 'sentinel',
    sentinels: nodes,
    masterName,
    username,
    password,
    sentinelUsername: params.get('sentinelUsername') ?? undefined,
    sentinelPassword: params.get('sentinelPassword') ?? undefined,
    db: Number(db),
    tls,
  };
}

/** Whether the URL names a Redis Cluster (its keys must then share a hash tag per multi-key operation). */
export function isRedisClusterUrl(url: string): boolean {
  try {
    return parseRedisUrl(url).kind === 'cluster';
  } catch {
    return false;
  }
}

function node(entry: string, defaultPort: number): RedisNode {
  const m = HOST_PORT.exec(entry);
  if (!m) throw new RedisUrlError(`host '${entry}' is not host or host:port`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) throw new RedisUrlError(`port ${port} is out of range`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function userAndPassword(credentials: string): { username?: string; password?: string } {
  if (!credentials) return {};
  const colon = credentials.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new RedisUrlError('has badly escaped credentials');
    }
  };
  if (colon < 0) return { username: decode(credentials) || undefined };
  return {
    username: decode(credentials.slice(0, colon)) || undefined,
    password: decode(credentials.slice(colon + 1)),
  };
}
