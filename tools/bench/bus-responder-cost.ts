// What one bus request costs a bare responder at light load: CPU, system calls and context switches
// per request, from /proc (Linux), at an open loop (default 1 000 req/s for 8 s, after 2 s of
// warm-up). A throwaway Redis on a free port, one bus responder process (responder.ts), the caller
// in this process. Run: `TSX_TSCONFIG_PATH=tsconfig.base.json node --import tsx tools/bench/bus-responder-cost.ts`
// (BENCH_RATE, BENCH_OPEN_MS change the load). Bounded in time; loopback only.
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BusClientProxy } from '@broker/bus';
import { generateServiceKey, parseServicePublicKeys } from '@broker/bus-protocol';
import { freePort } from '@broker/testing';
import { num } from './bench-env';
import { openLoop } from './load';

const RATE = num('BENCH_RATE', 1000);
const OPEN_MS = num('BENCH_OPEN_MS', 8000);

interface ProcCounters {
  userMs: number;
  sysMs: number;
  syscr: number;
  syscw: number;
  nonvoluntary: number;
  voluntary: number;
}

function counters(pid: number): ProcCounters {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
  return {
    userMs: Number(fields[11]) * 10,
    sysMs: Number(fields[12]) * 10,
    syscr: field(io, 'syscr'),
    syscw: field(io, 'syscw'),
    nonvoluntary: field(status, 'nonvoluntary_ctxt_switches'),
    voluntary: field(status, 'voluntary_ctxt_switches'),
  };
}

function waitForOutput(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const key = generateServiceKey('s1');
  let responder: ChildProcess | undefined;
  let client: BusClientProxy | undefined;
  try {
    await waitForOutput(redis);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const redisUrl = `redis://127.0.0.1:${port}`;
    responder = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'responder.ts'), 'bus', redisUrl, 'cost', key.privateKey],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '..', '..', 'tsconfig.base.json') },
      },
    );
    await waitForOutput(responder);
    client = new BusClientProxy({
      redisUrl,
      servicePublicKeys: parseServicePublicKeys(`bench=${key.publicKey}`),
      prefix: 'cost',
      defaultTimeoutMs: 5000,
      name: 'cost',
    });
    await client.connect();
    const bus = client;
    const call = () => bus.call('bench', 'bench.echo', { authorizationId: 'x'.repeat(36) });
    await openLoop(RATE, 2000, call);
    const pid = responder.pid as number;
    const before = counters(pid);
    const run = await openLoop(RATE, OPEN_MS, call);
    const after = counters(pid);
    const n = run.latencies.length;
    const per = (k: keyof ProcCounters, scale = 1) =>
      Math.round(((after[k] - before[k]) * scale * 100) / n) / 100;
    const sorted = Array.from(run.latencies).sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({
        requests: n,
        errors: run.errors,
        responderPerRequest: {
          cpuUs: per('userMs', 1000) + per('sysMs', 1000),
          userUs: per('userMs', 1000),
          sysUs: per('sysMs', 1000),
          readSyscalls: per('syscr'),
          writeSyscalls: per('syscw'),
          preemptions: per('nonvoluntary'),
          voluntarySwitches: per('voluntary'),
        },
        latencyMs: { p50: sorted[Math.floor(n * 0.5)], p99: sorted[Math.floor(n * 0.99)] },
      })}\n`,
    );
  } finally {
    await client?.close();
    responder?.kill('SIGTERM');
    redis.kill('SIGTERM');
  }
}

main().then(
  () => setTimeout(() => process.exit(0), 300).unref(),
  (err: unknown) => {
    process.stderr.write(`bus-responder-cost failed: ${String(err)}\n`);
    process.exit(1);
  },
);
