// A PostgreSQL cluster from the system binaries, in a data directory of ours, on 127.0.0.1.
//
// The server is registered (started-resources.mjs) *before* it is launched and is stopped by
// looking at its data directory (pid file + processes whose cwd is that directory), so a start
// interrupted half-way (Ctrl-C while pg_ctl runs) still leaves nothing behind.
//
// A server already running in the directory (e.g. a previous run was killed with SIGKILL) is
// stopped and started again with the options asked for now, so the port and durability settings
// are always the requested ones. A stale pid file (server gone) is removed, and stray processes of
// a dead server still holding the directory are killed first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { freePort } from './ports.mjs';
import { killStrays, pidRunsIn, processesIn, run, runChecked, safeKill, safeReaddir } from './processes.mjs';
import { IS_ROOT, ensureServerBinaries, psqlPath } from './server-binaries.mjs';
import { rotateLog, tail } from './server-logs.mjs';
import { register } from './started-resources.mjs';

const PG_OS_USER = 'postgres';
const defaultLog = (msg) => process.stderr.write(`[services] ${msg}\n`);

/**
 * Starts (initdb if needed) a cluster in dataDir on 127.0.0.1:port (default: preferredPort if free, else any free port).
 * @param {{ dataDir?: string, port?: number | null, preferredPort?: number, persistent?: boolean, log?: (msg: string) => unknown }} [options]
 */
