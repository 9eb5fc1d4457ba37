// A daemonized redis-server from the system binary, in a directory of ours, on 127.0.0.1.
// Registered before launch and stopped by its directory, like postgres.mjs.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './ports.mjs';
import {
  isAlive,
  killStrays,
  pidRunsIn,
  processesIn,
  run,
  safeKill,
  sleep,
  sleepSync,
  waitForExit,
} from './processes.mjs';
import { ensureServerBinaries } from './server-binaries.mjs';
import { rotateLog, tail } from './server-logs.mjs';
import { register } from './started-resources.mjs';

const defaultLog = (msg) => process.stderr.write(`[services] ${msg}\n`);

/**
 * Starts a daemonized redis-server in dir on 127.0.0.1:port (default as startPostgres) and waits for
 * PONG. `aclFile`: its users (loaded at every start, so a restarted server has them before it takes a
 * connection); the default user must still be allowed PING and SHUTDOWN.
 * @param {{ dir?: string, port?: number | null, preferredPort?: number, persistent?: boolean, aclFile?: string, log?: (msg: string) => unknown }} [options]
 */
export async function startRedis({ dir, port, preferredPort, persistent = false, aclFile, log = defaultLog } = {}) {
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
      ...(aclFile ? ['--aclfile', path.resolve(aclFile)] : []),
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
  return { url: `redis://127.0.0.1:${port}`, port, dir, logFile, pid: () => redisPid(dir), stop: entry.stop };
}

/** The pid of the redis-server running in dir, or null when none runs there. */
export function redisPid(dir) {
  const state = redisState(dir);
  return state.alive ? state.pid : null;
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

/** Sends one inline command; resolves with the raw reply ('' if the connection closed/failed). */
export function redisCommand(port, command, timeoutMs) {
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
