// One `npm start` per data folder: a lock file naming the running supervisor (pid, gateway URL)
// and what it started, checked against live processes. A lock left by a supervisor that was killed
// (SIGKILL, power loss) is stale: what it left running is stopped and the lock is taken over.
import fs from 'node:fs';
import { commandLine, isAlive, safeKill, waitForExit } from '../lib/processes.mjs';

/** Thrown when another supervisor holds the lock; its message says where that one runs. */
export class AlreadyRunningError extends Error {
  constructor(holder, dataDir) {
    const where = holder.gatewayUrl
      ? `gateway ${holder.gatewayUrl}`
      : 'still starting, gateway URL not known yet';
    super(
      `npm start is already running on this data folder (${dataDir}): pid ${holder.pid}, ${where}, ` +
        `started ${holder.startedAt}.\n` +
        `  Use that one, or stop it first (Ctrl-C in its terminal, or: kill ${holder.pid}).\n` +
        `  To run a second, separate system, give it its own folder: BROKER_DATA_DIR=/some/dir npm start`,
    );
    this.name = 'AlreadyRunningError';
    this.holder = holder;
  }
}

/**
 * Takes the lock for this process or throws AlreadyRunningError. Returns { update(fields), release() }:
 * update() records the gateway URL and the pids of what runs (for `npm start` run next, and for
 * the stale-lock clean-up); release() removes the lock if it is still ours.
 */
export async function acquireRunLock(file, dataDir, log) {
  const mine = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    command: commandLine(process.pid),
    gatewayUrl: null,
    processes: {},
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${JSON.stringify(mine, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      return lockHandle(file, mine);
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = readLock(file);
    if (holder && holderRuns(holder)) throw new AlreadyRunningError(holder, dataDir);
    if (holder) await stopLeftovers(holder, log);
    fs.rmSync(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}`);
}

function lockHandle(file, state) {
  return {
    update(fields) {
      Object.assign(state, fields);
      if (readLock(file)?.pid === process.pid)
        fs.writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    },
    release() {
      if (readLock(file)?.pid === process.pid) fs.rmSync(file, { force: true });
    },
  };
}

/** The lock's content, or null when it is missing or unreadable (a half-written file counts as stale). */
export function readLock(file) {
  try {
    const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Number.isInteger(lock?.pid) ? lock : null;
  } catch {
    return null;
  }
}

// The holder runs if its pid is alive with the same command line (a reused pid is someone else).
function holderRuns(holder) {
  if (!isAlive(holder.pid)) return false;
  const now = commandLine(holder.pid);
  return !now || !holder.command || now === holder.command;
}

// Stops processes a dead supervisor recorded, each only if it still runs the recorded command.
async function stopLeftovers(holder, log) {
  const left = Object.entries(holder.processes ?? {}).filter(
    ([, p]) => Number.isInteger(p?.pid) && isAlive(p.pid) && p.command && commandLine(p.pid) === p.command,
  );
  log(
    `the previous npm start (pid ${holder.pid}) ended without stopping` +
      (left.length
        ? `; stopping what it left running: ${left.map(([name, p]) => `${name} (pid ${p.pid})`).join(', ')}`
        : ''),
  );
  for (const [, p] of left) safeKill(p.pid, 'SIGTERM');
  for (const [, p] of left) if (!(await waitForExit(p.pid, 10_000))) safeKill(p.pid, 'SIGKILL');
}
