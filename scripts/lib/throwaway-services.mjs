// A throwaway PostgreSQL + Redis pair for tests, in a fresh temp directory removed afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.mjs';
import { startPostgres } from './postgres.mjs';
import { startRedis } from './redis.mjs';
import { ensureServerBinaries } from './server-binaries.mjs';
import { register } from './started-resources.mjs';

const defaultLog = (msg) => process.stderr.write(`[services] ${msg}\n`);

/** Starts a non-persistent PostgreSQL and/or Redis in a fresh temp dir; stop() removes everything. */
export async function startThrowawayServices({ postgres = true, redis = true, log = defaultLog } = {}) {
  await ensureServerBinaries({ log, postgres, redis });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-test-'));
  const removeRoot = () => fs.rmSync(root, { recursive: true, force: true });
  // Registered first, so it is removed after the servers in it have stopped.
  let dirEntry;
  try {
    dirEntry = register(`temp dir ${root}`, async () => removeRoot(), removeRoot);
  } catch (err) {
    removeRoot();
    throw err;
  }
  fs.chmodSync(root, 0o755); // the postgres OS user must reach root/postgres

  const pgPort = postgres ? await freePort() : null;
  let redisPort = redis ? await freePort() : null;
  while (redisPort !== null && redisPort === pgPort) redisPort = await freePort();
  const [pg, rd] = await Promise.allSettled([
    postgres && startPostgres({ dataDir: path.join(root, 'postgres'), port: pgPort, persistent: false, log }),
    redis && startRedis({ dir: path.join(root, 'redis'), port: redisPort, persistent: false, log }),
  ]);
  // A service not asked for settles as fulfilled with `false`.
  const valueOf = (r) => (r.status === 'fulfilled' ? r.value || null : null);
  const stop = async () => {
    for (const r of [rd, pg]) await valueOf(r)?.stop();
    await dirEntry.stop();
  };
  const failure = [pg, rd].find((r) => r.status === 'rejected');
  if (failure) {
    await stop().catch(() => {});
    throw failure.reason;
  }
  return {
    databaseUrl: valueOf(pg)?.url ?? null,
    redisUrl: valueOf(rd)?.url ?? null,
    dir: root,
    stop,
  };
}
