// bench:scale's shared parts: its knobs, the result it returns, the probes of a process, the
// acquire loop, and the context each phase (scale.*.ts) runs with.
import { readFileSync } from 'node:fs';
import { BusClientProxy } from '@broker/bus';
import { parseServicePublicKeys } from '@broker/bus-protocol';
import { sleep } from './procs';
import { num } from './bench-env';
import type { TokenSystem } from './system';

export const N = num('BENCH_SCALE_N', 100_000);
export const USED = num('BENCH_SCALE_USED', 0.01);
export const TTL = num('BENCH_SCALE_TTL', 3600);
export const WINDOW_S = num('BENCH_SCALE_WINDOW_S', 90);
export const DELETE_N = num('BENCH_SCALE_DELETE_N', Math.min(N, 100_000));
export const DELAY_MS = num('BENCH_SCALE_PROVIDER_DELAY_MS', 20);
export const ROTATION_RPS = num('BENCH_SCALE_ROTATION_RPS', 2_000);
export const HOT = 50;
export const SEED_BATCH = 2_000;
export const CLIENT_ID = 'bench-scale-client';
/** The refresh-ahead margin of a TTL-second token (a fifth of it, 10 s to 10 min: libs/tokens refresh-timing). */
export const MARGIN_MS = Math.min(Math.max(TTL * 200, 10_000), 600_000);

export interface ScaleBenchResult {
  rows: [string, string][];
  notes: string[];
}

/** Counters of the fake provider (GET /__counts). */
export interface ProviderCounts {
  token_refresh: number;
  revoke: number;
  unauthorized: number;
}

/** What every phase runs with (built once by startScaleRun). */
export interface ScaleRun {
  dir: string;
  sys: TokenSystem;
  bus: BusClientProxy;
  /** One PostgreSQL query (the bench's own connection). */
  q: <T>(sql: string, params?: unknown[]) => Promise<T[]>;
  /** Records a result row (and prints it). */
  row: (k: string, v: string) => void;
  notes: string[];
  counts: () => Promise<ProviderCounts>;
  /** The gateway's admin API under /api/v2/externalOAuth. */
  api: (
    path: string,
    init?: { method?: string; body?: unknown },
  ) => Promise<{ status: number; body: Record<string, unknown> }>;
  /** Seeds `count` authorizations of a provider; seconds it took. */
  seed: (providerId: string, count: number, label: string) => Promise<number>;
  mainProvider: string;
  doomedProvider: string | null;
}

/** The (one) token-broker and the worker of the system, as they are now (phases restart them). */
export const broker = (sys: TokenSystem) => sys.brokers[0];
export const worker = (sys: TokenSystem) => sys.others[1];

export const step = (m: string) => process.stderr.write(`  … ${m}\n`);
export const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
export const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
export const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The bus client of the benchmark (the services' own wire format and keys). */
export function busClient(sys: TokenSystem): BusClientProxy {
  return new BusClientProxy({
    redisUrl: sys.redisUrl,
    servicePublicKeys: parseServicePublicKeys(sys.env['BUS_SERVICE_PUBLIC_KEYS']),
    prefix: sys.env['BUS_PREFIX'],
    defaultTimeoutMs: 15_000,
  });
}

/**
 * Acquires the hot authorizations round-robin until `until()` is true (at most `rate` a second):
 * latencies in ms, and `waited`: acquires that needed a refresh — the last token this loop saw for
 * that authorization had less than the asked 60 s left when the call started, and a new one came
 * back (a caller waited on the provider). A token the worker refreshed ahead is replaced minutes
 * before that, so it never counts.
 */
export async function acquireLoop(
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
