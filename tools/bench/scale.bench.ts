// npm run bench:scale — the broker with N authorizations (default 100 000; BENCH_SCALE_N=1000000).
//
// Provisions like bench:tokens (throwaway PostgreSQL + Redis, the built services), plus a fast local
// fake provider (tools/bench/fake-provider.mjs: short-lived tokens, rotating refresh tokens, a
// revocation endpoint, every call counted). Seeds N authorizations in bulk through the real
// envelope encryption (AuthorizationsImport), tokens written over the part of their lifetime before
// the refresh-ahead margin, so their due times fall from now on (rows due while seeding: the
// wave), BENCH_SCALE_USED (1 %) of them used since.
// Then measures, in this order:
//   refresh      a window of BENCH_SCALE_WINDOW_S: lag of every used token set due in it (from
//                PostgreSQL: refreshed at − due at), provider calls, worker CPU per refresh, hot
//                acquires during it (and how many waited on the provider: latency ≥ its delay)
//   footprint    Redis memory of the refresh queue's keys and PostgreSQL size, per authorization;
//                broker and worker RSS
//   first token  a freshly started token-broker (the old one stopped) until it serves a token
//   deletion     a second provider with BENCH_SCALE_DELETE_N authorizations deleted as a job; the
//                worker killed half-way and restarted; wall time, revocations, audit rows checked
//   rotation     a new active key: every value re-wrapped online, acquire p99 idle vs during
// Bounded: every wait has a deadline, and run.ts stops everything at BENCH_DEADLINE_MS.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { DataSource } from 'typeorm';
import { BusClientProxy, createRedisConnection } from '@broker/bus';
import { parseServicePublicKeys } from '@broker/bus-protocol';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { freePort } from '@broker/testing';
import { AuthorizationsImport, ImportedAuthorization, TOKENS_SCHEMA } from '@broker/tokens';
import { Proc, sleep, waitFor } from './procs';
import { num, text } from './bench-env';
import { percentile } from './stats';
import { TokenSystem, checkBuild, startTokenSystem } from './system';

const N = num('BENCH_SCALE_N', 100_000);
const USED = num('BENCH_SCALE_USED', 0.01);
const TTL = num('BENCH_SCALE_TTL', 3600);
const WINDOW_S = num('BENCH_SCALE_WINDOW_S', 90);
const DELETE_N = num('BENCH_SCALE_DELETE_N', Math.min(N, 100_000));
const DELAY_MS = num('BENCH_SCALE_PROVIDER_DELAY_MS', 20);
const ROTATION_RPS = num('BENCH_SCALE_ROTATION_RPS', 2_000);
const HOT = 50;
const SEED_BATCH = 2_000;
const CLIENT_ID = 'bench-scale-client';
/** The refresh-ahead margin of a TTL-second token (a fifth of it, 10 s to 10 min: libs/tokens refresh-timing). */
const MARGIN_MS = Math.min(Math.max(TTL * 200, 10_000), 600_000);

export interface ScaleBenchResult {
  rows: [string, string][];
  notes: string[];
}

