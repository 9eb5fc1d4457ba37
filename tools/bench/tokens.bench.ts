// npm run bench:tokens — the token path end to end, against the bare parts it is built on.
//
// Provisions everything (throwaway PostgreSQL + Redis, the demo IdP, the four services with three
// token-broker replicas), connects users through the real consent flow, then measures:
//   references   Redis GET, bare BullMQ round trip, bare bus echo, bare Node http hello-world
//   bus          tokens.acquire sequential, open loop at a fixed rate, closed-loop max throughput
//   client       BrokerClient acquires served from its local cache
//   REST         POST …/authorizedProviders/{id}/token/ sequential and closed loop at 32 / 64 connections
//   breakdown    the hot path's parts timed alone (PostgreSQL read, envelope decrypt, ES256 verify)
//   storm        1 000 concurrent acquires of a token that needs a refresh, over the 3 replicas:
//                upstream refreshes counted at the IdP (must be exactly 1)
// Bounded in count and time; loopback only. CPU per component is read from /proc for the throughput rows.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { Queue, QueueEvents } from 'bullmq';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { BrokerClient } from '@broker/broker-client';
import { BusClientProxy, createRedisConnection } from '@broker/bus';
import { generateServiceKey, parseServicePublicKeys } from '@broker/bus-protocol';
import type { AcquiredToken } from '@broker/contracts';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { CpuMeter, CpuReport, childrenOf, formatCpu } from './cpu';
import { HttpTarget, httpClosedLoop, openLoop } from './load';
import { InspectorSession, formatSummary, summarize } from './profile';
import { freePort } from '@broker/testing';
import { Proc, sleep, waitFor } from './procs';
import { percentile, throughput, timeSequential } from './stats';
import { TokenSystem, checkBuild, pidFromFile, startTokenSystem } from './system';
import { leastPrivilegeRows, timeLeastPrivilege } from './least-privilege.part';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const N = num('BENCH_N', 2000); // sequential samples per latency row
const WARMUP = 200;
const THROUGHPUT_MS = num('BENCH_THROUGHPUT_MS', 3000);
const BUS_CONCURRENCY = num('BENCH_CONCURRENCY', 128);
const REST_CONCURRENCY = [32, 64];
const RATE = num('BENCH_RATE', 1000);
const OPEN_MS = num('BENCH_OPEN_MS', 5000);
const STORM = num('BENCH_STORM', 1000);
const REPLICAS = num('BENCH_REPLICAS', 3); // the storm is specified across 3
const TOKEN_TTL = num('BENCH_IDP_TOKEN_TTL', 3600); // long: the hot-path rows never need a refresh
const MIN_VALIDITY = 60;
const OTHER_CPU_WARN = 20; // % of a core used outside this run above which a row is flagged as disturbed
const PROFILE = process.env['BENCH_PROFILE'] === '1'; // CPU profiles of broker-1 and the gateway during the bus and REST rows (costs CPU: not for the figures)
const PROFILE_DIR = PROFILE ? process.env['BENCH_PROFILE_DIR'] : undefined; // where to also write the raw .cpuprofile files
if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });

export interface TokensBenchResult {
  rows: Record<string, number>;
  cpu: Record<string, CpuReport | null>;
  profiles: string[];
  notes: string[];
}

const step = (m: string) => process.stderr.write(`  … ${m}\n`);
const p = (v: number[], q: number) => percentile(v, q);

/** A bus or bare-BullMQ echo responder (tools/bench/responder.ts, as bench:bus runs it). */
async function startResponder(
  dir: string,
  kind: 'bullmq' | 'bus',
  redisUrl: string,
  prefix: string,
  privateKey: string,
): Promise<Proc> {
  const proc = new Proc(
    `responder-${kind}`,
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'responder.ts'), kind, redisUrl, prefix, privateKey],
    {
      ...(process.env as Record<string, string>),
      TSX_TSCONFIG_PATH: join(__dirname, '..', '..', 'tsconfig.base.json'),
    },
    join(dir, `responder-${kind}.log`),
  );
  await waitFor(`${kind} responder`, proc, 30_000, async () => proc.tail().includes('ready'));
  return proc;
}

/** A REST row from the dedicated load generator (tools/bench/http-load.mjs, its own process). */
type HttpLoadResult = Awaited<ReturnType<typeof httpClosedLoop>> & { generatorCpuPercent: number };

