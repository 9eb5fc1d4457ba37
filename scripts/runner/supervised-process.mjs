// One long-running child of `npm start` (a service, the demo provider), restarted with backoff when
// it dies on its own, and stopped with SIGTERM (then SIGKILL) when asked.
//
// Children run in their own process group (`detached`): Ctrl-C in the terminal reaches only npm and
// the supervisor, which then stops the children in order, instead of every child racing to exit
// while the supervisor takes their exits for crashes. A supervisor killed with SIGKILL leaves them
// running; the next `npm start` stops them (run-lock.mjs).
import { spawn } from 'node:child_process';
import { commandLine, safeKill } from '../lib/processes.mjs';

/** @typedef {import('node:child_process').ChildProcess & { exited?: Promise<{ code: number | null, signal: NodeJS.Signals | null }> }} SupervisedChild */

/** Delay before the n-th restart in a row (1 s, 2 s, 4 s ... 30 s). */
export function restartDelayMs(restartsInARow) {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, restartsInARow - 1));
}
/** A child that ran this long is healthy again: its next crash starts the backoff from 1 s. */
const STABLE_AFTER_MS = 60_000;

export class SupervisedProcess {
  /**
   * @param {string} name
   * @param {{ command: string, args: string[], env: object, cwd: string, stdio?: any,
   *           log: (msg: string) => void, onStarted?: (child) => void, onRestarted?: (proc) => void }} spec
   */
  constructor(name, spec) {
    this.name = name;
    this.spec = spec;
    /** @type {SupervisedChild | null} */
    this.child = null;
    this.stopping = false;
    this.restarts = 0; // in a row
    this.restartTimer = null;
    /**
     * Called with (code, signal) when the child dies on its own; return true to restart it.
     * @type {(code: number | null, signal: NodeJS.Signals | null) => boolean}
     */
    this.shouldRestart = () => true;
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  get running() {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the child; resolves once it is spawned (rejects if it cannot be). */
  start() {
    const { command, args, env, cwd, stdio = 'inherit' } = this.spec;
    /** @type {SupervisedChild} */
    const child = spawn(command, args, { cwd, env, stdio, detached: true });
    this.child = child;
    this.startedAt = Date.now();
    this.command = null;
    child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('exit', (code, signal) => this.#exited(child, code, signal));
    return new Promise((resolve, reject) => {
      child.once('spawn', () => {
        this.command = commandLine(child.pid);
        this.spec.onStarted?.(child);
        resolve(child);
      });
      child.once('error', reject);
    });
  }

  #exited(child, code, signal) {
    if (this.stopping || child !== this.child) return;
    const how = signal ?? `exit code ${code}`;
    if (!this.shouldRestart(code, signal)) return;
    if (Date.now() - this.startedAt >= STABLE_AFTER_MS) this.restarts = 0;
    this.restarts++;
    const delay = restartDelayMs(this.restarts);
    this.spec.log(
      `${this.name} (pid ${child.pid}) exited unexpectedly (${how}): restarting it in ${delay / 1000} s (restart ${this.restarts} in a row)`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.start().then(
        (next) => {
          this.spec.log(`${this.name} restarted (pid ${next.pid})`);
          this.spec.onRestarted?.(this);
        },
        (err) => this.spec.log(`${this.name} could not be restarted: ${err.message}`),
      );
    }, delay);
  }

  /** Stops the child (SIGTERM, SIGKILL after graceMs or when `force()` resolves); resolves with its pid once it is gone, or null if none ran. */
  async stop(graceMs, forced) {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return null;
    safeKill(child.pid, 'SIGTERM');
    let timer;
    const kill = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
    const how = await Promise.race([
      child.exited.then(() => 'exited'),
      kill.then(() => 'grace'),
      forced.then(() => 'forced'),
    ]);
    clearTimeout(timer);
    if (how !== 'exited') {
      this.spec.log(
        `${this.name} (pid ${child.pid}) ${how === 'grace' ? `did not stop within ${graceMs / 1000} s` : 'is being killed'}: SIGKILL`,
      );
      safeKill(child.pid, 'SIGKILL');
      await child.exited;
    }
    return child.pid;
  }
}
