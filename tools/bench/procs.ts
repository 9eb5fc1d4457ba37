// Child processes of a benchmark run (services, the demo IdP, helpers) and the cleanup of everything
// the run started: every child is tracked from the moment it is spawned, stopped with SIGTERM (then
// SIGKILL) by stopAllProcs(), and SIGKILLed by the 'exit' hook if the run ends any other way.
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

const tracked = new Set<Proc>();
const everStarted: Proc[] = [];

process.on('exit', () => {
  for (const p of tracked) p.killNow();
});

/** One child process whose stdout and stderr go to a log file (never to a pipe the bench must drain). */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;
  /** Set when the run asked it to stop. */
  stopped = false;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    readonly logFile: string,
    cwd?: string,
  ) {
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawn(command, args, { cwd, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    tracked.add(this);
    everStarted.push(this);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.done = true;
        tracked.delete(this);
        resolve({ code, signal });
      }),
    );
    this.child.once('error', () => undefined); // spawn failures surface as 'exit' / readiness errors
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return !this.done;
  }

  /** Exit code or signal once exited, else null. */
  get exit(): string | null {
    if (!this.done) return null;
    return this.child.signalCode ?? String(this.child.exitCode);
  }

  /** The last `bytes` of the process's log (for error messages). */
  tail(bytes = 3000): string {
    if (!existsSync(this.logFile)) return '';
    const text = readFileSync(this.logFile, 'utf8');
    return text.slice(-bytes);
  }

  /** Resolves when the process has exited (by itself or stopped). */
  async wait(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  killNow(): void {
    this.stopped = true;
    if (!this.done) this.child.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    if (this.done) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.killNow(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Stops every tracked child (in parallel). */
export async function stopAllProcs(graceMs = 5_000): Promise<void> {
  await Promise.all([...tracked].map((p) => p.stop(graceMs)));
}

/** Processes of this run that exited by themselves before being stopped (name, how, log tail). */
export function unexpectedExits(): string[] {
  return everStarted
    .filter((p) => p.exit !== null && !p.stopped && p.exit !== '0')
    .map((p) => `${p.name} exited (${p.exit}); tail of ${p.logFile}:\n${p.tail(1500)}`);
}

export function killAllProcsNow(): void {
  for (const p of tracked) p.killNow();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; fails if `proc` exits or `timeoutMs` passes. */
export async function waitFor(
  what: string,
  proc: Proc,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.alive)
      throw new Error(
        `${what}: ${proc.name} exited during start-up; tail of ${proc.logFile}:\n${proc.tail()}`,
      );
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms; tail of ${proc.logFile}:\n${proc.tail()}`);
}
