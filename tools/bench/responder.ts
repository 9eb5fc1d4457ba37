// A benchmark responder process: a bare BullMQ worker or a bus server that echoes its input.
import { Worker } from 'bullmq';
import { BusServer, createRedisConnection } from '@broker/bus';

const [kind, redisUrl, prefix, busKeyB64] = process.argv.slice(2);

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
    const server = new BusServer({ redisUrl, busKey: Buffer.from(busKeyB64, 'base64'), prefix, service: 'bench', concurrency: 64 });
    server.addHandler('bench.echo', async (data: unknown) => data, false);
    await new Promise<void>((resolve, reject) => server.listen((err?: unknown) => (err ? reject(err) : resolve())));
    process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
  }
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`responder failed: ${String(err)}\n`);
  process.exit(1);
});
