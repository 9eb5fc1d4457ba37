// bench:tokens, group 2: the bus `tokens.acquire` rows (sequential, open loop from its own process, max throughput).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { openLoop } from './load';
import { Proc, waitFor } from './procs';
import { throughput, timeSequential } from './stats';
import {
  BUS_CONCURRENCY,
  Bench,
  MIN_VALIDITY,
  N,
  OPEN_MS,
  RATE,
  THROUGHPUT_MS,
  WARMUP,
  p,
  step,
} from './tokens.shared';

export async function busRows(b: Bench): Promise<void> {
  const { dir, sys, rows, measured, loadgens, hot, acquire } = b;
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
  const open = await measured('bus_open', runOpenLoop, [sys.brokers[0]]);
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
}
