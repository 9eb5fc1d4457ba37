import { testBusKeys } from '@broker/testing';
import { ConfigError, loadServiceConfig } from '../src';

const keys = testBusKeys();
const BUS = {
  BUS_SERVICE_PRIVATE_KEY: keys.privateKeys['provider-registry'],
  BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys,
};
const EVENTS = { EVENTS_SIGNING_KEY: keys.eventsSigningKey, EVENTS_PUBLIC_KEYS: keys.eventsPublicKeys };
const valid = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ...BUS,
  EVENTS_SIGNING_KEY: keys.eventsSigningKeys['provider-registry'],
};

function problemsOf(env: Record<string, string | undefined>, database = true): string[] {
  try {
    loadServiceConfig('provider-registry', env, { database, busServer: true, defaultPort: 3101 });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('service configuration', () => {
  it('fills defaults and decodes the bus keys', () => {
    const config = loadServiceConfig('provider-registry', valid, {
      database: true,
      busServer: true,
      defaultPort: 3101,
    });
    expect(config).toMatchObject({
      service: 'provider-registry',
      nodeEnv: 'development',
      port: 3101,
      host: '127.0.0.1',
      logLevel: 'info',
      databaseUrl: valid.DATABASE_URL,
      redisUrl: valid.REDIS_URL,
      bus: { prefix: 'broker', timeoutMs: 5000 },
    });
    expect(config.bus.keys?.map((k) => k.kid)).toEqual(['r1']);
    expect(Object.keys(config.bus.publicKeys).sort()).toEqual(['provider-registry', 'token-broker']);
  });

  it('names missing and malformed bus and events keys, and a missing callee key, without echoing them', () => {
    expect(problemsOf({ ...valid, BUS_SERVICE_PRIVATE_KEY: 'r1:short' })).toEqual([
      "BUS_SERVICE_PRIVATE_KEY: private key 'r1': must be 32 bytes (got 3)",
    ]);
    expect(problemsOf({ ...valid, BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys.split(',')[0] })).toEqual([
      'BUS_SERVICE_PUBLIC_KEYS: needs the public key of token-broker (token-broker=kid:key)',
    ]);
    const broker = (env: Record<string, string>) => () =>
      loadServiceConfig(
        'token-broker',
        { ...valid, EVENTS_SIGNING_KEY: '', ...env },
        { database: true, busServer: true, defaultPort: 3102 },
      );
    expect(broker({})).toThrow(
      /EVENTS_SIGNING_KEY: required but not set[\s\S]*EVENTS_PUBLIC_KEYS: required but not set/,
    );
    expect(broker({ ...EVENTS, EVENTS_SIGNING_KEY: 'nokey' })).toThrow(
      /EVENTS_SIGNING_KEY: signing key: each entry is kid:key/,
    );
    const worker = loadServiceConfig(
      'worker',
      {
        ...valid,
        BUS_SERVICE_PUBLIC_KEYS: '',
        EVENTS_SIGNING_KEY: keys.eventsSigningKeys.worker,
        EVENTS_PUBLIC_KEYS: keys.eventsPublicKeys,
      },
      { database: true, defaultPort: 3103 },
    );
    expect(keys.eventsPublicKeys.split(',')).toContain(worker.bus.eventsSigningKey?.publicEntry);
    expect([...(worker.bus.eventsPublicKeys?.keys() ?? [])].sort()).toEqual(['epr1', 'etb1', 'ewk1']);
  });

  it('names every missing variable', () => {
    expect(problemsOf({})).toEqual([
      'DATABASE_URL: required but not set',
      'REDIS_URL: required but not set',
      'BUS_SERVICE_PRIVATE_KEY: required but not set',
      'BUS_SERVICE_PUBLIC_KEYS: required but not set',
      // The provider-registry publishes provider change notices, signed with its own key.
      'EVENTS_SIGNING_KEY: required but not set',
    ]);
  });

  it('does not require DATABASE_URL of a service without tables', () => {
    expect(
      problemsOf({ REDIS_URL: valid.REDIS_URL, ...BUS, EVENTS_SIGNING_KEY: valid.EVENTS_SIGNING_KEY }, false),
    ).toEqual([]);
  });

  it('names each bad value with what is expected', () => {
    const problems = problemsOf({
      ...valid,
      DATABASE_URL: 'mysql://x',
      PORT: '70000',
      LOG_LEVEL: 'loud',
      BUS_TIMEOUT_MS: 'soon',
    });
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL: must be a URL starting with postgres:\/\//),
        'PORT: must be between 1 and 65535',
        expect.stringMatching(/^LOG_LEVEL: /),
        'BUS_TIMEOUT_MS: must be a whole number',
      ]),
    );
  });

  it('treats an empty variable as unset', () => {
    expect(problemsOf({ ...valid, PORT: '' })).toEqual([]);
    expect(problemsOf({ ...valid, REDIS_URL: '' })).toEqual(['REDIS_URL: required but not set']);
  });

  it('requires ENCRYPTION_KEYS and SECRET_PEPPER of a service that keeps secrets, and checks the keyring', () => {
    const load = (env: Record<string, string>) =>
      loadServiceConfig(
        'token-broker',
        { ...valid, ...EVENTS, ...env },
        { database: true, secrets: true, defaultPort: 3102 },
      );
    expect(() => load({})).toThrow(
      /ENCRYPTION_KEYS: required but not set[\s\S]*SECRET_PEPPER: required but not set/,
    );
    const key = Buffer.alloc(32, 1).toString('base64');
    const pepper = Buffer.alloc(32, 2).toString('base64');
    expect(() => load({ ENCRYPTION_KEYS: `a:${key},b:${key}`, SECRET_PEPPER: pepper })).toThrow(
      /ENCRYPTION_KEYS: several keys are given/,
    );
    const config = load({
      ENCRYPTION_KEYS: `a:${key},b:${key}`,
      ENCRYPTION_ACTIVE_KEY_ID: 'b',
      SECRET_PEPPER: pepper,
      PUBLIC_URL: 'https://broker.example.com/',
    });
    expect(config.secrets?.keyring.activeKeyId).toBe('b');
    expect(config.publicUrl).toBe('https://broker.example.com');
    expect(config.identity.bootstrap).toEqual({
      orgId: 'default',
      clientId: 'admin',
      clientSecret: undefined,
    });
  });

  it("switches the gateway's token cache on by default where the events keys are given; asked for without them, stops", () => {
    const gateway = (env: Record<string, string>) =>
      loadServiceConfig('gateway', { ...valid, ...env }, { database: false, defaultPort: 3000 }).tokenCache;
    expect(gateway({ EVENTS_PUBLIC_KEYS: keys.eventsPublicKeys })).toMatchObject({
      enabled: true,
      offWithoutEventKeys: false,
    });
    // Unset and no keys: off, and the gateway says why at boot (offWithoutEventKeys).
    expect(gateway({})).toMatchObject({ enabled: false, offWithoutEventKeys: true });
    expect(gateway({ EVENTS_PUBLIC_KEYS: keys.eventsPublicKeys, GATEWAY_TOKEN_CACHE: 'off' })).toMatchObject({
      enabled: false,
      offWithoutEventKeys: false,
    });
    expect(gateway({ GATEWAY_TOKEN_CACHE: 'off' })).toMatchObject({
      enabled: false,
      offWithoutEventKeys: false,
    });
    expect(() => gateway({ GATEWAY_TOKEN_CACHE: 'on' })).toThrow(
      /EVENTS_PUBLIC_KEYS: required when GATEWAY_TOKEN_CACHE=on/,
    );
    expect(() => gateway({ GATEWAY_TOKEN_CACHE: 'yes' })).toThrow(/GATEWAY_TOKEN_CACHE: must be on or off/);
  });

  it('takes the upstream sign-in provider all or nothing', () => {
    expect(
      loadServiceConfig('gateway', valid, { database: false, defaultPort: 3000 }).upstreamLogin,
    ).toBeUndefined();
    expect(
      problemsOf({
        ...valid,
        UPSTREAM_CLIENT_ID: 'broker',
        UPSTREAM_TOKEN_URL: 'https://idp.example.com/token',
      }),
    ).toEqual([
      'UPSTREAM_AUTHORIZATION_URL: required when any UPSTREAM_* variable is set',
      'UPSTREAM_USERINFO_URL: required when any UPSTREAM_* variable is set',
      'UPSTREAM_CLIENT_SECRET: required when any UPSTREAM_* variable is set',
    ]);
    expect(problemsOf({ ...valid, UPSTREAM_USERINFO_URL: 'ftp://idp.example.com/me' })).toEqual([
      'UPSTREAM_USERINFO_URL: must be a URL starting with http:// or https://',
    ]);
    const config = loadServiceConfig(
      'gateway',
      {
        ...valid,
        UPSTREAM_AUTHORIZATION_URL: 'https://idp.example.com/authorize',
        UPSTREAM_TOKEN_URL: 'https://idp.example.com/token',
        UPSTREAM_USERINFO_URL: 'https://idp.example.com/userinfo',
        UPSTREAM_CLIENT_ID: 'broker',
        UPSTREAM_CLIENT_SECRET: 'upstream-secret',
      },
      { database: false, defaultPort: 3000 },
    );
    expect(config.upstreamLogin).toEqual({
      authorizationUrl: 'https://idp.example.com/authorize',
      tokenUrl: 'https://idp.example.com/token',
      userinfoUrl: 'https://idp.example.com/userinfo',
      clientId: 'broker',
      clientSecret: 'upstream-secret',
      scope: 'openid email profile',
    });
  });

  it('keeps loopback providers a development setting and parses the egress ports', () => {
    const load = (env: Record<string, string>) =>
      loadServiceConfig('worker', { ...valid, ...EVENTS, ...env }, { database: true, defaultPort: 3103 });
    expect(load({}).egress).toEqual({ allowLoopback: false, allowedPorts: [443] });
    expect(load({ EGRESS_ALLOW_LOOPBACK: 'true', EGRESS_ALLOWED_PORTS: '443,8443' }).egress).toEqual({
      allowLoopback: true,
      allowedPorts: [443, 8443],
    });
    expect(() => load({ EGRESS_ALLOW_LOOPBACK: 'true', NODE_ENV: 'production' })).toThrow(
      /EGRESS_ALLOW_LOOPBACK: .*refused when NODE_ENV=production/,
    );
    expect(problemsOf({ ...valid, EGRESS_ALLOWED_PORTS: '443;80' })).toEqual([
      'EGRESS_ALLOWED_PORTS: must be a comma-separated list of ports, e.g. 443,8443',
    ]);
  });

  it('keeps the test fault hooks off by default and out of production', () => {
    const load = (env: Record<string, string>) =>
      loadServiceConfig(
        'token-broker',
        { ...valid, ...EVENTS, ...env },
        { database: true, defaultPort: 3102 },
      );
    expect(load({}).testFaultHooks).toBe(false);
    expect(load({ TEST_FAULT_HOOKS: '1' }).testFaultHooks).toBe(true);
    expect(() => load({ TEST_FAULT_HOOKS: '1', NODE_ENV: 'production' })).toThrow(
      /TEST_FAULT_HOOKS: .*refused when NODE_ENV=production/,
    );
  });
});

