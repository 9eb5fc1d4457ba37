// bench:bus, the latency breakdown row: an open loop at BENCH_RATE (1 000/s) against one responder
// that stamps each request's phases (BusServerOptions.stampPhases), so each request's time splits
// into: caller seal + RPUSH + Redis + the pop's wake-up | open (JSON + AES-GCM, and waiting for the
// batch's earlier requests) | replay marker (SET NX round trip) | dispatch (schema, Nest's handler
// proxy) | back (the reply's seal, PUBLISH, Redis, the caller's subscriber, open, promise). The
// clocks are process.hrtime (CLOCK_MONOTONIC), shared by the processes of one machine. Event-loop
// delay and GC pauses are read in both processes over the same window.
import type { ChildProcess } from 'node:child_process';
import { BusClientProxy, monotonicMs } from '@broker/bus';
import { parseServicePublicKeys } from '@broker/bus-protocol';
import { num } from './bench-env';
import { processCpuMs } from './cpu';
import { openLoop } from './load';
import { watchProcessHealth } from './process-health';
import { percentile } from './stats';

const RATE = num('BENCH_RATE', 1000);
const OPEN_MS = num('BENCH_OPEN_MS', 5000);
export const PHASES = ['to_pop', 'open', 'mark', 'dispatch', 'back', 'total'] as const;
type Phase = (typeof PHASES)[number];

interface Stamps {
  popped: number;
  opened: number;
  marked: number;
  handler: number;
}

/** Starts the open loop against a `bus-stamped` responder already running; figures keyed `bd_*`. */
export async function busBreakdown(
  redisUrl: string,
  prefix: string,
  publicKey: string,
  responder: ChildProcess,
  redisPid: number,
): Promise<Record<string, number>> {
  const client = new BusClientProxy({
    redisUrl,
    servicePublicKeys: parseServicePublicKeys(`bench=${publicKey}`),
    prefix,
    defaultTimeoutMs: 10_000,
    name: 'bench-breakdown',
  });
  await client.connect();
  const call = () => client.call('bench', 'bench.stamped', {}) as Promise<Stamps>;
  for (let i = 0; i < 500; i++) await call();

  const total = Math.round((RATE * OPEN_MS) / 1000);
  const columns = Object.fromEntries(PHASES.map((p) => [p, new Float64Array(total)])) as Record<
    Phase,
    Float64Array
  >;
  let n = 0;
  const health = watchProcessHealth();
  responder.kill('SIGUSR2');
  const cpuBefore = {
    responder: processCpuMs(responder.pid as number) ?? 0,
    redis: processCpuMs(redisPid) ?? 0,
    caller: process.cpuUsage(),
  };
  const run = await openLoop(RATE, OPEN_MS, async () => {
    const t0 = monotonicMs();
    const s = await call();
    const t1 = monotonicMs();
    const i = n++;
    columns.to_pop[i] = s.popped - t0;
    columns.open[i] = s.opened - s.popped;
    columns.mark[i] = s.marked - s.opened;
    columns.dispatch[i] = s.handler - s.marked;
    columns.back[i] = t1 - s.handler;
    columns.total[i] = t1 - t0;
  });
  const caller = process.cpuUsage(cpuBefore.caller);
  const out: Record<string, number> = {
    bd_rate: run.rps,
    bd_errors: run.errors,
    bd_cpu_responder_us: (((processCpuMs(responder.pid as number) ?? 0) - cpuBefore.responder) * 1000) / n,
    bd_cpu_redis_us: (((processCpuMs(redisPid) ?? 0) - cpuBefore.redis) * 1000) / n,
    bd_cpu_caller_us: (caller.user + caller.system) / n,
  };
  for (const [k, v] of Object.entries(health.stop())) out[`bd_caller_${k}`] = v;
  const serverHealth = await new Promise<Record<string, number>>((resolve) => {
    let text = '';
    responder.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const line = text.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Record<string, number>);
    });
    responder.once('exit', () => resolve({}));
    responder.kill('SIGTERM');
  });
  for (const [k, v] of Object.entries(serverHealth)) out[`bd_server_${k}`] = v;
  await client.close();

  const values = Object.fromEntries(PHASES.map((p) => [p, Array.from(columns[p].subarray(0, n))])) as Record<
    Phase,
    number[]
  >;
  for (const p of PHASES) {
    out[`bd_${p}_p50`] = percentile(values[p], 50);
    out[`bd_${p}_p99`] = percentile(values[p], 99);
  }
  // Where the slowest 1 % spend their time: each phase's mean over the requests at or above the p99.
  const cut = out['bd_total_p99'];
  const slow = values.total.flatMap((t, i) => (t >= cut ? [i] : []));
  for (const p of PHASES)
    out[`bd_${p}_slow_mean`] = slow.reduce((a, i) => a + values[p][i], 0) / Math.max(1, slow.length);
  out['bd_slow_count'] = slow.length;
  return out;
}

/** The rows bench:bus prints for the breakdown. */
export function breakdownRows(r: Record<string, number>): [string, string][] {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  const health = (who: 'caller' | 'server') =>
    `event-loop delay p50 ${f(r[`bd_${who}_eldP50`])} / p99 ${f(r[`bd_${who}_eldP99`])} / max ${f(r[`bd_${who}_eldMax`])} ms; ` +
    `GC ${r[`bd_${who}_gcCount`] ?? 'n/a'} pauses (${r[`bd_${who}_gcMajor`] ?? 'n/a'} major), ${f(r[`bd_${who}_gcTotalMs`])} ms in all, longest ${f(r[`bd_${who}_gcMaxMs`])} ms`;
  return [
    [
      `open loop ${RATE}/s × ${OPEN_MS / 1000} s, 1 stamping responder: achieved, errors`,
      `${Math.round(r['bd_rate'])} req/s, ${r['bd_errors']}`,
    ],
    ...PHASES.map((p): [string, string] => [
      `  phase ${p}: p50 / p99 / mean of the slowest 1 % (${r['bd_slow_count']} requests)`,
      `${f(r[`bd_${p}_p50`])} / ${f(r[`bd_${p}_p99`])} / ${f(r[`bd_${p}_slow_mean`])} ms`,
    ]),
    [
      '  CPU µs per request: responder / Redis / caller',
      `${r['bd_cpu_responder_us'].toFixed(1)} / ${r['bd_cpu_redis_us'].toFixed(1)} / ${r['bd_cpu_caller_us'].toFixed(1)}`,
    ],
    ['  caller process', health('caller')],
    ['  responder process', health('server')],
  ];
}
