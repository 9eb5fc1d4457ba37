// bench:tokens, group 6: the refresh storm over three replicas (upstream refreshes counted at the IdP).
import { Client as PgClient } from 'pg';
import { BusClientProxy } from '@broker/bus';
import { parseServicePublicKeys } from '@broker/bus-protocol';
import { sleep } from './procs';
import { Bench, STORM, STORM_REPLICAS, p, step } from './tokens.shared';

export async function stormRows(b: Bench): Promise<void> {
  const { sys, rows, measured, stormAuth, acquire } = b;
  // ---------------------------------------------------------------------------------------------
  // 6. Refresh storm over three replicas (BENCH_STORM_REPLICAS): the replicas the other rows ran
  // with, and more started now if they were fewer (a cold replica in a storm is what a scale-up meets).
  for (let i = sys.brokers.length; i < STORM_REPLICAS; i++) {
    step(`storm: starting token-broker replica ${i + 1}`);
    sys.brokers.push(await sys.startService('token-broker', {}, `token-broker-${i + 1}`));
  }
  const cred = await (async () => {
    const c = new PgClient({ connectionString: sys.databaseUrl });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (
        await c.query('SELECT expires_at, updated_at FROM tokens.credentials WHERE authorization_id = $1', [
          stormAuth.authorizationId,
        ])
      ).rows[0] as {
        expires_at: Date;
        updated_at: Date;
      };
    } finally {
      await c.end();
    }
  })();
  const age = (Date.now() - cred.updated_at.getTime()) / 1000;
  if (age < 7) {
    step(`storm: letting the token age ${(7 - age).toFixed(1)} s more`);
    await sleep((7 - age) * 1000);
  }
  const lifetime = (cred.expires_at.getTime() - cred.updated_at.getTime()) / 1000;
  // More than the token has left (it is > 6 s old) and no more than a fresh one can give: one refresh is needed.
  const stormMin = Math.ceil(lifetime);
  rows['storm_token_age_s'] = (Date.now() - cred.updated_at.getTime()) / 1000;
  rows['storm_min_validity'] = stormMin;
  step(
    `storm: ${STORM} concurrent acquires (minValiditySeconds ${stormMin}, ${Math.round((cred.expires_at.getTime() - Date.now()) / 1000)} s left)`,
  );
  const oldToken = (await acquire(stormAuth.authorizationId, 5)).accessToken;
  const callers = Array.from(
    { length: 3 },
    (_, i) =>
      new BusClientProxy({
        redisUrl: sys.redisUrl,
        servicePublicKeys: parseServicePublicKeys(sys.env['BUS_SERVICE_PUBLIC_KEYS']),
        prefix: sys.env['BUS_PREFIX'],
        name: `storm-${i}`,
      }),
  );
  await Promise.all(callers.map((c) => c.connect()));
  const stormBefore = await sys.consumed();
  try {
    const latencies: number[] = [];
    const tokens = new Set<string>();
    let errors = 0;
    const storm = await measured('storm', async () => {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: STORM }, async (_, i) => {
          const s = performance.now();
          try {
            const t = await acquire(stormAuth.authorizationId, stormMin, callers[i % callers.length], 30_000);
            latencies.push(performance.now() - s);
            tokens.add(t.accessToken);
          } catch {
            errors++;
          }
        }),
      );
      return performance.now() - t0;
    });
    rows['storm_refreshes'] = (await sys.consumed()) - stormBefore;
    rows['storm_p50'] = p(latencies, 50);
    rows['storm_p99'] = p(latencies, 99);
    rows['storm_max'] = Math.max(...latencies);
    rows['storm_wall_ms'] = storm;
    rows['storm_errors'] = errors;
    rows['storm_distinct_tokens'] = tokens.size;
    rows['storm_token_changed'] = tokens.has(oldToken) ? 0 : 1;
  } finally {
    await Promise.all(callers.map((c) => c.close()));
  }
}
