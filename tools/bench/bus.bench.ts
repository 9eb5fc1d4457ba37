// npm run bench:bus — the bus's round trip and throughput against the bare parts it is built on.
// Prints: Redis GET p50, bare BullMQ add→complete p50/p99, bus request/reply p50/p99 and max
// throughput with 1 and 3 responder processes; the crypto's cost per request; and where the time of
// a request goes in an open loop at 1 000/s (bus-breakdown.part.ts). Bounded in count and time; loopback only.
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { BusClientProxy, createRedisConnection } from '@broker/bus';
import {
  RequestSealer,
  SessionKeys,
  generateServiceKey,
  openReply,
  openRequest,
  parseServicePrivateKeys,
  parseServicePublicKeys,
  requestListKey,
  sealReply,
  sealRequest,
} from '@broker/bus-protocol';
import { num } from './bench-env';
import { breakdownRows, busBreakdown } from './bus-breakdown.part';
import { processCpuMs } from './cpu';
import { fmt, percentile, throughput, timeSequential } from './stats';

const N = num('BENCH_N', 3000);
const THROUGHPUT_MS = num('BENCH_THROUGHPUT_MS', 3000);
const CONCURRENCY = num('BENCH_CONCURRENCY', 128);
const payload = { authorizationId: '3f1c2a9e-7d4b-4c55-9d0e-1b2c3d4e5f60', minValiditySeconds: 60 };

const children = new Set<ChildProcess>();
// A failed run must not leave responder processes behind.
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function startResponders(
  kind: 'bullmq' | 'bus' | 'bus-stamped',
  count: number,
  redisUrl: string,
  prefix: string,
  privateKey: string,
): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(__dirname, 'responder.ts'), kind, redisUrl, prefix, privateKey],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '..', '..', 'tsconfig.base.json') },
        },
      );
      children.add(child);
      child.once('exit', () => children.delete(child));
      return new Promise<ChildProcess>((resolve, reject) => {
        child.stdout?.once('data', () => resolve(child));
        child.once('exit', (code) => reject(new Error(`responder exited with ${code}`)));
      });
    }),
  );
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
}

export async function runBusBench(redisUrl: string): Promise<Record<string, number>> {
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const serviceKey = generateServiceKey('s1');
  const privateKey = serviceKey.privateKey;
  const results: Record<string, number> = {};

  const step = (m: string) => process.stderr.write(`  … ${m}\n`);
  step('Redis GET');
  // 1. Redis GET round trip.
  const redis = createRedisConnection(redisUrl, 'bench-get');
  await redis.set(`${prefix}:k`, 'v');
  const gets = await timeSequential(N, 200, () => redis.get(`${prefix}:k`));
  results['redis_get_p50'] = percentile(gets, 50);
  results['redis_get_p99'] = percentile(gets, 99);

  step('bare BullMQ');
  // 2. Bare BullMQ: add → worker in another process → completion seen through QueueEvents.
  const bareWorkers = await startResponders('bullmq', 1, redisUrl, prefix, privateKey);
  const queue = new Queue('bench-bare', { connection: redis, prefix });
  const events = new QueueEvents('bench-bare', {
    connection: createRedisConnection(redisUrl, 'bench-events'),
    prefix,
  });
  await events.waitUntilReady();
  const bare = await timeSequential(N, 200, async () => {
    const job = await queue.add('echo', payload, { removeOnComplete: { count: 1000 } });
    await job.waitUntilFinished(events, 10_000);
  });
  results['bullmq_rtt_p50'] = percentile(bare, 50);
  results['bullmq_rtt_p99'] = percentile(bare, 99);
  await stop(bareWorkers);
  await events.close();
  await queue.close();

  // 3. The bus, with 1 and then 3 responder processes.
  step('crypto of one request (in process, no Redis)');
  const crypto = await cryptoCost(serviceKey);
  Object.assign(results, crypto);

  const client = new BusClientProxy({
    redisUrl,
    servicePublicKeys: parseServicePublicKeys(`bench=${serviceKey.publicKey}`),
    prefix,
    defaultTimeoutMs: 10_000,
  });
  await client.connect();
  for (const replicas of [1, 3]) {
    step(`bus with ${replicas} responder(s)`);
    const responders = await startResponders('bus', replicas, redisUrl, prefix, privateKey);
    const lat = await timeSequential(N, 200, () => client.call('bench', 'bench.echo', payload));
    results[`bus_${replicas}r_p50`] = percentile(lat, 50);
    results[`bus_${replicas}r_p99`] = percentile(lat, 99);
    // CPU per request while saturated, by process (from /proc and process.cpuUsage: it holds on a
    // shared machine, where the wall-clock rows do not).
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
    const pids = responders.map((r) => r.pid as number);
    const before = { responders: cpuOf(pids), redis: cpuOf([redisPid]), caller: process.cpuUsage() };
    let count = 0;
    results[`bus_${replicas}r_rps`] = await throughput(CONCURRENCY, THROUGHPUT_MS, () =>
      client.call('bench', 'bench.echo', payload).then(() => count++),
    );
    const caller = process.cpuUsage(before.caller);
    results[`bus_${replicas}r_cpu_responders_us`] = ((cpuOf(pids) - before.responders) * 1000) / count;
    results[`bus_${replicas}r_cpu_redis_us`] = ((cpuOf([redisPid]) - before.redis) * 1000) / count;
    results[`bus_${replicas}r_cpu_caller_us`] = (caller.user + caller.system) / count;
    results[`bus_${replicas}r_count`] = count;
    await stop(responders);
  }
  await client.close();

  step(`latency breakdown: open loop, 1 stamping responder`);
  const [stamping] = await startResponders('bus-stamped', 1, redisUrl, prefix, privateKey);
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  Object.assign(results, await busBreakdown(redisUrl, prefix, serviceKey.publicKey, stamping, redisPid));
  await redis.quit();
  return results;
}

