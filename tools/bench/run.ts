// Benchmark entry: provisions a throwaway Redis unless BENCH_REDIS_URL is given, runs, prints, cleans up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printBusBench, runBusBench } from './bus.bench';

interface LocalServer {
  url: string;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'bus';
  let redisUrl = process.env['BENCH_REDIS_URL'];
  let redis: LocalServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'broker-bench-'));
  try {
    if (!redisUrl) {
      const services = await import('../../scripts/lib/local-services.mjs');
      await services.ensureServerBinaries({ log: () => undefined });
      redis = (await services.startRedis({ dir, port: await services.freePort(), persistent: false, log: () => undefined })) as LocalServer;
      redisUrl = redis.url;
    }
    if (which !== 'bus') throw new Error(`unknown benchmark '${which}' (known: bus)`);
    printBusBench(await runBusBench(redisUrl));
  } finally {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