async function startHttpLoad(
  dir: string,
  name: string,
  target: HttpTarget,
  o: { connections: number; ms?: number; n?: number; warmup?: number },
): Promise<{ proc: Proc; run: () => Promise<HttpLoadResult> }> {
  const out = join(dir, `${name}.json`);
  const sequential = o.n !== undefined;
  const args = {
    ...target,
    connections: o.connections,
    ms: o.ms ?? 0,
    warmupMs: 500,
    sequential,
    n: o.n,
    warmup: o.warmup,
    out,
  };
  const proc = new Proc(
    `load-${name}`,
    process.execPath,
    [join(__dirname, 'http-load.mjs'), Buffer.from(JSON.stringify(args)).toString('base64')],
    { PATH: process.env['PATH'] ?? '' },
    join(dir, `load-${name}.log`),
    join(__dirname, '..', '..'),
  );
  await waitFor(`load generator ${name}`, proc, 60_000, async () => proc.tail().includes('ready'));
  return {
    proc,
    run: async () => {
      process.kill(proc.pid, 'SIGUSR2');
      await waitFor(`load generator ${name} results`, proc, (o.ms ?? 0) + 120_000, async () =>
        existsSync(out),
      );
      return JSON.parse(readFileSync(out, 'utf8')) as HttpLoadResult;
    },
  };
}

