// bench:scale's footprint (Redis for scheduling, PostgreSQL per authorization, RSS) and the first
// token of a freshly started token-broker.
import { createRedisConnection } from '@broker/bus';
import { N, ScaleRun, broker, rssMb, step, worker } from './scale.shared';

export async function footprintAndFreshBroker(run: ScaleRun, hot: string[]): Promise<void> {
  const { sys, bus, q, row } = run;
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
    `token-broker ${rssMb(broker(sys).pid).toFixed(0)} MB, worker ${rssMb(worker(sys).pid).toFixed(0)} MB`,
  );

  // A freshly started token-broker
  step('first token from a freshly started token-broker');
  await broker(sys).stop();
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
  await redis.quit();
}
