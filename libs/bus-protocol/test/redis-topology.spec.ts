import { Cluster } from 'ioredis';
import { RedisUrlError, createRedisConnection, isRedisClusterUrl, parseRedisUrl } from '../src';

describe('REDIS_URL forms (one server, Redis Cluster, Sentinel)', () => {
  it('keeps a one-server URL as it is', () => {
    expect(parseRedisUrl('redis://gateway:s3cret@redis:6379/2')).toEqual({
      kind: 'single',
      url: 'redis://gateway:s3cret@redis:6379/2',
    });
    expect(parseRedisUrl('rediss://redis.example')).toEqual({
      kind: 'single',
      url: 'rediss://redis.example',
    });
  });

  it('reads a cluster URL: seed nodes, credentials (unescaped), TLS from the scheme', () => {
    expect(parseRedisUrl('redis+cluster://worker:p%40ss%3Aword@10.0.0.1:7000,10.0.0.2:7001,redis-2')).toEqual(
      {
        kind: 'cluster',
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
          { host: 'redis-2', port: 6379 },
        ],
        username: 'worker',
        password: 'p@ss:word',
        tls: false,
      },
    );
    expect(parseRedisUrl('rediss+cluster://[::1]:7000')).toMatchObject({
      kind: 'cluster',
      nodes: [{ host: '::1', port: 7000 }],
      tls: true,
    });
    expect(isRedisClusterUrl('redis+cluster://127.0.0.1:7000')).toBe(true);
    expect(isRedisClusterUrl('redis://127.0.0.1:7000')).toBe(false);
  });

  it('reads a Sentinel URL: sentinels (default port 26379), master name, database, the sentinels own credentials', () => {
    expect(
      parseRedisUrl(
        'redis+sentinel://token-broker:pw@s1,s2:26380/mymaster/3?sentinelUsername=sen&sentinelPassword=tinel',
      ),
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      masterName: 'mymaster',
      username: 'token-broker',
      password: 'pw',
      sentinelUsername: 'sen',
      sentinelPassword: 'tinel',
      db: 3,
      tls: false,
    });
  });

  it.each([
    ['http://127.0.0.1:6379', /must start with redis:\/\//],
    ['redis://a:1,b:2', /several hosts: use redis\+cluster:\/\/ .* or redis\+sentinel:\/\//],
    ['redis+cluster://a:1/0', /only database 0/],
    ['redis+cluster://a:1?tls=1', /no query parameters/],
    ['redis+cluster://a:99999', /port 99999 is out of range/],
    ['redis+cluster://a b:1', /host 'a b:1' is not host or host:port/],
    ['redis+sentinel://s1:26379', /needs the master name/],
    ['redis+sentinel://s1:26379/m?password=x', /unknown query parameter\(s\): password/],
    ['redis+cluster://u:%E0%A4%A@a:1', /badly escaped credentials/],
  ])('refuses %s with a message that says why', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it('never puts the password in its messages', () => {
    for (const url of [
      'redis+cluster://u:hunter2@a:99999',
      'redis+sentinel://u:hunter2@a',
      'redis://u:hunter2@a:1,b:2',
    ]) {
      try {
        parseRedisUrl(url);
        throw new Error('accepted');
      } catch (err) {
        expect((err as Error).message).not.toContain('hunter2');
      }
    }
  });

  it('opens an ioredis Cluster for a cluster URL, with the caller options split between cluster and nodes', () => {
    const redis = createRedisConnection('redis+cluster://svc:pw@127.0.0.1:1,127.0.0.1:2', 'test:cluster', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    try {
      expect(redis).toBeInstanceOf(Cluster);
      const cluster = redis as unknown as Cluster;
      expect(cluster.options.enableOfflineQueue).toBe(false);
      expect(cluster.options.lazyConnect).toBe(true);
      expect(cluster.options.redisOptions).toMatchObject({
        username: 'svc',
        password: 'pw',
        connectionName: 'test:cluster',
        maxRetriesPerRequest: 1,
      });
    } finally {
      redis.disconnect();
    }
  });
});
