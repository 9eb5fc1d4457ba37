// Child commands and process inspection (Node built-ins only): running short commands with their
// output captured, finding a server's processes by the directory they run in, waiting for and
// killing pids. Linux /proc is used when present; elsewhere the checks fall back to `kill -0`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export const HAS_PROC = fs.existsSync('/proc/self/cwd');

/** @typedef {import('node:child_process').ChildProcess & { forStop?: boolean, closed?: Promise<unknown> }} TrackedChild */

/** @type {Set<TrackedChild>} */
const inFlight = new Set(); // short-lived commands (initdb, pg_ctl, psql, apt-get, ...)
let refusing = false; // set once shutting down: no new command may start

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** From now on run() refuses every command except stop commands (`forStop`). */
export function refuseNewCommands() {
  refusing = true;
}

/** Whether refuseNewCommands() was called. */
export function refusingNewCommands() {
  return refusing;
}

/** Commands started by run() that have not finished yet. */
export function commandsInFlight() {
  return [...inFlight];
}

/**
 * Runs a command to completion; resolves with { code, signal, stdout, stderr } (never rejects on a non-zero exit).
 * @param {string} cmd
 * @param {readonly string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, stream?: boolean, forStop?: boolean }} [options]
 */
export function run(cmd, args, { env = process.env, cwd = '/', stream = false, forStop = false } = {}) {
  return new Promise((resolve, reject) => {
    if (refusing && !forStop) return reject(new Error(`shutting down: not running ${cmd}`));
    // Output streamed to our stderr so a caller's stdout stays clean.
    /** @type {import('node:child_process').StdioOptions} */
    const stdio = stream ? ['ignore', 2, 2] : ['ignore', 'pipe', 'pipe'];
    /** @type {TrackedChild} */
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

/** run(), but a non-zero exit is an error carrying the command's output. */
export async function runChecked(cmd, args, opts) {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (exit ${res.code}${res.signal ? `, ${res.signal}` : ''})` +
        `${res.stdout || res.stderr ? `:\n${res.stdout}${res.stderr}` : ''}`,
    );
  }
  return res;
}

/**
 * True if pid is alive and its working directory is `dir` (postgres and redis chdir to their dir),
 * which guards against a stale pid file whose pid was reused by an unrelated process.
 */
export function pidRunsIn(pid, dir) {
  if (!HAS_PROC) return isAlive(pid);
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(dir);
  } catch {
    return false;
  }
}

/** Pids of processes named `comm` whose working directory is `dir`. */
export function processesIn(dir, comm) {
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

/** The command line of a live pid ('' when it is gone or unreadable). */
export function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Stops every process named `comm` running in `dir` (signal, then SIGKILL after 10 s). */
export async function killStrays(dir, comm, log, signal = 'SIGKILL') {
  const pids = processesIn(dir, comm);
  if (!pids.length) return;
  log(`stopping leftover ${comm} processes in ${dir}: ${pids.join(' ')}`);
  for (const pid of pids) safeKill(pid, signal);
  for (const pid of pids) {
    if (!(await waitForExit(pid, 10_000))) safeKill(pid, 'SIGKILL');
  }
  for (const pid of pids) await waitForExit(pid, 2_000);
}

/** Resolves true once pid is gone, false if it still runs after timeoutMs. */
export async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Whether pid exists and is not a zombie. */
export function isAlive(pid) {
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

/** SIGKILLs pid and all its descendants (SIGKILL cannot be forwarded, e.g. by runuser). */
export function killTree(pid) {
  for (const p of [pid, ...descendants(pid)]) safeKill(p, 'SIGKILL');
}

/** Pids of every descendant of pid (children, their children, ...). */
export function descendants(pid) {
  const children = new Map();
  for (const name of HAS_PROC ? safeReaddir('/proc') : []) {
    if (!/^\d+$/.test(name)) continue;
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
  return tree.slice(1);
}

/** process.kill that ignores a pid that is already gone. */
export function safeKill(pid, signal) {
  try {
    if (pid) process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

export function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** fs.readdirSync, or [] when the directory is missing or unreadable. */
export function safeReaddir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
