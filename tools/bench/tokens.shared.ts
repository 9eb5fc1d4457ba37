// bench:tokens' shared parts: its knobs, the result it returns, the helper processes it starts and
// the context each group of rows (tokens.*.ts) runs with.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BusClientProxy } from '@broker/bus';
import type { AcquiredToken } from '@broker/contracts';
import type { CpuReport } from './cpu';
import { HttpTarget, httpClosedLoop } from './load';
import { Proc, waitFor } from './procs';
import { num, text } from './bench-env';
import { percentile } from './stats';
import type { TokenSystem } from './system';

export const N = num('BENCH_N', 2000); // sequential samples per latency row
export const WARMUP = 200;
export const THROUGHPUT_MS = num('BENCH_THROUGHPUT_MS', 3000);
export const BUS_CONCURRENCY = num('BENCH_CONCURRENCY', 128);
export const REST_CONCURRENCY = [32, 64];
export const RATE = num('BENCH_RATE', 1000);
export const OPEN_MS = num('BENCH_OPEN_MS', 5000);
export const STORM = num('BENCH_STORM', 1000);
// Token-broker replicas for every row but the storm: one per core, at most 3 (a replica runs its
// JavaScript on one core; more replicas than cores only add wake-ups competing for the same cores:
// on 2 cores, 3 replicas measured p99 5.27 ms at 1 000 req/s against 4.42 ms with 2, docs/benchmarks.md run 9).
export const REPLICAS = num('BENCH_REPLICAS', Math.min(3, availableParallelism()));
// The refresh storm is specified across 3 replicas: replicas up to this count are started before it.
export const STORM_REPLICAS = Math.max(REPLICAS, num('BENCH_STORM_REPLICAS', 3));
export const TOKEN_TTL = num('BENCH_IDP_TOKEN_TTL', 3600); // long: the hot-path rows never need a refresh
export const MIN_VALIDITY = 60;
export const OTHER_CPU_WARN = 20; // % of a core used outside this run above which a row is flagged as disturbed
export const PROFILE = text('BENCH_PROFILE') === '1'; // CPU profiles of broker-1 and the gateway during the bus and REST rows (costs CPU: not for the figures)
export const PROFILE_DIR = PROFILE ? text('BENCH_PROFILE_DIR') : undefined; // where to also write the raw .cpuprofile files
if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });

export interface TokensBenchResult {
  rows: Record<string, number>;
  cpu: Record<string, CpuReport | null>;
  profiles: string[];
  notes: string[];
}

export const step = (m: string) => process.stderr.write(`  … ${m}\n`);
export const p = (v: number[], q: number) => percentile(v, q);

/** A bus or bare-BullMQ echo responder (tools/bench/responder.ts, as bench:bus runs it). */
export async function startResponder(
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
export type HttpLoadResult = Awaited<ReturnType<typeof httpClosedLoop>> & { generatorCpuPercent: number };

export async function startHttpLoad(
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

type User = Awaited<ReturnType<TokenSystem['connectUser']>>;

/** What every group of rows runs with (built once by runTokensBench). */
export interface Bench {
  dir: string;
  sys: TokenSystem;
  rows: Record<string, number>;
  cpu: Record<string, CpuReport | null>;
  /** Runs `fn` measuring CPU per component; with BENCH_PROFILE=1 also samples `profile` (processes). */
  measured: <T>(name: string, fn: () => Promise<T>, profile?: Proc[]) => Promise<T>;
  /** A row driven by the dedicated generator: its CPU is measured apart (the `loadgen` component) and reported. */
  generated: (
    name: string,
    target: HttpTarget,
    o: { connections: number; ms?: number; n?: number; warmup?: number },
    profile?: Proc[],
  ) => Promise<HttpLoadResult>;
  /** Echo responders and the hello-world server, while they run. */
  helpers: Proc[];
  /** The dedicated load generators (bus open loop, REST rows), while they run. */
  loadgens: Proc[];
  /** The hot-path rows' user. */
  hot: User;
  /** The refresh storm's (ages while the rest runs). */
  stormAuth: User;
  /** Unlinked while a BrokerClient holds its token (the event's delay). */
  unlinked: User;
  restPath: string;
  headers: Record<string, string>;
  bus: BusClientProxy;
  acquire: (
    authorizationId: string,
    minValiditySeconds: number,
    client?: BusClientProxy,
    timeoutMs?: number,
  ) => Promise<AcquiredToken>;
}
