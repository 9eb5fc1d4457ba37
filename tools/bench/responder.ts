// A benchmark responder process: a bare BullMQ worker or a bus server that echoes its input.
// `bus-stamped`: a bus server that also answers `bench.stamped` with its phase stamps and handler
// time (the latency breakdown), and reports its event-loop delay and GC pauses between SIGUSR2
// (start) and SIGTERM (a JSON line on stdout before it exits).
import { Worker } from 'bullmq';
import { z } from 'zod';
import { BusContext, BusServer, createRedisConnection, monotonicMs } from '@broker/bus';
import { parseServicePrivateKeys } from '@broker/bus-protocol';
import { ProcessHealth, watchProcessHealth } from './process-health';

// The bus responder gets its private key (kid:key) as it would from BUS_SERVICE_PRIVATE_KEY.
const [kind, redisUrl, prefix, privateKey] = process.argv.slice(2);

async function main(): Promise<void> {
  if (kind === 'bullmq') {
    const worker = new Worker('bench-bare', async (job) => job.data, {
      connection: createRedisConnection(redisUrl, 'bench-bare-worker'),
      prefix,
      concurrency: 64,
    });
    await worker.waitUntilReady();
    process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
  } else {
    const stamped = kind === 'bus-stamped';
    const server = new BusServer({
      redisUrl,
      keys: parseServicePrivateKeys(privateKey),
      prefix,
      service: 'bench',
      concurrency: 64,
      requestSchemas: { 'bench.echo': z.unknown(), 'bench.stamped': z.unknown() },
      stampPhases: stamped,
    });
    server.addHandler('bench.echo', async (data: unknown) => data, false);
    // The server's stamps and the handler's own time, for the caller to line up with its own.
    server.addHandler(
      'bench.stamped',
      async (_data: unknown, ctx: BusContext) => ({ ...ctx.getStamps(), handler: monotonicMs() }),
      false,
    );
    let health: { stop: () => ProcessHealth } | undefined;
    if (stamped) process.on('SIGUSR2', () => (health = watchProcessHealth()));
    await new Promise<void>((resolve, reject) =>
      server.listen((err?: unknown) => (err ? reject(err) : resolve())),
    );
    process.on('SIGTERM', () => {
      if (health) process.stdout.write(`${JSON.stringify(health.stop())}\n`);
      void server.close().then(() => process.exit(0));
    });
  }
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`responder failed: ${String(err)}\n`);
  process.exit(1);
});
