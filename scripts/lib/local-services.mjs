// Provisions real PostgreSQL and Redis servers from system binaries (Node built-ins only).
//
// Every server is registered *before* it is launched and is stopped by looking at its data
// directory (pid file + processes whose cwd is that directory), so a start interrupted half-way
// (Ctrl-C while pg_ctl runs) still leaves nothing behind. stopAllServices() / the process 'exit'
// hook stop whatever this process started.
//
// Policy for a server that is already running in the given directory (e.g. a previous run was
// killed with SIGKILL): it is stopped and started again with the options asked for now, so the
// port and durability settings are always the requested ones. A stale pid file (server gone) is
// removed, and stray processes of a dead server still holding the directory are killed first.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const PG_OS_USER = 'postgres';
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
const HAS_PROC = fs.existsSync('/proc/self/cwd');

const inFlight = new Set(); // short-lived commands (initdb, pg_ctl, psql, apt-get, ...)
const registry = []; // started resources, stopped in reverse order: { name, stop, stopSync }
let shuttingDown = false; // set by stopAll*: nothing new may start afterwards
let binaries = null;

const defaultLog = (msg) => process.stderr.write(`[services] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// binaries

// Finds the PostgreSQL server binaries and redis-server, apt-installing them when root (postgres/redis: false = not needed).
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

function psqlPath() {
  const inBin = binaries?.pgBin ?? locatePgBin();
  if (inBin && isExecutable(path.join(inBin, 'psql'))) return path.join(inBin, 'psql');
  const onPath = which('psql');
  if (!onPath) throw new Error('psql not found (install postgresql-client, or the postgresql package)');
  return onPath;
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

function safeReaddir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// ports

// Returns a TCP port that is free on 127.0.0.1 (and on the wildcard address), `preferred` if it is.
export async function freePort(preferred) {
  if (preferred && (await canListen(preferred, '127.0.0.1')) && (await canListen(preferred)))
    return preferred;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await ephemeralPort();
    if (await canListen(port)) return port;
  }
  throw new Error('could not find a free TCP port');
}

function canListen(port, host) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function ephemeralPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

// Starts (initdb if needed) a cluster in dataDir on 127.0.0.1:port (default: preferredPort if free, else any free port).
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
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dataDir, logFile, stop: entry.stop };
}

// Creates database `name` (if missing) on the server at `url`; returns the new database's URL.
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

// ---------------------------------------------------------------------------------------------
// Redis

// Starts a daemonized redis-server in dir on 127.0.0.1:port (default as startPostgres) and waits for PONG.
export async function startRedis({ dir, port, preferredPort, persistent = false, log = defaultLog } = {}) {
  if (!dir) throw new Error('startRedis: dir is required');
  const { redisServer } = await ensureServerBinaries({ log, postgres: false });
  dir = path.resolve(dir);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(dir, 'redis.pid');
  const logFile = path.join(dir, 'redis.log');

  const entry = register(
    `redis ${dir}`,
    () => stopRedisIn(dir, port, persistent, log),
    () => stopRedisSync(dir),
  );

  try {
    await clearPreviousRedis(dir, log);
    port ??= await freePort(preferredPort);
    rotateLog(logFile);
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--pidfile',
      pidFile,
      '--logfile',
      logFile,
      '--daemonize',
      'yes',
      ...(persistent ? ['--appendonly', 'yes', '--save', ''] : ['--save', '', '--appendonly', 'no']),
    ];
    const res = await run(redisServer, args, { cwd: dir });
    if (res.code !== 0) {
      throw new Error(
        `redis-server failed to start: ${res.stdout}${res.stderr}--- tail of ${logFile} ---\n${tail(logFile)}`,
      );
    }
    await waitForRedis(dir, port, 10_000, logFile);
  } catch (err) {
    await entry.stop().catch(() => {});
    throw err;
  }
  log(`redis ready on 127.0.0.1:${port} (${persistent ? 'persistent' : 'throwaway'}, ${dir})`);
  return { url: `redis://127.0.0.1:${port}`, port, dir, logFile, stop: entry.stop };
}

