// The bus open-loop row's load generator, as its own small process: the bench process has a large
// heap by then (earlier rows' samples, tsx), and its garbage collection pauses (≈ 5 ms every
// ≈ 0.4 s, measured with --trace-gc) showed up as latency of the system under test. A caller of the
// bus is a service with its own process too. Writes its results as JSON to the file it is given.
import { writeFileSync } from 'node:fs';
import { BusClientProxy } from '@broker/bus';
import { parseServicePublicKeys } from '@broker/bus-protocol';
import type { AcquiredToken } from '@broker/contracts';
import { openLoop } from './load';

interface Args {
  redisUrl: string;
  /** BUS_SERVICE_PUBLIC_KEYS of the system. */
  publicKeys: string;
  prefix: string;
  token: string;
  authorizationId: string;
  minValiditySeconds: number;
  rate: number;
  ms: number;
  warmup: number;
  out: string;
}

async function main(): Promise<void> {
  const a = JSON.parse(Buffer.from(process.argv[2], 'base64').toString('utf8')) as Args;
  const bus = new BusClientProxy({
    redisUrl: a.redisUrl,
    servicePublicKeys: parseServicePublicKeys(a.publicKeys),
    prefix: a.prefix,
    defaultTimeoutMs: 15_000,
    name: 'bench-open-loop',
  });
  await bus.connect();
  const acquire = () =>
    bus.request(
      'tokens.acquire',
      { authorizationId: a.authorizationId, minValiditySeconds: a.minValiditySeconds },
      { auth: a.token, timeoutMs: 15_000 },
    ) as Promise<AcquiredToken>;
  for (let i = 0; i < a.warmup; i++) await acquire();
  // Warm: tell the bench, and start when it says so (its CPU meter runs from then on).
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.once('SIGUSR2', () => resolve()));
  const result = await openLoop(a.rate, a.ms, acquire);
  writeFileSync(a.out, JSON.stringify(result));
  // Stay until the bench has read its CPU meter (which needs this process alive), then go (the
  // open connections keep the process up meanwhile).
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await bus.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`open-loop client failed: ${String(err)}\n`);
    process.exit(1);
  },
);