export async function startPostgres({
  dataDir,
  port,
  preferredPort,
  persistent = false,
  log = defaultLog,
} = {}) {
  if (!dataDir) throw new Error('startPostgres: dataDir is required');
  const { pgBin } = await ensureServerBinaries({ log, redis: false });
  dataDir = path.resolve(dataDir);
  if (IS_ROOT) assertOsUser(PG_OS_USER);

  const pgCtl = path.join(pgBin, 'pg_ctl');
  const logFile = path.join(dataDir, 'server.log');
  await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (IS_ROOT) {
    makeParentsTraversable(dataDir, log);
    await runChecked('chown', ['-R', `${PG_OS_USER}:${PG_OS_USER}`, dataDir]);
  }

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (safeReaddir(dataDir).length) {
      throw new Error(
        `${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): move it away`,
      );
    }
    log(`initdb ${dataDir}`);
    await runChecked(
      ...asPgUser(path.join(pgBin, 'initdb'), [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--no-locale',
        ...(persistent ? [] : ['--no-sync']),
      ]),
    );
  }

  // Register before launching: an interrupted start is still cleaned up.
  const entry = register(
    `postgres ${dataDir}`,
    () => stopPostgresIn(dataDir, pgCtl, log),
    () => stopPostgresSync(dataDir, pgCtl),
  );

  try {
    await clearPreviousPostgres(dataDir, pgCtl, log);
    port ??= await freePort(preferredPort);
    rotateLog(logFile);
    const socketDir = socketPathFits(dataDir, port) ? dataDir : ''; // '' = no unix socket (path too long)
    const opts = [
      `-k ${shellQuote(socketDir)}`,
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      ...(persistent ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ].join(' ');
    const started = await run(
      ...asPgUser(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', opts, 'start']),
    );
    if (started.code !== 0) {
      throw new Error(
        `PostgreSQL failed to start on port ${port} (${dataDir}):\n${started.stdout}${started.stderr}` +
          `--- tail of ${logFile} ---\n${tail(logFile)}`,
      );
    }
  } catch (err) {
    await entry.stop().catch(() => {});
    throw err;
  }
  log(`postgres ready on 127.0.0.1:${port} (${persistent ? 'persistent' : 'throwaway'}, ${dataDir})`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    logFile,
    pid: () => postgresPid(dataDir),
    stop: entry.stop,
  };
}

/** The pid of the postmaster running in dataDir, or null when none runs there. */
export function postgresPid(dataDir) {
  const state = postmasterState(dataDir);
  return state.alive ? state.pid : null;
}

/** Creates database `name` (if missing) on the server at `url`; returns the new database's URL. */
export async function createDatabase(url, name) {
  const psql = psqlPath();
  const query = (sql) =>
    run(psql, ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
    });
  const literal = `'${name.replaceAll("'", "''")}'`;
  const ident = `"${name.replaceAll('"', '""')}"`;
  const exists = await query(`SELECT 1 FROM pg_database WHERE datname = ${literal}`);
  if (exists.code !== 0) throw new Error(`psql failed on ${redactUrl(url)}: ${exists.stderr.trim()}`);
  if (exists.stdout.trim() !== '1') {
    const created = await query(`CREATE DATABASE ${ident}`);
    if (created.code !== 0 && !/already exists/.test(created.stderr)) {
      throw new Error(`could not create database ${name}: ${created.stderr.trim()}`);
    }
  }
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${encodeURIComponent(name)}`;
  return dbUrl.toString();
}

/**
 * @param {string} bin
 * @param {string[]} args
 * @returns {[string, string[]]}
 */
function asPgUser(bin, args) {
  return IS_ROOT ? ['runuser', ['-u', PG_OS_USER, '--', bin, ...args]] : [bin, args];
}

function assertOsUser(user) {
  const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  if (id.status !== 0) {
    throw new Error(
      `running as root, but there is no '${user}' OS user to run PostgreSQL as ` +
        `(initdb refuses root). Install the Debian postgresql package, or set DATABASE_URL.`,
    );
  }
}

// The postgres OS user must be able to reach dataDir: add o+x to any ancestor that lacks it.
function makeParentsTraversable(dir, log) {
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    const st = fs.statSync(p);
    if (!(st.mode & 0o001)) {
      log(`chmod o+x ${p} (so the ${PG_OS_USER} user can reach ${dir})`);
      fs.chmodSync(p, (st.mode & 0o7777) | 0o001);
    }
    if (p === path.dirname(p)) break;
  }
}

function socketPathFits(dir, port) {
  return Buffer.byteLength(path.join(dir, `.s.PGSQL.${port}.lock`)) < 100; // sun_path is 108 bytes
}

function postmasterState(dataDir) {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let text;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch {
    return { pidFile, pid: null, alive: false };
  }
  const pid = Number(text.split('\n')[0]);
  return { pidFile, pid, alive: pid > 0 && pidRunsIn(pid, dataDir) };
}

// Stops a cluster left running in dataDir, or clears the traces of one that died.
async function clearPreviousPostgres(dataDir, pgCtl, log) {
  const state = postmasterState(dataDir);
  if (state.alive) {
    log(`a PostgreSQL server (pid ${state.pid}) is already running in ${dataDir}: restarting it`);
    await stopPostgresIn(dataDir, pgCtl, log);
    return;
  }
  await killStrays(dataDir, 'postgres', log);
  // No server runs here: remove its pid file and socket lock files. postgres itself would trust
  // them whenever their pid exists, and after a kill -9 that pid can be a not-yet-reaped zombie
  // (or, later, an unrelated process), which makes it refuse to start.
  const stale = safeReaddir(dataDir).filter((f) => /^\.s\.PGSQL\.\d+(\.lock)?$/.test(f));
  if (state.pid !== null) stale.push('postmaster.pid');
  if (stale.length) {
    log(`removing stale ${stale.join(', ')} in ${dataDir} (no server is running there)`);
    for (const f of stale) fs.rmSync(path.join(dataDir, f), { force: true });
  }
}

async function stopPostgresIn(dataDir, pgCtl, log) {
  if (postmasterState(dataDir).alive) {
    const res = await run(...asPgUser(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']), {
      forStop: true,
    });
    if (res.code !== 0 && postmasterState(dataDir).alive) {
      log(`pg_ctl stop -m fast failed (${res.stderr.trim()}): trying -m immediate`);
      await run(...asPgUser(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']), {
        forStop: true,
      });
    }
  }
  await killStrays(dataDir, 'postgres', log);
}

function stopPostgresSync(dataDir, pgCtl) {
  if (postmasterState(dataDir).alive) {
    const [cmd, args] = asPgUser(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', '-t', '20', 'stop']);
    spawnSync(cmd, args, { stdio: 'ignore', cwd: '/' });
  }
  for (const pid of processesIn(dataDir, 'postgres')) safeKill(pid, 'SIGKILL');
}

function shellQuote(s) {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
