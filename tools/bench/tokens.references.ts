// bench:tokens, group 1: the references (Redis GET, bare BullMQ, bare bus echo, bare Node http).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { BusClientProxy, createRedisConnection } from '@broker/bus';
import { generateServiceKey, parseServicePublicKeys } from '@broker/bus-protocol';
import { freePort } from '@broker/testing';
import type { HttpTarget } from './load';
import { Proc, waitFor } from './procs';
import { timeSequential } from './stats';
import {
  Bench,
  MIN_VALIDITY,
  N,
  REST_CONCURRENCY,
  THROUGHPUT_MS,
  WARMUP,
  p,
  startResponder,
  step,
} from './tokens.shared';

export async function referenceRows(b: Omit<Bench, 'bus' | 'acquire'>): Promise<void> {
  const { dir, sys, rows, measured, generated, helpers, hot, restPath, headers } = b;
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
  const helloTarget: HttpTarget = { port: helloPort, path: restPath, method: 'POST', headers, expect: 201 };
  const helloSeq = await generated('hello_seq', helloTarget, { connections: 1, n: N, warmup: WARMUP });
  rows['hello_seq_p50'] = p(helloSeq.latencies, 50);
  for (const c of REST_CONCURRENCY) {
    const r = await generated(`hello_${c}`, helloTarget, { connections: c, ms: THROUGHPUT_MS });
    rows[`hello_${c}_rps`] = r.rps;
    rows[`hello_${c}_errors`] = r.errors;
  }
  await helloProc.stop();
  await redis.quit();
}
