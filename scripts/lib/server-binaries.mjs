// Finds the PostgreSQL server binaries and redis-server on this machine, installing them with
// apt-get when running as root and they are missing.
import fs from 'node:fs';
import path from 'node:path';
import { runChecked, safeReaddir } from './processes.mjs';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

let binaries = null;
const defaultLog = (msg) => process.stderr.write(`[services] ${msg}\n`);

/**
 * Finds the PostgreSQL server binaries and redis-server, apt-installing them when root (postgres/redis: false = not needed).
 * @param {{ log?: (msg: string) => unknown, postgres?: boolean, redis?: boolean }} [options]
 */
export async function ensureServerBinaries({ log = defaultLog, postgres = true, redis = true } = {}) {
  if (binaries) return binaries;
  let found = locateBinaries();
  const missingOf = (f) => missingPackages(f).filter((p) => (p === 'postgresql' ? postgres : redis));
  let missing = missingOf(found);
  if (missing.length && IS_ROOT && which('apt-get')) {
    log(`installing ${missing.join(' ')} with apt-get (not found on this machine)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const lock = ['-o', 'DPkg::Lock::Timeout=120'];
    await runChecked('apt-get', [...lock, 'update'], { env, stream: true });
    await runChecked('apt-get', [...lock, 'install', '-y', '--no-install-recommends', ...missing], {
      env,
      stream: true,
    });
    found = locateBinaries();
    missing = missingOf(found);
  }
  if (missing.length) {
    throw new Error(
      `Missing ${missing.includes('postgresql') ? 'PostgreSQL server binaries (initdb, pg_ctl, postgres)' : ''}` +
        `${missing.length === 2 ? ' and ' : ''}${missing.includes('redis-server') ? 'redis-server' : ''}.\n` +
        `Install them with:\n  sudo apt-get install -y postgresql redis-server\n` +
        `or use existing servers instead: set DATABASE_URL and REDIS_URL ` +
        `(for tests: TEST_DATABASE_URL and TEST_REDIS_URL).`,
    );
  }
  if (found.pgBin && found.redisServer) binaries = found; // cache only a complete answer
  return found;
}

/** psql: next to the server binaries, else on PATH. */
export function psqlPath() {
  const inBin = binaries?.pgBin ?? locatePgBin();
  if (inBin && isExecutable(path.join(inBin, 'psql'))) return path.join(inBin, 'psql');
  const onPath = which('psql');
  if (!onPath) throw new Error('psql not found (install postgresql-client, or the postgresql package)');
  return onPath;
}

function missingPackages({ pgBin, redisServer }) {
  return [...(pgBin ? [] : ['postgresql']), ...(redisServer ? [] : ['redis-server'])];
}

function locateBinaries() {
  const pgBin = locatePgBin();
  const redisServer =
    which('redis-server') ?? ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find(isExecutable) ?? null;
  return { pgBin, redisServer };
}

// /usr/lib/postgresql/<highest>/bin first, then the real directory behind a pg_ctl on PATH
// (/usr/local/bin/pg_ctl may be a symlink/wrapper: we want the directory that also has initdb).
function locatePgBin() {
  const root = '/usr/lib/postgresql';
  const versions = safeReaddir(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = path.join(root, v, 'bin');
    if (hasPgServer(dir)) return dir;
  }
  for (const dir of pathDirs()) {
    const pgCtl = path.join(dir, 'pg_ctl');
    if (!isExecutable(pgCtl)) continue;
    const real = path.dirname(fs.realpathSync(pgCtl));
    if (hasPgServer(real)) return real;
    if (hasPgServer(dir)) return dir;
  }
  return null;
}

function hasPgServer(dir) {
  return ['initdb', 'pg_ctl', 'postgres'].every((b) => isExecutable(path.join(dir, b)));
}

function which(name) {
  return (
    pathDirs()
      .map((d) => path.join(d, name))
      .find(isExecutable) ?? null
  );
}

function pathDirs() {
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
