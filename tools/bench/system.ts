// The whole system for the tokens benchmark, provisioned from nothing: throwaway PostgreSQL + Redis,
// the demo identity provider (oidc-provider) with test hooks, the four built services with three
// token-broker replicas, an admin token, users, an `oidc` provider and authorizations made through
// the real consent flow (authorize → sign-in at the provider → callback).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { IDENTITY_SCHEMA, UsersService } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { text } from './bench-env';
import { Proc, waitFor } from './procs';
import { appScopedEnv, envForApp, freePort, signInAtDemoIdp, testBusKeys } from '@broker/testing';
import { App, ROOT, appEntry, httpOk } from './system-checks';
import type { Authorization, SystemOptions, TokenSystem } from './system-types';

export type { Authorization, SystemOptions, TokenSystem } from './system-types';
export { appEntry, checkBuild, pidFromFile } from './system-checks';

export async function startTokenSystem(o: SystemOptions): Promise<TokenSystem> {
  const adminSecret = randomBytes(32).toString('base64url');
  const providerSecret = randomBytes(24).toString('base64url');
  const gatewayPort = await freePort();
  const idpPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const idpIssuer = `http://127.0.0.1:${idpPort}`;
  const pathEnv = { PATH: process.env['PATH'] ?? '' };

  o.step(`demo identity provider (access tokens live ${o.accessTokenTtlSeconds} s)`);
  const idp = new Proc(
    'demo-idp',
    process.execPath,
    [join(ROOT, 'tools', 'demo-idp', 'server.mjs')],
    {
      ...pathEnv,
      DEMO_IDP_PORT: String(idpPort),
      DEMO_IDP_CLIENTS: JSON.stringify([
        {
          client_id: 'broker-provider',
          client_secret: providerSecret,
          redirect_uris: [`${gatewayUrl}/api/v2/externalOAuth/providers/callback/`],
        },
      ]),
      DEMO_IDP_ACCESS_TOKEN_TTL: String(o.accessTokenTtlSeconds),
      DEMO_IDP_TEST_HOOKS: '1',
    },
    join(o.dir, 'demo-idp.log'),
    ROOT,
  );

  const env: Record<string, string> = {
    ...pathEnv,
    NODE_ENV: 'development',
    LOG_LEVEL: o.logLevel,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    // Each service gets only its own private key (envForApp); callers get the public keys.
    ...appScopedEnv(testBusKeys()),
    BUS_PREFIX: `bench-${randomBytes(3).toString('hex')}`,
    BUS_TIMEOUT_MS: '15000',
    PUBLIC_URL: gatewayUrl,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SECRET_PEPPER: randomBytes(32).toString('base64'),
    BOOTSTRAP_CLIENT_SECRET: adminSecret,
    EGRESS_ALLOW_LOOPBACK: 'true',
    EGRESS_ALLOWED_PORTS: ['443', idpPort, ...(o.egressPorts ?? [])].join(','),
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    DELEGATED_TOKEN_TTL_SECONDS: '3600',
    // Node flags for the services only (e.g. GC settings), to compare runtime tunings.
    ...(text('BENCH_SERVICE_NODE_OPTIONS') ? { NODE_OPTIONS: text('BENCH_SERVICE_NODE_OPTIONS') } : {}),
    // BENCH_GATEWAY_TOKEN_CACHE=off|on: the gateway's cache of served tokens (docs/gateway-http.md); unset, the product default (on).
    ...(text('BENCH_GATEWAY_TOKEN_CACHE')
      ? { GATEWAY_TOKEN_CACHE: String(text('BENCH_GATEWAY_TOKEN_CACHE')) }
      : {}),
    ...o.extraEnv,
  };
  const ports = new Map<Proc, number>();
  const inspectPorts = new Map<Proc, number>();
  const startApp = async (
    app: App,
    i = 0,
    port?: number,
    more: Record<string, string> = {},
    named?: string,
  ): Promise<Proc> => {
    const p = port ?? (await freePort());
    const name = named ?? (i ? `${app}-${i + 1}` : app);
    const inspect = o.inspect && (app === 'token-broker' || app === 'gateway') ? await freePort() : undefined;
    const args = [...(inspect ? [`--inspect=127.0.0.1:${inspect}`] : []), appEntry(app)];
    const proc = new Proc(
      name,
      process.execPath,
      args,
      { ...envForApp(app, env), ...more, PORT: String(p) },
      join(o.dir, `${name}.log`),
      ROOT,
    );
    ports.set(proc, p);
    if (inspect) inspectPorts.set(proc, inspect);
    return proc;
  };
  const ready = (proc: Proc, app: App) =>
    waitFor(`${proc.name} /health/ready`, proc, 60_000, () =>
      httpOk(
        `http://127.0.0.1:${ports.get(proc)}/health/ready`,
        (b) => (b as { service?: string }).service === app,
      ),
    );

  await waitFor('demo-idp', idp, 20_000, () => httpOk(`${idpIssuer}/.well-known/openid-configuration`));

  o.step(`services: ${o.brokerReplicas} token-broker replicas, provider-registry, worker, gateway`);
  const brokers: Proc[] = [await startApp('token-broker', 0)];
  await ready(brokers[0], 'token-broker'); // migrations run once, before the others start
  for (let i = 1; i < o.brokerReplicas; i++) brokers.push(await startApp('token-broker', i));
  const others = [await startApp('provider-registry'), await startApp('worker')];
  const gateway = await startApp('gateway', 0, gatewayPort);
  await Promise.all([
    ...brokers.slice(1).map((b) => ready(b, 'token-broker')),
    ready(others[0], 'provider-registry'),
    ready(others[1], 'worker'),
    ready(gateway, 'gateway'),
  ]);

  const api = async (path: string, bearer: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${gatewayUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };
  const expectStatus = (what: string, r: { status: number; body: unknown }, status: number) => {
    if (r.status !== status)
      throw new Error(
        `${what}: HTTP ${r.status} (expected ${status}): ${JSON.stringify(r.body).slice(0, 300)}`,
      );
    return r.body as Record<string, unknown>;
  };

  o.step('admin token, provider, consent flows');
  const tokenRes = await fetch(`${gatewayUrl}/api/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'admin',
      client_secret: adminSecret,
    }),
  });
  if (tokenRes.status !== 200)
    throw new Error(`client_credentials: HTTP ${tokenRes.status}: ${await tokenRes.text()}`);
  const adminToken = ((await tokenRes.json()) as { access_token: string }).access_token;

  const created = expectStatus(
    'create provider',
    await api('/api/v2/externalOAuth/providers/', adminToken, {
      method: 'POST',
      body: {
        type: 'oidc',
        name: 'Bench IdP',
        clientId: 'broker-provider',
        clientSecret: providerSecret,
        issuer: idpIssuer,
      },
    }),
    201,
  );
  const providerId = created['id'] as string;

  const callback = `${gatewayUrl}/api/v2/externalOAuth/providers/callback`;
  const signInAtProvider = (url: string, email: string): Promise<URL> =>
    signInAtDemoIdp(url, email, (u) => u.startsWith(callback), { given_name: 'Bench', family_name: 'User' });

  const connectUser = async (user: string): Promise<Authorization> => {
    const email = `${user}@example.test`;
    const ds = await new DataSource(
      domainDataSourceOptions(o.databaseUrl, IDENTITY_SCHEMA, 'bench-setup', 1),
    ).initialize();
    try {
      await new UsersService(ds).upsert('default', { sub: user, email });
    } finally {
      await ds.destroy();
    }
    const delegated = expectStatus(
      'delegated token',
      await api('/api/v1/oauth/delegated-token', adminToken, {
        method: 'POST',
        body: { sub: user, scopes: ['authorizations:read', 'authorizations:write', 'tokens:read'] },
      }),
      200,
    );
    const userToken = delegated['access_token'] as string;
    const start = expectStatus(
      'authorize',
      await api(`/api/v2/externalOAuth/providers/${providerId}/authorize/?state=bench`, userToken, {
        method: 'POST',
      }),
      200,
    );
    const back = await signInAtProvider(start['redirectUrl'] as string, email);
    const done = expectStatus(
      'callback',
      await api('/api/v2/externalOAuth/providers/callback/', userToken, {
        method: 'POST',
        body: {
          code: back.searchParams.get('code'),
          state: back.searchParams.get('state'),
          providerId,
          iss: back.searchParams.get('iss') ?? undefined,
        },
      }),
      200,
    );
    const authorizationId = (done['authorizedProvider'] as { id: string }).id;
    return { user, email, userToken, authorizationId, connectedAt: Date.now() };
  };

  const consumed = async () => {
    const res = await fetch(`${idpIssuer}/__test/events`, { signal: AbortSignal.timeout(5_000) });
    return ((await res.json()) as Record<string, number>)['refresh_token.consumed'] ?? 0;
  };

  return {
    databaseUrl: o.databaseUrl,
    redisUrl: o.redisUrl,
    pgDataDir: o.pgDataDir,
    redisDir: o.redisDir,
    env,
    gatewayUrl,
    idpIssuer,
    gateway,
    brokers,
    others,
    idp,
    adminToken,
    providerId,
    authorizations: [],
    consumed,
    connectUser,
    inspectPort: (proc) => inspectPorts.get(proc),
    startService: async (app, more, name) => {
      const proc = await startApp(app, 0, undefined, more, name);
      await ready(proc, app);
      return proc;
    },
  };
}