export async function runTokensBench(
  dir: string,
  services: { databaseUrl: string; redisUrl: string; pgDataDir: string; redisDir: string },
): Promise<TokensBenchResult> {
  const rows: Record<string, number> = {};
  const cpu: Record<string, CpuReport | null> = {};
  const notes: string[] = [];
  const profiles: string[] = [];
  if (PROFILE)
    notes.push(
      'BENCH_PROFILE=1: broker-1 and the gateway ran with the inspector and were sampled during some rows; these figures are lower than an unprofiled run.',
    );
  const build = checkBuild();
  if (build && !build.startsWith('warning')) throw new Error(build);
  if (build) notes.push(build);
  notes.push(describeCode());

  const sys: TokenSystem = await startTokenSystem({
    dir,
    ...services,
    brokerReplicas: REPLICAS,
    accessTokenTtlSeconds: TOKEN_TTL,
    logLevel: process.env['BENCH_LOG_LEVEL'] ?? 'info',
    inspect: PROFILE,
    step,
  });
  const hot = await sys.connectUser('alice'); // the hot-path rows
  const stormAuth = await sys.connectUser('bob'); // the refresh storm (ages while the rest runs)
  const unlinked = await sys.connectUser('carol'); // unlinked while a BrokerClient holds its token (the event's delay)

  // CPU per component, measured during every row.
  const pgMaster = pidFromFile(join(sys.pgDataDir, 'postmaster.pid'));
  const redisPid = pidFromFile(join(sys.redisDir, 'redis.pid'));
  const helpers: Proc[] = []; // echo responders and the hello-world server, while they run
  const loadgens: Proc[] = []; // the dedicated load generators (bus open loop, REST rows), while they run
  const components = () => ({
    bench: [process.pid],
    // The dedicated load generators (bus open loop, REST rows), while they run: their own CPU, apart.
    loadgen: loadgens.filter((l) => l.alive).map((l) => l.pid),
    gateway: [sys.gateway.pid],
    ...Object.fromEntries(sys.brokers.map((b, i) => [`broker-${i + 1}`, [b.pid]])),
    'registry+worker': sys.others.map((o) => o.pid),
    redis: redisPid ? [redisPid] : [],
    postgres: pgMaster ? [pgMaster, ...childrenOf(pgMaster)] : [],
    ...(helpers.some((h) => h.alive) ? { helpers: helpers.filter((h) => h.alive).map((h) => h.pid) } : {}),
  });
  const meter = new CpuMeter(components);
  /** Runs `fn` measuring CPU per component; with BENCH_PROFILE=1 also samples `profile` (processes). */
  const measured = async <T>(name: string, fn: () => Promise<T>, profile: Proc[] = []): Promise<T> => {
    const sessions = PROFILE
      ? await Promise.all(profile.map((proc) => InspectorSession.connect(sys.inspectPort(proc) as number)))
      : [];
    await Promise.all(sessions.map((s) => s.startProfiling()));
    meter.start();
    try {
      return await fn();
    } finally {
      cpu[name] = meter.stop();
      for (const [i, s] of sessions.entries()) {
        const raw = await s.stopProfiling();
        profiles.push(formatSummary(`${name} / ${profile[i].name}`, summarize(raw)));
        // BENCH_PROFILE_DIR: the raw profiles too (open in Chrome DevTools, or read by function).
        if (PROFILE_DIR)
          writeFileSync(join(PROFILE_DIR, `${name}.${profile[i].name}.cpuprofile`), JSON.stringify(raw));
        s.close();
      }
    }
  };

  // ---------------------------------------------------------------------------------------------
  // 1. References
  const refPrefix = `bench-ref-${randomBytes(3).toString('hex')}`;
  const refServiceKey = generateServiceKey('s1');
  const refKey = refServiceKey.privateKey;
  step('references: Redis GET');
  const redis = createRedisConnection(sys.redisUrl, 'bench-get');
  await redis.set(`${refPrefix}:k`, 'v');
  const gets = await measured('redis_get', () =>
    timeSequential(N, WARMUP, () => redis.get(`${refPrefix}:k`)),
  );
  rows['redis_get_p50'] = p(gets, 50);
  rows['redis_get_p99'] = p(gets, 99);

  step('references: bare BullMQ add→complete');
  const bare = await startResponder(dir, 'bullmq', sys.redisUrl, refPrefix, refKey);
  helpers.push(bare);
  const queue = new Queue('bench-bare', { connection: redis, prefix: refPrefix });
  const events = new QueueEvents('bench-bare', {
    connection: createRedisConnection(sys.redisUrl, 'bench-events'),
    prefix: refPrefix,
  });
  await events.waitUntilReady();
  const payload = { authorizationId: hot.authorizationId, minValiditySeconds: MIN_VALIDITY };
  const bullmq = await measured('bullmq', () =>
    timeSequential(N, WARMUP, async () => {
      const job = await queue.add('echo', payload, { removeOnComplete: { count: 1000 } });
      await job.waitUntilFinished(events, 10_000);
    }),
  );
  rows['bullmq_p50'] = p(bullmq, 50);
  rows['bullmq_p99'] = p(bullmq, 99);
  await bare.stop();
  await events.close();
  await queue.close();

  step('references: bare bus echo (1 responder)');
  const echoResponder = await startResponder(dir, 'bus', sys.redisUrl, refPrefix, refKey);
  helpers.push(echoResponder);
  const echoClient = new BusClientProxy({
    redisUrl: sys.redisUrl,
    servicePublicKeys: parseServicePublicKeys(`bench=${refServiceKey.publicKey}`),
    prefix: refPrefix,
    defaultTimeoutMs: 10_000,
  });
  await echoClient.connect();
  const echo = await measured('bus_echo', () =>
    timeSequential(N, WARMUP, () => echoClient.call('bench', 'bench.echo', payload)),
  );
  rows['bus_echo_count'] = N + WARMUP;
  rows['echo_p50'] = p(echo, 50);
  rows['echo_p99'] = p(echo, 99);
  await echoClient.close();
  await echoResponder.stop();

  step('references: bare Node http hello-world');
  const helloPort = await freePort();
  const helloProc = new Proc(
    'hello',
    process.execPath,
    [join(__dirname, 'hello-server.mjs'), String(helloPort)],
    { PATH: process.env['PATH'] ?? '' },
    join(dir, 'hello.log'),
  );
  helpers.push(helloProc);
  await waitFor('hello server', helloProc, 10_000, async () => helloProc.tail().includes('ready'));
  const restPath = `/api/v2/externalOAuth/authorizedProviders/${hot.authorizationId}/token/`;
  const headers = { authorization: `Bearer ${hot.userToken}`, accept: 'application/json' };
  const helloTarget: HttpTarget = { port: helloPort, path: restPath, method: 'POST', headers, expect: 201 };
  /** A row driven by the dedicated generator: its CPU is measured apart (the `loadgen` component) and reported. */
  const generated = async (
    name: string,
    target: HttpTarget,
    o: { connections: number; ms?: number; n?: number; warmup?: number },
    profile: Proc[] = [],
  ) => {
    const gen = await startHttpLoad(dir, name, target, o);
    loadgens.push(gen.proc);
    try {
      const r = await measured(name, gen.run, profile);
      rows[`${name}_generator_cpu`] = r.generatorCpuPercent;
      return r;
    } finally {
      loadgens.pop();
      await gen.proc.stop();
    }
  };
  const helloSeq = await generated('hello_seq', helloTarget, { connections: 1, n: N, warmup: WARMUP });
  rows['hello_seq_p50'] = p(helloSeq.latencies, 50);
  for (const c of REST_CONCURRENCY) {
    const r = await generated(`hello_${c}`, helloTarget, { connections: c, ms: THROUGHPUT_MS });
    rows[`hello_${c}_rps`] = r.rps;
    rows[`hello_${c}_errors`] = r.errors;
  }
  await helloProc.stop();

  // ---------------------------------------------------------------------------------------------
  // 2. Bus acquire (a service account's token: no ownership read)
  const bus = new BusClientProxy({
    redisUrl: sys.redisUrl,
    servicePublicKeys: parseServicePublicKeys(sys.env['BUS_SERVICE_PUBLIC_KEYS']),
    prefix: sys.env['BUS_PREFIX'],
    defaultTimeoutMs: 15_000,
  });
  await bus.connect();
  const acquire = (authorizationId: string, minValiditySeconds: number, client = bus, timeoutMs = 15_000) =>
    client.request(
      'tokens.acquire',
      { authorizationId, minValiditySeconds },
      { auth: sys.adminToken, timeoutMs },
    ) as Promise<AcquiredToken>;
  const before = await sys.consumed();

  step('bus acquire: sequential');
  const busSeq = await measured(
    'bus_seq',
    () => timeSequential(N, WARMUP, () => acquire(hot.authorizationId, MIN_VALIDITY)),
    [sys.brokers[0]],
  );
  rows['bus_seq_count'] = N + WARMUP;
  rows['bus_seq_p50'] = p(busSeq, 50);
  rows['bus_seq_p99'] = p(busSeq, 99);

  /** The open loop from a fresh process of its own (tools/bench/open-loop-client.ts). */
  const startOpenLoopClient = async (): Promise<() => Promise<Awaited<ReturnType<typeof openLoop>>>> => {
    const out = join(dir, 'open-loop.json');
    const args = {
      redisUrl: sys.redisUrl,
      publicKeys: sys.env['BUS_SERVICE_PUBLIC_KEYS'],
      prefix: sys.env['BUS_PREFIX'],
      token: sys.adminToken,
      authorizationId: hot.authorizationId,
      minValiditySeconds: MIN_VALIDITY,
      rate: RATE,
      ms: OPEN_MS,
      warmup: WARMUP,
      out,
    };
    const proc = new Proc(
      'open-loop-client',
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'open-loop-client.ts'),
        Buffer.from(JSON.stringify(args)).toString('base64'),
      ],
      {
        PATH: process.env['PATH'] ?? '',
        TSX_TSCONFIG_PATH: join(__dirname, '..', '..', 'tsconfig.base.json'),
      },
      join(dir, 'open-loop-client.log'),
      join(__dirname, '..', '..'),
    );
    loadgens.push(proc);
    await waitFor('open-loop client warm-up', proc, 60_000, async () => proc.tail().includes('ready'));
    return async () => {
      process.kill(proc.pid, 'SIGUSR2');
      await waitFor('open-loop client results', proc, OPEN_MS + 60_000, async () => existsSync(out));
      return JSON.parse(readFileSync(out, 'utf8')) as Awaited<ReturnType<typeof openLoop>>;
    };
  };

  step(`bus acquire: open loop ${RATE}/s for ${OPEN_MS / 1000} s (from its own process)`);
  const runOpenLoop = await startOpenLoopClient();
  const open = await measured('bus_open', runOpenLoop);
  await loadgens.pop()?.stop();
  rows['bus_open_p50'] = p(open.latencies, 50);
  rows['bus_open_p99'] = p(open.latencies, 99);
  rows['bus_open_max'] = Math.max(...open.latencies);
  rows['bus_open_rps'] = open.rps;
  rows['bus_open_count'] = open.latencies.length + open.errors;
  rows['bus_open_errors'] = open.errors;
  rows['bus_open_send_delay_p50'] = p(open.sendDelays, 50);
  rows['bus_open_send_delay_p99'] = p(open.sendDelays, 99);

  step(`bus acquire: closed loop, ${BUS_CONCURRENCY} in flight`);
  let busErrors = 0;
  rows['bus_max_rps'] = await measured(
    'bus_max',
    () =>
      throughput(BUS_CONCURRENCY, THROUGHPUT_MS, () =>
        acquire(hot.authorizationId, MIN_VALIDITY).catch(() => {
          busErrors++;
        }),
      ),
    [sys.brokers[0]],
  );
  rows['bus_max_errors'] = busErrors;
  rows['bus_max_count'] = (rows['bus_max_rps'] * THROUGHPUT_MS) / 1000;

  // ---------------------------------------------------------------------------------------------
  // 3. BrokerClient with its local cache
  step('BrokerClient: cached acquires');
  const client = await BrokerClient.connect({
    redisUrl: sys.redisUrl,
    brokerPublicKey:
      sys.env['BUS_SERVICE_PUBLIC_KEYS']
        .split(',')
        .find((e) => e.startsWith('token-broker='))
        ?.slice('token-broker='.length) ?? '',
    eventsPublicKeys: sys.env['EVENTS_PUBLIC_KEYS'],
    prefix: sys.env['BUS_PREFIX'],
    credentials: { getAccessToken: async () => sys.adminToken },
    name: 'bench-client',
  });
  try {
    await client.acquire({ authorizationId: hot.authorizationId, minValiditySeconds: MIN_VALIDITY }); // the one miss
    const hitsBefore = client.stats().cacheHits;
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 1000) {
      for (let i = 0; i < 1000; i++)
        await client.acquire({ authorizationId: hot.authorizationId, minValiditySeconds: MIN_VALIDITY });
      n += 1000;
    }
    rows['client_cached_rps'] = n / ((performance.now() - t0) / 1000);
    rows['client_cache_hit_share'] = (client.stats().cacheHits - hitsBefore) / n;
    const lat = await timeSequential(N, WARMUP, () =>
      client.acquire({ authorizationId: hot.authorizationId, minValiditySeconds: MIN_VALIDITY }),
    );
    rows['client_cached_p50'] = p(lat, 50);

    // A revocation seen by the client: carol's token cached, then unlinked over REST; how long until
    // the broker's event reached this client (its cache entry dropped), from when the DELETE was sent.
    step('BrokerClient: a revocation event');
    await client.acquire({ authorizationId: unlinked.authorizationId, minValiditySeconds: MIN_VALIDITY });
    const eventsBefore = client.stats().eventsReceived;
    const sent = performance.now();
    let answered = NaN;
    const del = fetch(
      `${sys.gatewayUrl}/api/v2/externalOAuth/authorizedProviders/${unlinked.authorizationId}/`,
      {
        method: 'DELETE',
        headers: { authorization: `Bearer ${unlinked.userToken}` },
      },
    ).then(async (res) => {
      answered = performance.now() - sent;
      await res.body?.cancel();
      return res.status;
    });
    while (client.stats().eventsReceived === eventsBefore && performance.now() - sent < 5_000)
      await new Promise((r) => setImmediate(r));
    rows['client_revocation_seen_ms'] =
      client.stats().eventsReceived > eventsBefore ? performance.now() - sent : NaN;
    rows['client_revocation_delete_status'] = await del;
    rows['client_revocation_delete_ms'] = answered;
    // And the token is no longer served from the cache.
    rows['client_revocation_refused'] = await client
      .acquire({ authorizationId: unlinked.authorizationId, minValiditySeconds: MIN_VALIDITY })
      .then(
        () => 0,
        () => 1,
      );
  } finally {
    await client.close();
  }

  // ---------------------------------------------------------------------------------------------
  // 4. REST acquire through the gateway (a user's delegated token: the broker checks ownership)
  const gatewayPort = Number(new URL(sys.gatewayUrl).port);
  const rest: HttpTarget = { port: gatewayPort, path: restPath, method: 'POST', headers, expect: 201 };
  step('REST acquire: sequential');
  const restSeq = await generated('rest_seq', rest, { connections: 1, n: N, warmup: WARMUP }, [
    sys.gateway,
    sys.brokers[0],
  ]);
  rows['rest_seq_p50'] = p(restSeq.latencies, 50);
  rows['rest_seq_p99'] = p(restSeq.latencies, 99);
  rows['rest_seq_errors'] = restSeq.errors;
  /** The gateway's CPU per request of a row (µs; /proc ticks of 10 ms, so meaningful over thousands of requests). */
  const gatewayUs = (name: string, requests: number) =>
    ((cpu[name]?.cpuMs['gateway'] ?? NaN) * 1000) / requests;
  rows['rest_seq_gateway_us'] = gatewayUs('rest_seq', restSeq.ok + restSeq.errors);
  for (const c of REST_CONCURRENCY) {
    step(`REST acquire: ${c} connections`);
    const r = await generated(
      `rest_${c}`,
      rest,
      { connections: c, ms: THROUGHPUT_MS },
      c === 64 ? [sys.gateway, sys.brokers[0]] : [],
    );
    rows[`rest_${c}_rps`] = r.rps;
    rows[`rest_${c}_p50`] = p(r.latencies, 50);
    rows[`rest_${c}_p99`] = p(r.latencies, 99);
    rows[`rest_${c}_errors`] = r.errors;
    rows[`rest_${c}_gateway_us`] = gatewayUs(`rest_${c}`, r.ok + r.errors);
  }
  rows['upstream_refreshes_hot'] = (await sys.consumed()) - before;

  // ---------------------------------------------------------------------------------------------
  // 5. The hot path's parts, each timed alone from this process (same machine, same servers)
  step('hot-path parts: PostgreSQL read, decrypt, ES256 verify');
  const pg = new PgClient({ connectionString: sys.databaseUrl });
  pg.on('error', () => undefined); // the server going away at clean-up is not an error of the bench
  await pg.connect();
  try {
    const orgId = 'default';
    const readSql = `SELECT a.org_id, a.status, a.provider_id, a.user_id, a.scopes, c.id AS credential_id, c.access_token, c.refresh_token, c.token_type, c.expires_at, c.generation, c.lease_until, c.updated_at
         FROM tokens.authorizations a LEFT JOIN tokens.credentials c ON c.authorization_id = a.id
        WHERE a.id = $1 AND a.org_id = $2`;
    const reads = await timeSequential(N, WARMUP, () => pg.query(readSql, [hot.authorizationId, orgId]));
    rows['part_pg_read_p50'] = p(reads, 50);
    const ownSql =
      'SELECT * FROM tokens.authorizations WHERE id = $1 AND org_id = $2 AND user_id = $3 LIMIT 1';
    const owns = await timeSequential(N, WARMUP, () =>
      pg.query(ownSql, [hot.authorizationId, orgId, hot.user]),
    );
    rows['part_pg_own_p50'] = p(owns, 50);
    const row = (await pg.query(readSql, [hot.authorizationId, orgId])).rows[0] as {
      access_token: string;
      credential_id: string;
    };
    const cipher = new EnvelopeCipher(parseKeyring(sys.env['ENCRYPTION_KEYS']));
    const decCtx = { table: 'tokens.credentials', column: 'access_token', orgId, rowId: row.credential_id };
    const decrypts = await timeSequential(5 * N, WARMUP, async () =>
      cipher.decryptString(row.access_token, decCtx),
    );
    rows['part_decrypt_p50'] = p(decrypts, 50);
    const jwks = (await (await fetch(`${sys.gatewayUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const keySet = createLocalJWKSet(jwks);
    const verifies = await timeSequential(N, WARMUP, () =>
      jwtVerify(sys.adminToken, keySet, { algorithms: ['ES256'] }),
    );
    rows['part_verify_p50'] = p(verifies, 50);
  } finally {
    await pg.end();
  }

  // 5b. Least privilege: the consumer-policy check and the ledger record, in-process as the token path runs them
  step('least privilege: policy check and ledger record');
  const lp = await timeLeastPrivilege(
    sys.databaseUrl,
    sys.env['SECRET_PEPPER'],
    hot.authorizationId,
    hot.user,
  );
  Object.assign(rows, lp);

  // ---------------------------------------------------------------------------------------------
  // 6. Refresh storm over the three replicas
  const cred = await (async () => {
    const c = new PgClient({ connectionString: sys.databaseUrl });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (
        await c.query('SELECT expires_at, updated_at FROM tokens.credentials WHERE authorization_id = $1', [
          stormAuth.authorizationId,
        ])
      ).rows[0] as {
        expires_at: Date;
        updated_at: Date;
      };
    } finally {
      await c.end();
    }
  })();
  const age = (Date.now() - cred.updated_at.getTime()) / 1000;
  if (age < 7) {
    step(`storm: letting the token age ${(7 - age).toFixed(1)} s more`);
    await sleep((7 - age) * 1000);
  }
  const lifetime = (cred.expires_at.getTime() - cred.updated_at.getTime()) / 1000;
  // More than the token has left (it is > 6 s old) and no more than a fresh one can give: one refresh is needed.
  const stormMin = Math.ceil(lifetime);
  rows['storm_token_age_s'] = (Date.now() - cred.updated_at.getTime()) / 1000;
  rows['storm_min_validity'] = stormMin;
  step(
    `storm: ${STORM} concurrent acquires (minValiditySeconds ${stormMin}, ${Math.round((cred.expires_at.getTime() - Date.now()) / 1000)} s left)`,
  );
  const oldToken = (await acquire(stormAuth.authorizationId, 5)).accessToken;
  const callers = Array.from(
    { length: 3 },
    (_, i) =>
      new BusClientProxy({
        redisUrl: sys.redisUrl,
        servicePublicKeys: parseServicePublicKeys(sys.env['BUS_SERVICE_PUBLIC_KEYS']),
        prefix: sys.env['BUS_PREFIX'],
        name: `storm-${i}`,
      }),
  );
  await Promise.all(callers.map((c) => c.connect()));
  const stormBefore = await sys.consumed();
  try {
    const latencies: number[] = [];
    const tokens = new Set<string>();
    let errors = 0;
    const storm = await measured('storm', async () => {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: STORM }, async (_, i) => {
          const s = performance.now();
          try {
            const t = await acquire(stormAuth.authorizationId, stormMin, callers[i % callers.length], 30_000);
            latencies.push(performance.now() - s);
            tokens.add(t.accessToken);
          } catch {
            errors++;
          }
        }),
      );
      return performance.now() - t0;
    });
    rows['storm_refreshes'] = (await sys.consumed()) - stormBefore;
    rows['storm_p50'] = p(latencies, 50);
    rows['storm_p99'] = p(latencies, 99);
    rows['storm_max'] = Math.max(...latencies);
    rows['storm_wall_ms'] = storm;
    rows['storm_errors'] = errors;
    rows['storm_distinct_tokens'] = tokens.size;
    rows['storm_token_changed'] = tokens.has(oldToken) ? 0 : 1;
  } finally {
    await Promise.all(callers.map((c) => c.close()));
  }

  await bus.close();
  await redis.quit();
  return { rows, cpu, profiles, notes };
}

/** What was measured: the commit, whether the tree had changes, when dist/ was built. */
function describeCode(): string {
  const root = join(__dirname, '..', '..');
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '?';
    }
  };
  const dirty = git('status', '--porcelain', '--', 'apps', 'libs')
    ? ' with uncommitted changes in apps/ or libs/'
    : '';
  let built = '?';
  try {
    built = statSync(join(root, 'dist', 'apps', 'token-broker', 'main.js')).mtime.toISOString();
  } catch {
    /* checked earlier */
  }
  return `code: ${git('rev-parse', '--short', 'HEAD')} (${git('log', '-1', '--format=%s').slice(0, 80)})${dirty}; dist/ built ${built}`;
}

// -----------------------------------------------------------------------------------------------
// Output

/**
 * CPU time per bus request, by component (from /proc, so it holds on a loaded machine where the
 * wall-clock rows do not): the figure to compare before and after a change of the bus.
 */
function busCpuRows(r: TokensBenchResult): [string, string][] {
  const x = r.rows;
  const perRequest = (
    row: string,
    parts: [label: string, match: (component: string) => boolean][],
  ): [string, string] | undefined => {
    const cpu = r.cpu[row];
    const count = x[`${row}_count`];
    if (!cpu || !(count > 0)) return undefined;
    const wallMs = cpu.wallMs;
    const figures = parts.map(([label, match]) => {
      const percent = Object.entries(cpu.percentOfCore)
        .filter(([k]) => match(k))
        .reduce((a, [, v]) => a + v, 0);
      return `${label} ${(((percent / 100) * wallMs * 1000) / count).toFixed(0)}`;
    });
    return [`CPU µs per request, ${row} (${Math.round(count)} requests)`, figures.join(' / ')];
  };
  const brokers = (k: string) => k.startsWith('broker-');
  return [
    perRequest('bus_echo', [
      ['responder', (k) => k === 'helpers'],
      ['Redis', (k) => k === 'redis'],
      ['caller', (k) => k === 'bench'],
    ]),
    perRequest('bus_seq', [
      ['token-broker replicas', brokers],
      ['Redis', (k) => k === 'redis'],
      ['caller', (k) => k === 'bench'],
    ]),
    perRequest('bus_open', [
      ['token-broker replicas', brokers],
      ['Redis', (k) => k === 'redis'],
      ['caller (own process)', (k) => k === 'loadgen'],
    ]),
    perRequest('bus_max', [
      ['token-broker replicas', brokers],
      ['Redis', (k) => k === 'redis'],
      ['caller', (k) => k === 'bench'],
    ]),
  ].filter((row): row is [string, string] => row !== undefined);
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 3 : 1)} ms` : 'n/a');
const us = (v: number) => `${(v * 1000).toFixed(1)} µs`;
const rps = (v: number) => `${Math.round(v).toLocaleString('en-US').replace(/,/g, ' ')} req/s`;
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

export function printTokensBench(r: TokensBenchResult): void {
  const x = r.rows;
  type Row = [string, string, string?, boolean?];
  const table: Row[] = [
    ['**References**', ''],
    ['Redis GET p50 / p99', `${ms(x['redis_get_p50'])} / ${ms(x['redis_get_p99'])}`],
    ['bare BullMQ add→complete (QueueEvents) p50 / p99', `${ms(x['bullmq_p50'])} / ${ms(x['bullmq_p99'])}`],
    ['bare bus echo, 1 responder, p50 / p99', `${ms(x['echo_p50'])} / ${ms(x['echo_p99'])}`],
    ['bare Node http hello-world: sequential p50', ms(x['hello_seq_p50'])],
    ...REST_CONCURRENCY.map(
      (c): Row => [
        `bare Node http hello-world: ${c} connections (generator CPU ${Math.round(x[`hello_${c}_generator_cpu`])} % of a core)`,
        rps(x[`hello_${c}_rps`]),
      ],
    ),
    ['**Bus `tokens.acquire`** (3 replicas)', ''],
    ['sequential p50 / p99', `${ms(x['bus_seq_p50'])} / ${ms(x['bus_seq_p99'])}`],
    [
      `open loop ${RATE}/s × ${OPEN_MS / 1000} s: p50`,
      ms(x['bus_open_p50']),
      '≤ 1 ms',
      x['bus_open_p50'] <= 1,
    ],
    [
      `open loop ${RATE}/s × ${OPEN_MS / 1000} s: p99 (max ${ms(x['bus_open_max'])})`,
      ms(x['bus_open_p99']),
      '≤ 3 ms',
      x['bus_open_p99'] <= 3,
    ],
    [
      'open loop: achieved rate, errors; requests left late by p50 / p99',
      `${rps(x['bus_open_rps'])}, ${x['bus_open_errors']}; ${ms(x['bus_open_send_delay_p50'])} / ${ms(x['bus_open_send_delay_p99'])}`,
    ],
    [
      `max throughput, ${BUS_CONCURRENCY} in flight (errors ${x['bus_max_errors']})`,
      rps(x['bus_max_rps']),
      '≥ 10 000 req/s',
      x['bus_max_rps'] >= 10_000,
    ],
    ['**BrokerClient** (local cache)', ''],
    [
      `cached acquires, one caller (hit share ${(x['client_cache_hit_share'] * 100).toFixed(1)} %)`,
      `${rps(x['client_cached_rps'])}, p50 ${us(x['client_cached_p50'])}`,
      '≥ 1 000 000 /s',
      x['client_cached_rps'] >= 1_000_000,
    ],
    [
      `revocation event seen by the client, from the DELETE sent (its answer took ${ms(x['client_revocation_delete_ms'])}, HTTP ${x['client_revocation_delete_status']})`,
      `${ms(x['client_revocation_seen_ms'])}; then ${x['client_revocation_refused'] ? 'refused, not served from the cache' : '**served from the cache**'}`,
      '≤ 100 ms',
      x['client_revocation_seen_ms'] <= 100 && x['client_revocation_refused'] === 1,
    ],
    ['**REST** `POST …/authorizedProviders/{id}/token/`', ''],
    [
      `sequential p50 / p99 (errors ${x['rest_seq_errors']})`,
      `${ms(x['rest_seq_p50'])} / ${ms(x['rest_seq_p99'])}`,
      'p50 ≤ 1.0 ms',
      x['rest_seq_p50'] <= 1.0,
    ],
    ...REST_CONCURRENCY.map((c): Row => {
      const share = x[`rest_${c}_rps`] / x[`hello_${c}_rps`];
      return [
        `${c} connections (p50 ${ms(x[`rest_${c}_p50`])}, p99 ${ms(x[`rest_${c}_p99`])}, errors ${x[`rest_${c}_errors`]}; generator CPU ${Math.round(x[`rest_${c}_generator_cpu`])} %)`,
        `${rps(x[`rest_${c}_rps`])} = ${(share * 100).toFixed(1)} % of hello-world`,
        '≥ 20 % of hello-world',
        share >= 0.2,
      ];
    }),
    [
      `gateway CPU per request: sequential / ${REST_CONCURRENCY.join(' / ')} connections`,
      [x['rest_seq_gateway_us'], ...REST_CONCURRENCY.map((c) => x[`rest_${c}_gateway_us`])]
        .map((v) => `${Math.round(v)} µs`)
        .join(' / '),
    ],
    ['**Refresh storm**', ''],
    [
      `${STORM} concurrent acquires over 3 replicas: upstream refreshes`,
      `${x['storm_refreshes']} (distinct tokens served ${x['storm_distinct_tokens']}, errors ${x['storm_errors']})`,
      'exactly 1',
      x['storm_refreshes'] === 1 &&
        x['storm_errors'] === 0 &&
        x['storm_distinct_tokens'] === 1 &&
        x['storm_token_changed'] === 1,
    ],
    [
      'storm p50 / p99 / max (all done in)',
      `${ms(x['storm_p50'])} / ${ms(x['storm_p99'])} / ${ms(x['storm_max'])} (${ms(x['storm_wall_ms'])})`,
    ],
    [
      'upstream refreshes during the hot-path rows',
      String(x['upstream_refreshes_hot']),
      '0',
      x['upstream_refreshes_hot'] === 0,
    ],
    ['**Hot-path parts**, timed alone', ''],
    ['PostgreSQL token read (the JOIN) p50', ms(x['part_pg_read_p50'])],
    ['PostgreSQL ownership read (REST only; done twice) p50', ms(x['part_pg_own_p50'])],
    ['envelope decrypt (2 × AES-256-GCM) p50', us(x['part_decrypt_p50'])],
    ['ES256 access-token verify p50 (bus guard; REST: gateway + broker)', us(x['part_verify_p50'])],
    ["bus acquire p50 − bare bus echo p50 (the broker's work)", ms(x['bus_seq_p50'] - x['echo_p50'])],
    ['REST p50 − bus acquire p50 (gateway + ownership reads)', ms(x['rest_seq_p50'] - x['bus_seq_p50'])],
    ...busCpuRows(r),
    ...leastPrivilegeRows(x, r.cpu['bus_max'] ?? null),
  ];
  console.log(
    `\nbench:tokens  (N=${N} sequential per latency row after ${WARMUP} warm-up; throughput rows ${THROUGHPUT_MS} ms closed loop; token-broker × ${REPLICAS})\n`,
  );
  console.log('| measure | figure | target | met |');
  console.log('| --- | --- | --- | --- |');
  for (const [k, v, target, ok] of table)
    console.log(`| ${k} | ${v} | ${target ?? ''} | ${target ? met(Boolean(ok)) : ''} |`);
  console.log(
    '\nCPU by component while each row ran (% of one core; 2 cores = 200 %; "other" = processes outside this run):',
  );
  for (const [name, rep] of Object.entries(r.cpu)) console.log(`  ${name.padEnd(10)} ${formatCpu(rep)}`);
  const disturbed = Object.entries(r.cpu).filter(([, rep]) => rep && rep.other > OTHER_CPU_WARN);
  if (disturbed.length) {
    console.log(
      `\nWARNING: other processes used more than ${OTHER_CPU_WARN} % of a core during ${disturbed.map(([n, rep]) => `${n} (${Math.round(rep?.other ?? 0)} %)`).join(', ')}: ` +
        'those rows measure a shared machine; run again when it is quiet.',
    );
  }
  if (r.profiles.length)
    console.log(`\nCPU profiles (share of the process's busy time):\n${r.profiles.join('\n')}`);
  for (const n of r.notes) console.log(`\n${n}`);
  const failed = table.filter(([, , t, ok]) => t && !ok).length;
  console.log(`\n${failed === 0 ? 'all targets met' : `${failed} target(s) not met`}`);
}
