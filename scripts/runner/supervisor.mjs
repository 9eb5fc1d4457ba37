// The state of one `npm start`: what it started (build, services, demo provider, local servers),
// how it reacts to signals and to its parent's death, and the orderly stop that ends it.
import { stopAllServices } from '../lib/local-services.mjs';
import { safeKill } from '../lib/processes.mjs';
import { watchParent } from './parent-watch.mjs';
import { SupervisedProcess } from './supervised-process.mjs';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const STOP_GRACE_MS = 10_000;
// Ctrl-C reaches the supervisor twice: from the terminal (same process group) and forwarded by
// npm. A repeat this soon is the same keypress, not a second one asking to hurry.
const SAME_SIGNAL_MS = 1_500;

export class Supervisor {
  constructor({ log, lock }) {
    this.log = log;
    this.lock = lock;
    this.processes = new Map(); // name -> SupervisedProcess, in start order
    this.servers = []; // { name, handle: { pid(), stop() }, watch }
    this.buildChild = null;
    this.stopping = null;
    this.up = false; // every service was ready once: from now on a crash means restart
    this.firstSignalAt = 0;
    this.forceStop = null;
    this.forced = new Promise((resolve) => (this.forceStop = resolve));
  }

  /** Installs the signal handlers and the parent watch. */
  install() {
    for (const sig of SIGNALS) process.on(sig, () => this.#onSignal(sig));
    watchParent((ppid) =>
      this.shutdown(1, `the parent process (pid ${ppid}, npm) is gone: stopping everything`),
    );
  }

  #onSignal(sig) {
    const now = Date.now();
    if (!this.stopping) {
      this.firstSignalAt = now;
      void this.shutdown(0, `${sig}: stopping everything (again to stop at once)`);
      return;
    }
    if (now - this.firstSignalAt < SAME_SIGNAL_MS) return;
    this.log(`${sig} again: killing what is still running`);
    this.forceStop();
    if (this.buildChild) safeKill(this.buildChild.pid, 'SIGKILL');
  }

  /** Starts a supervised child; before every service was ready once, its death stops everything. */
  async spawn(name, spec) {
    const proc = new SupervisedProcess(name, {
      ...spec,
      log: this.log,
      onRestarted: () => this.#recordPids(),
    });
    proc.shouldRestart = (code, signal) => {
      if (this.up) return true;
      void this.shutdown(
        1,
        `${name} exited during start-up (${signal ?? `exit code ${code}`}): see its output above; stopping everything`,
      );
      return false;
    };
    this.processes.set(name, proc);
    await proc.start();
    this.#recordPids();
    return proc;
  }

  /** Adds a local server (redis, postgres) to watch and to stop last. */
  addServer(name, handle, watch) {
    this.servers.push({ name, handle, watch });
  }

  running(name) {
    return this.processes.get(name)?.running ?? false;
  }

  #recordPids() {
    this.lock.update({
      processes: Object.fromEntries(
        [...this.processes]
          .filter(([, p]) => p.running)
          .map(([name, p]) => [name, { pid: p.pid, command: p.command, port: p.spec.port }]),
      ),
    });
  }

  /** Stops everything this run started (once; later calls share it), prints what, and exits with `code`. */
  shutdown(code, reason) {
    return (this.stopping ??= (async () => {
      if (reason) this.log(reason);
      const startedAt = Date.now();
      for (const s of this.servers) s.watch?.stop();
      if (this.buildChild) safeKill(this.buildChild.pid, 'SIGTERM');
      const stopped = [];
      // The gateway first (no new requests), then the others together, then the demo provider.
      const order = [...this.processes.keys()].sort((a, b) => rank(a) - rank(b));
      for (const group of [
        order.filter((n) => rank(n) === 0),
        order.filter((n) => rank(n) === 1),
        order.filter((n) => rank(n) === 2),
      ]) {
        const pids = await Promise.all(
          group.map((name) => this.processes.get(name).stop(STOP_GRACE_MS, this.forced)),
        );
        group.forEach((name, i) => pids[i] && stopped.push(`${name} (pid ${pids[i]})`));
      }
      const serverPids = this.servers.map((s) => [s.name, s.handle.pid()]);
      await stopAllServices(); // only what this process started; servers given by URL are untouched
      for (const [name, pid] of serverPids) if (pid) stopped.push(`${name} (pid ${pid})`);
      this.lock.release();
      const took = `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
      this.log(stopped.length ? `stopped ${stopped.join(', ')} in ${took}` : 'stopped (nothing was running yet)');
      process.exit(code);
    })());
  }
}

function rank(name) {
  if (name === 'gateway') return 0;
  if (name === 'demo-idp') return 2;
  return 1;
}