export function printBusBench(r: Record<string, number>): void {
  const rows: [string, string][] = [
    ['Redis GET round trip p50 / p99', `${fmt(r['redis_get_p50'])} / ${fmt(r['redis_get_p99'])}`],
    [
      'bare BullMQ add→complete (QueueEvents) p50 / p99',
      `${fmt(r['bullmq_rtt_p50'])} / ${fmt(r['bullmq_rtt_p99'])}`,
    ],
    ['bus request/reply, 1 responder p50 / p99', `${fmt(r['bus_1r_p50'])} / ${fmt(r['bus_1r_p99'])}`],
    ['bus max throughput, 1 responder', `${Math.round(r['bus_1r_rps'])} req/s`],
    ['bus request/reply, 3 responders p50 / p99', `${fmt(r['bus_3r_p50'])} / ${fmt(r['bus_3r_p99'])}`],
    ['bus max throughput, 3 responders', `${Math.round(r['bus_3r_rps'])} req/s`],
    ...[1, 3].map((n): [string, string] => [
      `CPU µs per request at max throughput, ${n} responder(s), ${r[`bus_${n}r_count`]} requests: responders / Redis / caller`,
      `${r[`bus_${n}r_cpu_responders_us`].toFixed(1)} / ${r[`bus_${n}r_cpu_redis_us`].toFixed(1)} / ${r[`bus_${n}r_cpu_caller_us`].toFixed(1)}`,
    ]),
    ['bus p50 ÷ bare BullMQ p50 (goal ≤ 1.5)', (r['bus_1r_p50'] / r['bullmq_rtt_p50']).toFixed(2)],
    [
      'crypto per request p50: request seal / open / reply seal+open',
      `${fmt(r['crypto_seal_p50'])} / ${fmt(r['crypto_open_p50'])} / ${fmt(r['crypto_reply_p50'])}`,
    ],
    [
      'crypto per request, total p50 / p99 (vs Redis GET p50)',
      `${fmt(r['crypto_total_p50'])} / ${fmt(r['crypto_total_p99'])} (${fmt(r['redis_get_p50'])})`,
    ],
    [
      'HPKE session setup, both ends, p50 (once per caller and service, ≤ every 10 min)',
      fmt(r['crypto_session_p50']),
    ],
    ...breakdownRows(r),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(
    `\nbench:bus  (N=${N} sequential per latency row, ${CONCURRENCY} concurrent for ${THROUGHPUT_MS} ms per throughput row)`,
  );
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

/**
 * What the bus's cryptography costs per request, measured alone: the caller's seal (AES-GCM under
 * its session's request key, the reply key), the service's open, the reply's seal and open; and,
 * apart, what setting up a caller's HPKE session costs (rare). The per-request total is the figure
 * to set next to a bare Redis round trip.
 */
async function cryptoCost(serviceKey: {
  privateKey: string;
  publicKey: string;
}): Promise<Record<string, number>> {
  const listKey = requestListKey('bench', 'bench');
  const target = parseServicePublicKeys(`bench=${serviceKey.publicKey}`)['bench'];
  const keys = new Map(parseServicePrivateKeys(serviceKey.privateKey).map((k) => [k.kid, k]));
  const body = { data: payload, auth: 'x'.repeat(700) }; // a broker access token is about 700 bytes
  const reply = {
    ok: true as const,
    data: {
      accessToken: 'y'.repeat(200),
      tokenType: 'Bearer',
      authorizationId: 'a',
      providerId: 'p',
      userId: 'u',
      scopes: ['repo'],
    },
  };
  const seal: number[] = [];
  const open: number[] = [];
  const replies: number[] = [];
  for (let i = 0; i < N + 500; i++) {
    const head = {
      id: `c.${i}`,
      pattern: 'tokens.acquire',
      deadline: Date.now() + 5_000,
      replyChannel: 'bench:bus:reply:bench:c',
    };
    const t = process.hrtime.bigint();
    const sealed = await sealRequest(listKey, target, head, body);
    const t1 = process.hrtime.bigint();
    const opened = await openRequest(listKey, keys, sealed.envelope);
    const t2 = process.hrtime.bigint();
    openReply(sealed.replyKey, head.id, sealReply(opened.replyKey, head.id, reply));
    const t3 = process.hrtime.bigint();
    if (i >= 500) {
      seal.push(Number(t1 - t) / 1e6);
      open.push(Number(t2 - t1) / 1e6);
      replies.push(Number(t3 - t2) / 1e6);
    }
  }
  const total = seal.map((v, i) => v + open[i] + replies[i]);
  // A caller's HPKE session with a service (both ends), set up once per 10 min / 100 000 requests.
  const setups: number[] = [];
  for (let i = 0; i < 600; i++) {
    const head = { id: `s.${i}`, pattern: 'tokens.acquire', deadline: Date.now() + 5_000 };
    const t = process.hrtime.bigint();
    const sealed = await sealRequest(listKey, target, head, body, new RequestSealer());
    await openRequest(listKey, keys, sealed.envelope, new SessionKeys());
    if (i >= 100) setups.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return {
    crypto_session_p50: percentile(setups, 50),
    crypto_seal_p50: percentile(seal, 50),
    crypto_open_p50: percentile(open, 50),
    crypto_reply_p50: percentile(replies, 50),
    crypto_total_p50: percentile(total, 50),
    crypto_total_p99: percentile(total, 99),
  };
}