function redisState(dir) {
  const pidFile = path.join(dir, 'redis.pid');
  let pid = null;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim()) || null;
  } catch {
    /* no pid file */
  }
  return { pidFile, pid, alive: pid !== null && pidRunsIn(pid, dir) };
}

async function waitForRedis(dir, port, timeoutMs, logFile) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await redisCommand(port, 'PING', 500)).startsWith('+PONG')) {
      const state = redisState(dir);
      if (state.alive) return;
    }
    const { pid } = redisState(dir);
    if (pid !== null && !pidRunsIn(pid, dir)) break; // the daemon wrote its pid file and died
    await sleep(25);
  }
  throw new Error(
    `redis-server on 127.0.0.1:${port} did not answer PING within ${timeoutMs / 1000} s` +
      `\n--- tail of ${logFile} ---\n${tail(logFile)}`,
  );
}

async function clearPreviousRedis(dir, log) {
  const state = redisState(dir);
  if (state.alive) log(`a redis-server (pid ${state.pid}) is already running in ${dir}: restarting it`);
  await killStrays(dir, 'redis-server', state.alive ? () => {} : log, 'SIGTERM');
  if (state.pid !== null && fs.existsSync(state.pidFile)) fs.rmSync(state.pidFile, { force: true });
}

async function stopRedisIn(dir, port, persistent, log) {
  const { pid, alive } = redisState(dir);
  if (alive) {
    // A successful SHUTDOWN closes the connection without a reply; an error reply means it refused.
    if (port) {
      const reply = await redisCommand(port, persistent ? 'SHUTDOWN' : 'SHUTDOWN NOSAVE', 10_000);
      if (reply.startsWith('-')) log(`redis SHUTDOWN refused: ${reply.trim()}`);
    } else {
      safeKill(pid, 'SIGTERM'); // start interrupted before a port was chosen: signal it directly
    }
    if (!(await waitForExit(pid, 10_000))) {
      log(`redis-server (pid ${pid}) did not stop: sending SIGTERM`);
      safeKill(pid, 'SIGTERM');
      await waitForExit(pid, 5_000);
    }
  }
  await killStrays(dir, 'redis-server', log, 'SIGTERM');
}

function stopRedisSync(dir) {
  const pids = processesIn(dir, 'redis-server');
  for (const pid of pids) safeKill(pid, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < deadline) sleepSync(20);
  for (const pid of pids) safeKill(pid, 'SIGKILL');
}

