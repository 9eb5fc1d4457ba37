// A benchmark responder process: a bare BullMQ worker or a bus server that echoes its input.
import { Worker } from 'bullmq';
import { z } from 'zod';
import { BusServer, createRedisConnection } from '@broker/bus';
import { parseServicePrivateKeys } from '@broker/bus-protocol';

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
    const server = new BusServer({
      redisUrl,
      keys: parseServicePrivateKeys(privateKey),
      prefix,
      service: 'bench',
      concurrency: 64,
      requestSchemas: { 'bench.echo': z.unknown() },
    });
    server.addHandler('bench.echo', async (data: unknown) => data, false);
    await new Promise<void>((resolve, reject) =>
      server.listen((err?: unknown) => (err ? reject(err) : resolve())),
    );
    process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
  }
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`responder failed: ${String(err)}\n`);
  process.exit(1);
});