describe('Redis Cluster and Sentinel settings', () => {
  const cluster = 'redis+cluster://provider-registry:pw@10.0.0.1:7000,10.0.0.2:7000';

  it('takes a hash-tagged BUS_PREFIX, and a cluster or Sentinel REDIS_URL', () => {
    expect(
      loadServiceConfig(
        'provider-registry',
        { ...valid, REDIS_URL: cluster, BUS_PREFIX: '{broker}' },
        { database: true, busServer: true, defaultPort: 3101 },
      ),
    ).toMatchObject({
      redisUrl: cluster,
      bus: { prefix: '{broker}' },
    });
    expect(problemsOf({ ...valid, BUS_PREFIX: 'tenant-{a}' })).toEqual([]);
    expect(problemsOf({ ...valid, REDIS_URL: 'redis+sentinel://s1:26379,s2:26379/mymaster' })).toEqual([]);
  });

  it('refuses a cluster REDIS_URL with a prefix whose keys would spread over slots, naming BUS_PREFIX', () => {
    expect(problemsOf({ ...valid, REDIS_URL: cluster, BUS_PREFIX: 'broker' })).toEqual([
      "BUS_PREFIX: in a Redis Cluster (REDIS_URL redis+cluster://) the prefix needs a hash tag, e.g. {broker}, so each job queue's keys share one slot",
    ]);
    expect(problemsOf({ ...valid, REDIS_URL: cluster })).toHaveLength(1);
  });

  it('refuses malformed prefixes and URLs, naming the variable and never the password', () => {
    for (const prefix of ['{a}{b}', '{}', 'a{b', 'a}b', 'a b', 'a:b']) {
      expect(problemsOf({ ...valid, BUS_PREFIX: prefix })).toEqual([
        'BUS_PREFIX: letters, digits, _ . - and at most one {hash tag} only',
      ]);
    }
    const problems = problemsOf({ ...valid, REDIS_URL: 'redis://u:hunter2@a:1,b:2' });
    expect(problems).toEqual([expect.stringMatching(/^REDIS_URL: names several hosts/)]);
    expect(problems.join()).not.toContain('hunter2');
  });
});