// Sends one inline command; resolves with the raw reply ('' if the connection closed/failed).
function redisCommand(port, command, timeoutMs) {
  return new Promise((resolve) => {
    let reply = '';
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = () => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(timeoutMs, done);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

// ---------------------------------------------------------------------------------------------
// throwaway pair for tests

// Starts a non-persistent PostgreSQL and/or Redis in a fresh temp dir; stop() removes everything.
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
  const stop = async () => {
    for (const r of [rd, pg]) if (r.status === 'fulfilled' && r.value) await r.value.stop();
    await dirEntry.stop();
  };
  const failure = [pg, rd].find((r) => r.status === 'rejected');
  if (failure) {
    await stop().catch(() => {});
    throw failure.reason;
  }
  return {
    databaseUrl: pg.value ? pg.value.url : null,
    redisUrl: rd.value ? rd.value.url : null,
    dir: root,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// cleanup of everything this process started

// Stops every server this process started and ends commands still running; nothing new starts afterwards.
export async function stopAllServices() {
  shuttingDown = true;
  // Commands still running (e.g. initdb via runuser, which forwards SIGTERM) must finish before
  // their directories are stopped/removed.
  await Promise.all(
    [...inFlight].map(async (child) => {
      if (!child.forStop) safeKill(child.pid, 'SIGTERM'); // let a stop command in progress finish
      if (!(await waitForExit(child.pid, child.forStop ? 70_000 : 10_000))) killTree(child.pid);
      await child.closed;
    }),
  );
  for (const entry of [...registry].reverse()) {
    try {
      await entry.stop();
    } catch (err) {
      defaultLog(`could not stop ${entry.name}: ${err.message}`);
    }
  }
}

// Synchronous last resort for 'exit' and signal handlers: kills everything, no waiting for grace.
export function stopAllServicesSync() {
  shuttingDown = true;
  for (const child of inFlight) killTree(child.pid);
  for (const entry of [...registry].reverse()) {
    try {
      entry.stopSync();
    } catch {
      /* best effort */
    }
  }
}

process.on('exit', stopAllServicesSync);

// Adds a started resource to the registry; stop() is idempotent and concurrent calls share one
// stop. The entry stays registered until stopped, so the exit hook still covers a stop in progress.
function register(name, stopAsync, stopSync) {
  if (shuttingDown) throw new Error(`shutting down: not starting ${name}`);
  let stopping = null;
  let done = false;
  const entry = {
    name,
    stop: () =>
      (stopping ??= (async () => {
        try {
          if (!done) await stopAsync();
        } finally {
          done = true;
          unregister(entry);
        }
      })()),
    stopSync: () => {
      if (done) return;
      done = true;
      unregister(entry);
      stopSync();
    },
  };
  registry.push(entry);
  return entry;
}

function unregister(entry) {
  const i = registry.indexOf(entry);
  if (i >= 0) registry.splice(i, 1);
}

// ---------------------------------------------------------------------------------------------
// processes

function run(cmd, args, { env = process.env, cwd = '/', stream = false, forStop = false } = {}) {
  return new Promise((resolve, reject) => {
    if (shuttingDown && !forStop) return reject(new Error(`shutting down: not running ${cmd}`));
    // Output streamed to our stderr so a caller's stdout stays clean.
    const stdio = stream ? ['ignore', 2, 2] : ['ignore', 'pipe', 'pipe'];
    const child = spawn(cmd, args, { cwd, env, stdio });
    inFlight.add(child);
    child.forStop = forStop;
    child.closed = new Promise((r) => child.once('close', r).once('error', r));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      inFlight.delete(child);
      reject(new Error(`could not run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      inFlight.delete(child);
      resolve({ code: code ?? 128, signal, stdout, stderr });
    });
  });
}

async function runChecked(cmd, args, opts) {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (exit ${res.code}${res.signal ? `, ${res.signal}` : ''})` +
        `${res.stdout || res.stderr ? `:\n${res.stdout}${res.stderr}` : ''}`,
    );
  }
  return res;
}

// True if pid is alive and its working directory is `dir` (postgres and redis chdir to their dir),
// which guards against a stale pid file whose pid was reused by an unrelated process.
function pidRunsIn(pid, dir) {
  if (!HAS_PROC) return isAlive(pid);
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(dir);
  } catch {
    return false;
  }
}

// Pids of processes named `comm` whose working directory is `dir`.
function processesIn(dir, comm) {
  if (!HAS_PROC) return [];
  let real;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return [];
  }
  const pids = [];
  for (const name of safeReaddir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== comm) continue;
      if (fs.readlinkSync(`/proc/${name}/cwd`) === real) pids.push(Number(name));
    } catch {
      /* exited or not ours to inspect */
    }
  }
  return pids;
}

async function killStrays(dir, comm, log, signal = 'SIGKILL') {
  const pids = processesIn(dir, comm);
  if (!pids.length) return;
  log(`stopping leftover ${comm} processes in ${dir}: ${pids.join(' ')}`);
  for (const pid of pids) safeKill(pid, signal);
  for (const pid of pids) {
    if (!(await waitForExit(pid, 10_000))) safeKill(pid, 'SIGKILL');
  }
  for (const pid of pids) await waitForExit(pid, 2_000);
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  if (!HAS_PROC) return true;
  try {
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); // zombie = gone
  } catch {
    return false;
  }
}

// SIGKILLs pid and all its descendants (SIGKILL cannot be forwarded, e.g. by runuser).
function killTree(pid) {
  const children = new Map();
  for (const name of HAS_PROC ? safeReaddir('/proc') : []) {
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* gone */
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  for (const p of tree) safeKill(p, 'SIGKILL');
}

function safeKill(pid, signal) {
  try {
    if (pid) process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---------------------------------------------------------------------------------------------
// small helpers

function shellQuote(s) {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function rotateLog(file) {
  try {
    if (fs.statSync(file).size > LOG_ROTATE_BYTES) fs.renameSync(file, `${file}.1`);
  } catch {
    /* no log yet */
  }
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
