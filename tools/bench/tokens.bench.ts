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
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClientProxy } from '@broker/bus';
import { parseServicePublicKeys } from '@broker/bus-protocol';
import type { AcquiredToken } from '@broker/contracts';
import { text } from './bench-env';
import { CpuMeter, CpuReport, childrenOf } from './cpu';
import { InspectorSession, formatSummary, summarize } from './profile';
import { Proc } from './procs';
import { TokenSystem, checkBuild, pidFromFile, startTokenSystem } from './system';
import { busRows } from './tokens.bus-rows';
import { clientRows } from './tokens.client-rows';
import { describeCode } from './tokens.output';
import { referenceRows } from './tokens.references';
import { restRows } from './tokens.rest-rows';
import {
  Bench,
  PROFILE,
  PROFILE_DIR,
  REPLICAS,
  TOKEN_TTL,
  TokensBenchResult,
  startHttpLoad,
  step,
} from './tokens.shared';
import { stormRows } from './tokens.storm';

export { printTokensBench } from './tokens.output';
export type { TokensBenchResult } from './tokens.shared';

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
    logLevel: text('BENCH_LOG_LEVEL') ?? 'info',
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
  const generated: Bench['generated'] = async (name, target, o, profile = []) => {
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
  const restPath = `/api/v2/externalOAuth/authorizedProviders/${hot.authorizationId}/token/`;
  const headers = { authorization: `Bearer ${hot.userToken}`, accept: 'application/json' };

  // 1. References
  const base = {
    dir,
    sys,
    rows,
    cpu,
    measured,
    generated,
    helpers,
    loadgens,
    hot,
    stormAuth,
    unlinked,
    restPath,
    headers,
  };
  await referenceRows(base);

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
  const b: Bench = { ...base, bus, acquire };
  // 2. Bus acquire (a service account's token: no ownership read)
  await busRows(b);
  // 3. BrokerClient with its local cache
  await clientRows(b);
  // 4, 5. REST acquire through the gateway, the hot path's parts
  await restRows(b, before);
  // 6. Refresh storm over the three replicas
  await stormRows(b);

  await bus.close();
  return { rows, cpu, profiles, notes };
}