const step = (m: string) => process.stderr.write(`  … ${m}\n`);
const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The bus client of the benchmark (the services' own wire format and keys). */
function busClient(sys: TokenSystem): BusClientProxy {
  return new BusClientProxy({
    redisUrl: sys.redisUrl,
    servicePublicKeys: parseServicePublicKeys(sys.env['BUS_SERVICE_PUBLIC_KEYS']),
    prefix: sys.env['BUS_PREFIX'],
    defaultTimeoutMs: 15_000,
  });
}

/** Acquires the hot authorizations round-robin until `until()` is true (at most `rate` a second); latencies in ms. */
/**
 * Acquires the hot authorizations round-robin until `until()` is true (at most `rate` a second):
 * latencies in ms, and `waited`: acquires that needed a refresh — the last token this loop saw for
 * that authorization had less than the asked 60 s left when the call started, and a new one came
 * back (a caller waited on the provider). A token the worker refreshed ahead is replaced minutes
 * before that, so it never counts.
 */
async function acquireLoop(
  bus: BusClientProxy,
  token: string,
  ids: string[],
  until: () => boolean,
  rate = 200,
): Promise<{ lat: number[]; errors: number; waited: number }> {
  const lat: number[] = [];
  let errors = 0;
  let waited = 0;
  const last = new Map<string, { token: string; expiresAt: number }>();
  const gap = 1000 / rate;
  for (let i = 0; !until(); i++) {
    const t = performance.now();
    const id = ids[i % ids.length];
    try {
      const startedAt = Date.now();
      const got = (await bus.request(
        'tokens.acquire',
        { authorizationId: id, minValiditySeconds: 60 },
        { auth: token, timeoutMs: 15_000 },
      )) as { accessToken: string; expiresAt?: string };
      lat.push(performance.now() - t);
      const before = last.get(id);
      if (before && before.token !== got.accessToken && before.expiresAt - startedAt < 60_000) waited++;
      last.set(id, {
        token: got.accessToken,
        expiresAt: got.expiresAt ? Date.parse(got.expiresAt) : Infinity,
      });
    } catch {
      errors++;
    }
    const left = gap - (performance.now() - t);
    if (left > 0) await sleep(left);
  }
  return { lat, errors, waited };
}

export async function runScaleBench(
  dir: string,
  services: { databaseUrl: string; redisUrl: string; pgDataDir: string; redisDir: string },
): Promise<ScaleBenchResult> {
  const rows: [string, string][] = [];
  const notes: string[] = [];
  const row = (k: string, v: string) => {
    rows.push([k, v]);
    process.stderr.write(`    ${k}: ${v}\n`);
  };
  const build = checkBuild();
  if (build && !build.startsWith('warning')) throw new Error(build);
  if (build) notes.push(build);
  notes.push(
    `N = ${N}, ${(USED * 100).toFixed(1)} % used, tokens live ${TTL} s, provider answers after ${DELAY_MS} ms; load average at start ${loadavg()}`,
  );

  // The fake provider (its own process: its CPU is not the broker's).
  const providerPort = await freePort();
  const clientSecret = randomBytes(24).toString('base64url');
  const fake = new Proc(
    'fake-provider',
    process.execPath,
    [
      join(__dirname, 'fake-provider.mjs'),
      String(providerPort),
      CLIENT_ID,
      clientSecret,
      String(TTL),
      String(DELAY_MS),
    ],
    { PATH: process.env['PATH'] ?? '' },
    join(dir, 'fake-provider.log'),
  );
  await waitFor('fake provider', fake, 10_000, async () => fake.tail().includes('ready'));
  const fakeUrl = `http://127.0.0.1:${providerPort}`;
  const counts = async () =>
    (await (await fetch(`${fakeUrl}/__counts`)).json()) as {
      token_refresh: number;
      revoke: number;
      unauthorized: number;
    };

  const sys = await startTokenSystem({
    dir,
    ...services,
    brokerReplicas: 1,
    accessTokenTtlSeconds: 3600,
    logLevel: text('BENCH_LOG_LEVEL') ?? 'info',
    inspect: false,
    step,
    egressPorts: [providerPort],
    extraEnv: { KEY_ROTATION_ROWS_PER_SECOND: String(ROTATION_RPS) },
  });
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${sys.gatewayUrl}/api/v2/externalOAuth${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${sys.adminToken}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const createProvider = async (name: string) => {
    const r = await api('/providers/', {
      method: 'POST',
      body: {
        type: 'oauth2',
        name,
        clientId: CLIENT_ID,
        clientSecret,
        endpoints: {
          authorizationUrl: `${fakeUrl}/authorize`,
          tokenUrl: `${fakeUrl}/token`,
          revocationUrl: `${fakeUrl}/revoke`,
        },
      },
    });
    if (r.status !== 201) throw new Error(`create provider: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body['id'] as string;
  };
  const mainProvider = await createProvider('Scale');
  const doomedProvider = DELETE_N > 0 ? await createProvider('Doomed') : null;

  const pg = new PgClient({ connectionString: sys.databaseUrl });
  await pg.connect();
  const q = async <T>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[];
  const tokensDs = await new DataSource(
    domainDataSourceOptions(sys.databaseUrl, TOKENS_SCHEMA, 'bench-seed', 4),
  ).initialize();
  const importer = new AuthorizationsImport(
    tokensDs,
    new EnvelopeCipher(parseKeyring(sys.env['ENCRYPTION_KEYS'])),
  );

  // ---------------------------------------------------------------------------------------------
  // Seed
  const seed = async (providerId: string, count: number, label: string) => {
    const started = Date.now();
    let done = 0;
    const batches = Math.ceil(count / SEED_BATCH);
    let next = 0;
    const lane = async () => {
      while (next < batches) {
        const b = next++;
        const now = Date.now();
        const items: ImportedAuthorization[] = [];
        for (let i = b * SEED_BATCH; i < Math.min(count, (b + 1) * SEED_BATCH); i++) {
          // Written over the part of a lifetime before its refresh-ahead margin: due times fall from now on.
          const writtenAt = new Date(now - Math.random() * (TTL * 1000 - MARGIN_MS));
          const used = Math.random() < USED;
          items.push({
            providerId,
            userId: `${label}-${i}`,
            oauthClientId: CLIENT_ID,
            scopes: ['read'],
            accessToken: randomBytes(24).toString('base64url'),
            refreshToken: randomBytes(24).toString('base64url'),
            expiresAt: new Date(writtenAt.getTime() + TTL * 1000),
            writtenAt,
            lastUsedAt: used
              ? new Date(writtenAt.getTime() + Math.random() * (now - writtenAt.getTime()))
              : null,
          });
        }
        await importer.insertMany('default', items);
        done += items.length;
        if (b % 50 === 0) step(`${label}: ${done} / ${count} seeded`);
      }
    };
    await Promise.all([lane(), lane()]);
    return (Date.now() - started) / 1000;
  };
  step(`seeding ${N} authorizations (envelope-encrypted, in batches of ${SEED_BATCH})`);
  const seedS = await seed(mainProvider, N, 'u');
  row(
    'seed',
    `${N} authorizations in ${seedS.toFixed(0)} s (${Math.round(N / seedS)}/s, real envelope encryption)`,
  );

  const broker = () => sys.brokers[0];
  const worker = () => sys.others[1];
  const bus = busClient(sys);
  await bus.connect();

  // ---------------------------------------------------------------------------------------------
  // Refresh window
  const t0 = Date.now();
  const windowEnd = t0 + WINDOW_S * 1000;
  // Used token sets due in the window (leaving 20 s at its end for the last refreshes to land).
  const dueUsed = await q<{ authorization_id: string; due: Date; refreshed: Date | null }>(
    `SELECT c.authorization_id, c.refresh_due_at AS due, a.last_refreshed_at AS refreshed FROM tokens.credentials c JOIN tokens.authorizations a ON a.id = c.authorization_id
      WHERE a.provider_id = $1 AND a.last_used_at >= c.updated_at AND c.refresh_due_at BETWEEN to_timestamp($2 / 1000.0) AND to_timestamp($3 / 1000.0)`,
    [mainProvider, t0, windowEnd - 20_000],
  );
  const [spread] = await q<{ used: number; due_hour: number; claimed: number }>(
    `SELECT count(*) FILTER (WHERE a.last_used_at IS NOT NULL)::int AS used,
            count(*) FILTER (WHERE a.last_used_at >= c.updated_at AND c.refresh_due_at <= now() + interval '1 hour')::int AS due_hour,
            count(*) FILTER (WHERE a.last_used_at IS NOT NULL AND a.last_used_at < c.updated_at)::int AS claimed
       FROM tokens.credentials c JOIN tokens.authorizations a ON a.id = c.authorization_id WHERE a.provider_id = $1`,
    [mainProvider],
  );
  step(
    `used: ${spread.used}, used and due within the hour: ${spread.due_hour}, used before their current token: ${spread.claimed}`,
  );
  const [{ overdue }] = await q<{ overdue: number }>(
    `SELECT count(*)::int AS overdue FROM tokens.credentials WHERE refresh_due_at < to_timestamp($1 / 1000.0)`,
    [t0],
  );
  const hot = dueUsed.slice(0, HOT).map((r) => r.authorization_id);
  if (hot.length < HOT) {
    const more = await q<{ id: string }>(
      `SELECT id FROM tokens.authorizations WHERE provider_id = $1 AND last_used_at IS NOT NULL LIMIT $2`,
      [mainProvider, HOT - hot.length],
    );
    hot.push(...more.map((m) => m.id));
  }
  step(
    `refresh window: ${WINDOW_S} s, ${dueUsed.length} used token sets due in it, ${overdue} rows overdue at its start (the wave), ${hot.length} hot authorizations acquired meanwhile`,
  );
  const c0 = await counts();
  const workerCpu0 = cpuMs(worker().pid);
  const refreshed0 = await q<{ n: string }>(
    `SELECT coalesce(sum(refresh_succeeded), 0)::bigint AS n FROM tokens.authorizations WHERE provider_id = $1`,
    [mainProvider],
  );
  const during = await acquireLoop(bus, sys.adminToken, hot, () => Date.now() >= windowEnd);
  const c1 = await counts();
  const workerCpu = cpuMs(worker().pid) - workerCpu0;
  const refreshed1 = await q<{ n: string }>(
    `SELECT coalesce(sum(refresh_succeeded), 0)::bigint AS n FROM tokens.authorizations WHERE provider_id = $1`,
    [mainProvider],
  );
  const after = await q<{ authorization_id: string; refreshed: Date | null; n: number }>(
    `SELECT id AS authorization_id, last_refreshed_at AS refreshed, refresh_succeeded AS n FROM tokens.authorizations WHERE id = ANY($1::uuid[])`,
    [dueUsed.map((d) => d.authorization_id)],
  );
  const byId = new Map(after.map((a) => [a.authorization_id, a]));
  const now = Date.now();
  const lags = dueUsed.map((d) => {
    const a = byId.get(d.authorization_id);
    const at = a?.refreshed && a.refreshed.getTime() >= t0 ? a.refreshed.getTime() : now; // not refreshed: late by at least this much
    return Math.max(0, at - d.due.getTime()) / 1000;
  });
  const missed = dueUsed.filter(
    (d) =>
      !(
        byId.get(d.authorization_id)?.refreshed &&
        (byId.get(d.authorization_id)?.refreshed as Date).getTime() >= t0
      ),
  ).length;
  const perUsed = dueUsed.length ? after.reduce((s, a) => s + a.n, 0) / dueUsed.length : NaN;
  const calls = c1.token_refresh - c0.token_refresh;
  const wall = (now - t0) / 1000;
  const [{ idle_refreshed }] = await q<{ idle_refreshed: number }>(
    `SELECT count(*)::int AS idle_refreshed FROM tokens.authorizations WHERE provider_id = $1 AND last_used_at IS NULL AND last_refreshed_at >= to_timestamp($2 / 1000.0)`,
    [mainProvider, t0],
  );
  row(
    'refresh lag, used token sets due in the window',
    `p50 ${percentile(lags, 50)?.toFixed(1)} s, p99 ${percentile(lags, 99)?.toFixed(1)} s, max ${Math.max(0, ...lags).toFixed(1)} s over ${dueUsed.length} (${missed} not refreshed by the end)`,
  );
  row(
    'provider refresh calls',
    `${calls} in ${wall.toFixed(0)} s = ${(calls / wall).toFixed(2)}/s = ${(((calls / wall) * 86_400) / N).toFixed(3)} per authorization per day (rate of this window, wave included)`,
  );
  row(
    'refreshes per used token set due in the window',
    `${perUsed.toFixed(2)} (refresh_succeeded of each, all time)`,
  );
  row(
    'idle authorizations refreshed in the window',
    `${idle_refreshed} (kept alive only at their provider's idle window: 14 days for oauth2)`,
  );
  row(
    'worker CPU per refresh',
    `${calls ? ms(workerCpu / calls) : 'n/a'} (${(workerCpu / 1000).toFixed(1)} s CPU over the window, sweeps and deferrals of idle rows included; ${Number(refreshed1[0].n) - Number(refreshed0[0].n)} refreshes recorded)`,
  );
  row(
    'hot acquires during the window (bus)',
    `${during.lat.length}: p50 ${ms(percentile(during.lat, 50))}, p99 ${ms(percentile(during.lat, 99))}, ${during.waited} waited on the provider (needed a refresh), ${during.errors} errors`,
  );

  // ---------------------------------------------------------------------------------------------
  // Footprint
  const redis = createRedisConnection(sys.redisUrl, 'bench-scale');
  let queueBytes = 0;
  let queueKeys = 0;
  for (let cursor = '0'; ; ) {
    const [nextCursor, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${sys.env['BUS_PREFIX']}:jobs:token-refresh:*`,
      'COUNT',
      1000,
    );
    for (const k of keys) {
      queueBytes += Number((await redis.call('MEMORY', 'USAGE', k)) ?? 0);
      queueKeys++;
    }
    cursor = nextCursor;
    if (cursor === '0') break;
  }
  const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
  row(
    'Redis for scheduling',
    `${queueKeys} keys, ${queueBytes} bytes = ${(queueBytes / N).toFixed(3)} bytes per authorization (whole Redis: ${(used / 1048576).toFixed(1)} MB)`,
  );
  const [size] = await q<{ a: string; c: string }>(
    `SELECT pg_total_relation_size('tokens.authorizations') AS a, pg_total_relation_size('tokens.credentials') AS c`,
  );
  const total = Number(size.a) + Number(size.c);
  row(
    'PostgreSQL per authorization',
    `${Math.round(total / N)} bytes (authorizations ${(Number(size.a) / 1048576).toFixed(0)} MB + credentials ${(Number(size.c) / 1048576).toFixed(0)} MB, indexes included, ${N} rows)`,
  );
  row(
    'RSS',
    `token-broker ${rssMb(broker().pid).toFixed(0)} MB, worker ${rssMb(worker().pid).toFixed(0)} MB`,
  );

  // ---------------------------------------------------------------------------------------------
  // A freshly started token-broker
  step('first token from a freshly started token-broker');
  await broker().stop();
  const spawned = Date.now();
  const fresh = await sys.startService('token-broker', {}, 'token-broker-fresh');
  const readyMs = Date.now() - spawned;
  sys.brokers[0] = fresh;
  for (const deadline = Date.now() + 30_000; ; ) {
    try {
      await bus.request(
        'tokens.acquire',
        { authorizationId: hot[0], minValiditySeconds: 60 },
        { auth: sys.adminToken, timeoutMs: 2_000 },
      );
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
  row('fresh token-broker', `first token ${Date.now() - spawned} ms after spawn (ready after ${readyMs} ms)`);

  // ---------------------------------------------------------------------------------------------
  // Provider deletion, the worker killed half-way
  if (doomedProvider) {
    step(`seeding ${DELETE_N} authorizations of the provider to delete`);
    await seed(doomedProvider, DELETE_N, 'd');
    const cd0 = await counts();
    const startedAt = Date.now();
    const res = await api(`/providers/${doomedProvider}/`, { method: 'DELETE' });
    if (res.status !== 202) throw new Error(`DELETE provider: HTTP ${res.status}`);
    const location = (res.body['location'] as string).replace('/api/v2/externalOAuth', '');
    const jobId = location.split('/').at(-2) as string;
    const left = async () =>
      (
        await q<{ n: number }>(
          `SELECT count(*)::int AS n FROM tokens.authorizations WHERE provider_id = $1`,
          [doomedProvider],
        )
      )[0].n;
    for (const deadline = Date.now() + 300_000; (await left()) > DELETE_N / 2; ) {
      if (Date.now() > deadline) throw new Error('deletion: not half-way after 5 min');
      await sleep(200);
    }
    const atKill = await left();
    worker().killNow();
    await worker().wait();
    step(`worker killed with ${atKill} of ${DELETE_N} left; restarting it`);
    sys.others[1] = await sys.startService('worker', {}, 'worker-2');
    let job: Record<string, unknown> = {};
    for (const deadline = Date.now() + 600_000; ; ) {
      job = (await api(location)).body;
      if (job['status'] === 'COMPLETED' || job['status'] === 'ERROR') break;
      if (Date.now() > deadline) throw new Error(`deletion still ${String(job['status'])} after 10 min`);
      await sleep(500);
    }
    const wallS = (Date.now() - startedAt) / 1000;
    const cd1 = await counts();
    const [audit] = await q<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT authorization_id)::int AS distinct FROM tokens.audit_events WHERE type = 'unlinked' AND detail LIKE $1`,
      [`%"jobId":"${jobId}"%`],
    );
    const remaining = await left();
    row(
      'provider deletion',
      `${DELETE_N} authorizations in ${wallS.toFixed(0)} s (${String(job['status'])}), worker killed with ${atKill} left; ${cd1.revoke - cd0.revoke} revocations at the provider (${cd1.revoke - cd0.revoke - DELETE_N} repeated: the batch in flight at the kill)`,
    );
    row(
      'deletion correct',
      `${remaining} left, ${audit.n} audit rows for ${audit.distinct} distinct authorizations (expected ${DELETE_N} each)`,
    );
    if (
      remaining !== 0 ||
      audit.n !== DELETE_N ||
      audit.distinct !== DELETE_N ||
      job['status'] !== 'COMPLETED'
    )
      notes.push('DELETION INCORRECT: see the rows above');
  }

  // ---------------------------------------------------------------------------------------------
  // Online key rotation
  step('acquire p99 idle (the reference for the rotation)');
  const idle = await acquireLoop(
    bus,
    sys.adminToken,
    hot,
    (() => {
      const end = Date.now() + 15_000;
      return () => Date.now() >= end;
    })(),
  );
  const k2 = `k2:${randomBytes(32).toString('base64')}`;
  const rotated = { ENCRYPTION_KEYS: `${sys.env['ENCRYPTION_KEYS']},${k2}`, ENCRYPTION_ACTIVE_KEY_ID: 'k2' };
  step('key rotation: token-broker and provider-registry restarted with the new key active, then the worker');
  const oldBroker = broker();
  sys.brokers[0] = await sys.startService('token-broker', rotated, 'token-broker-k2');
  await oldBroker.stop();
  const oldRegistry = sys.others[0];
  sys.others[0] = await sys.startService('provider-registry', rotated, 'provider-registry-k2');
  await oldRegistry.stop();
  const [{ due }] = await q<{ due: number }>(
    `SELECT count(*)::int AS due FROM tokens.credentials WHERE key_id <> 'k2'`,
  );
  await worker().stop();
  const rotStart = Date.now();
  sys.others[1] = await sys.startService('worker', rotated, 'worker-k2');
  let rotationDone = false;
  const duringRotation = acquireLoop(bus, sys.adminToken, hot, () => rotationDone);
  let status = '';
  for (const deadline = Date.now() + 1_800_000; ; ) {
    const [j] = await q<{ status: string }>(
      `SELECT status FROM registry.jobs WHERE type = 'ROTATE_KEYS' ORDER BY created_at DESC LIMIT 1`,
    );
    const [{ left }] = await q<{ left: number }>(
      `SELECT count(*)::int AS left FROM tokens.credentials WHERE key_id <> 'k2'`,
    );
    status = j?.status ?? 'none';
    if ((status === 'COMPLETED' || status === 'ERROR') && left === 0) break;
    if (status === 'ERROR' || Date.now() > deadline) break;
    await sleep(1_000);
  }
  rotationDone = true;
  const rot = await duringRotation;
  const rotS = (Date.now() - rotStart) / 1000;
  const idleP99 = percentile(idle.lat, 99);
  const rotP99 = percentile(rot.lat, 99);
  row(
    'key rotation',
    `${due} token sets (and every secret) re-wrapped in ${rotS.toFixed(0)} s (${status}), paced at ${ROTATION_RPS} rows/s`,
  );
  row(
    'acquire during rotation',
    `p50 ${ms(percentile(rot.lat, 50))}, p99 ${ms(rotP99)} (idle: p50 ${ms(percentile(idle.lat, 50))}, p99 ${ms(idleP99)}; ratio ${(rotP99 / idleP99).toFixed(2)}), ${rot.errors} errors`,
  );

  notes.push(`load average at the end ${loadavg()}`);
  await bus.close();
  await redis.quit();
  await tokensDs.destroy();
  await pg.end();
  return { rows, notes };
}

export function printScaleBench(r: ScaleBenchResult): void {
  console.log('\nbench:scale');
  const width = Math.max(...r.rows.map(([k]) => k.length));
  for (const [k, v] of r.rows) console.log(`  ${k.padEnd(width)}  ${v}`);
  for (const n of r.notes) console.log(`  note: ${n}`);
}
