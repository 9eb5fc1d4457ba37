// Benchmark entry: provisions what the benchmark needs under a temp dir, runs, prints, cleans up.
//   bus     a throwaway Redis (unless BENCH_REDIS_URL is given)
//   tokens  throwaway PostgreSQL + Redis, the demo IdP and the four services (see tokens.bench.ts)
//   scale   the same, with N authorizations and a fake provider (see scale.bench.ts)
// Everything started is stopped and the temp dirs removed on success, failure, Ctrl-C (SIGINT,
// SIGTERM, SIGHUP) or when the run exceeds its time bound (BENCH_DEADLINE_MS, default 170 s; for
// scale 10 min plus 2 min per 100 000 authorizations).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printBusBench, runBusBench } from './bus.bench';
import { num, text } from './bench-env';
import { killAllProcsNow, stopAllProcs, unexpectedExits } from './procs';

const BENCHMARKS = ['bus', 'tokens', 'scale'];
const scaleN = num('BENCH_SCALE_N', 100_000);
const DEADLINE_MS = num(
  'BENCH_DEADLINE_MS',
  process.argv[2] === 'scale' ? 600_000 + (scaleN / 100_000) * 120_000 : 170_000,
);
const quiet = { log: () => undefined };

/** What this file uses of scripts/lib/local-services.mjs (plain JS, no declarations). */
interface Services {
  ensureServerBinaries(o: { log: (m: string) => void }): Promise<unknown>;
  freePort(preferred?: number): Promise<number>;
  startRedis(o: {
    dir: string;
    port: number;
    persistent: boolean;
    log: (m: string) => void;
  }): Promise<{ url: string }>;
  startThrowawayServices(o: {
    postgres: boolean;
    redis: boolean;
    log: (m: string) => void;
  }): Promise<{ databaseUrl: string; redisUrl: string; dir: string }>;
  createDatabase(url: string, name: string): Promise<string>;
  stopAllServices(): Promise<void>;
  stopAllServicesSync(): void;
}
const LOCAL_SERVICES = '../../scripts/lib/local-services.mjs';
let services: Services | undefined;
const dir = mkdtempSync(join(tmpdir(), 'broker-bench-'));
let cleaning: Promise<void> | undefined;
let interrupted: string | undefined;

/** Stops the run's processes, then its servers, then removes the temp dir (once; later calls share it). */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAllProcs().catch(() => undefined);
    await services?.stopAllServices().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

function cleanupNow(): void {
  killAllProcsNow();
  services?.stopAllServicesSync();
  rmSync(dir, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) {
      cleanupNow(); // second signal: no more waiting
      process.exit(130);
    }
    interrupted = sig;
    process.stderr.write(`\n${sig}: stopping everything the benchmark started\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Last resort (also after a crash half-way through clean-up): kill what is left, remove the dir.
process.on('exit', cleanupNow);
// Connections torn down by a clean-up in progress may emit errors nobody listens to any more.
process.on('uncaughtException', (err) => {
  if (interrupted || cleaning) return;
  console.error(err);
  interrupted = 'crash';
  void cleanup().finally(() => process.exit(1));
});

setTimeout(() => {
  interrupted = 'deadline';
  process.stderr.write(
    `\nthe benchmark ran longer than ${DEADLINE_MS / 1000} s: stopping everything it started\n`,
  );
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS).unref();

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'bus';
  if (!BENCHMARKS.includes(which))
    throw new Error(`unknown benchmark '${which}' (known: ${BENCHMARKS.join(', ')})`);
  services = (await import(LOCAL_SERVICES)) as Services;
  try {
    if (which === 'bus') {
      let redisUrl = text('BENCH_REDIS_URL');
      if (!redisUrl) {
        await services.ensureServerBinaries(quiet);
        const redis = await services.startRedis({
          dir,
          port: await services.freePort(),
          persistent: false,
          ...quiet,
        });
        redisUrl = redis.url;
      }
      printBusBench(await runBusBench(redisUrl));
    } else {
      const started = Date.now();
      process.stderr.write('  … throwaway PostgreSQL and Redis\n');
      const servers = await services.startThrowawayServices({ postgres: true, redis: true, ...quiet });
      const databaseUrl = await services.createDatabase(servers.databaseUrl, 'broker');
      const provisioned = {
        databaseUrl,
        redisUrl: servers.redisUrl,
        pgDataDir: join(servers.dir, 'postgres'),
        redisDir: join(servers.dir, 'redis'),
      };
      if (which === 'scale') {
        const { runScaleBench, printScaleBench } = await import('./scale.bench');
        printScaleBench(await runScaleBench(dir, provisioned));
      } else {
        const { runTokensBench, printTokensBench } = await import('./tokens.bench');
        printTokensBench(await runTokensBench(dir, provisioned));
      }
      console.log(
        `\nwhole run (provisioning included, clean-up not): ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    }
  } catch (err) {
    if (!interrupted) for (const e of unexpectedExits()) process.stderr.write(`\n${e}\n`);
    throw err;
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(interrupted ? 130 : 0),
  (err: unknown) => {
    if (interrupted) return; // the signal / deadline handler exits once clean-up is done
    console.error(err);
    process.exit(1);
  },
);
