import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** What `npm start` records in <data>/run.lock. */
export interface RunLock {
  pid: number;
  gatewayUrl: string | null;
  processes: Record<string, { pid: number; command: string; port?: number }>;
}

/**
 * `npm start` run the way a person runs it (through npm), in its own process group, with its own
 * data folder and ports; output kept for assertions.
 */
export class NpmStart {
  readonly output: string[] = [];
  child?: ChildProcess;
  private exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly dataDir: string,
    private readonly env: Record<string, string>,
    readonly cwd = ROOT,
  ) {}

  get text(): string {
    return this.output.join('');
  }

  get npmPid(): number {
    if (!this.child?.pid) throw new Error('npm start is not running');
    return this.child.pid;
  }

  start(): this {
    const child = spawn('npm', ['start'], {
      cwd: this.cwd,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/root',
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        BROKER_DATA_DIR: this.dataDir,
        LOG_LEVEL: 'warn',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child = child;
    return this;
  }

  /** Resolves with the gateway URL once "Gateway ready" is printed; rejects if npm exits first. */
  async ready(timeoutMs = 120_000): Promise<string> {
    return this.waitFor(/Gateway ready: (http:\/\/\S+)/, timeoutMs).then((m) => m[1]);
  }

  /** Waits until the output matches `pattern`. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited?.then(() => (done = true));
    for (;;) {
      const match = pattern.exec(this.text);
      if (match) return match;
      if (done) throw new Error(`npm start exited before printing ${pattern}:\n${this.text.slice(-4000)}`);
      if (Date.now() > deadline)
        throw new Error(
          `npm start did not print ${pattern} within ${timeoutMs} ms:\n${this.text.slice(-4000)}`,
        );
      await sleep(100);
    }
  }

  /** Resolves with npm's exit (code or signal). */
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited ?? Promise.resolve({ code: null, signal: null });
  }

  lock(): RunLock {
    return JSON.parse(readFileSync(join(this.dataDir, 'run.lock'), 'utf8')) as RunLock;
  }

  lockExists(): boolean {
    return existsSync(join(this.dataDir, 'run.lock'));
  }

  redisPid(): number | null {
    return pidFrom(join(this.dataDir, 'redis', 'redis.pid'));
  }

  postgresPid(): number | null {
    return pidFrom(join(this.dataDir, 'postgres', 'postmaster.pid'));
  }

  /**
   * Every process this run consists of, by pid: npm and everything below it, the services and the
   * demo provider (their own process groups), redis-server, and every postgres process of the cluster.
   */
  allPids(): number[] {
    const pids = new Set<number>([this.npmPid, ...descendants(this.npmPid)]);
    if (this.lockExists()) {
      const lock = this.lock();
      pids.add(lock.pid);
      for (const p of Object.values(lock.processes)) pids.add(p.pid);
    }
    for (const pid of [
      this.redisPid(),
      ...processesIn(join(this.dataDir, 'redis')),
      ...processesIn(join(this.dataDir, 'postgres')),
    ])
      if (pid) pids.add(pid);
    return [...pids].filter(isAlive);
  }

  /** Test clean-up: SIGKILL to whatever of this run still runs. */
  killAll(): void {
    for (const pid of this.child?.pid ? this.allPids() : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Runs `npm start` to completion (for one that is expected to refuse), bounded in time. */
export async function npmStartOnce(
  dataDir: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; output: string }> {
  const run = new NpmStart(dataDir, env).start();
  const timer = setTimeout(() => run.killAll(), timeoutMs);
  const { code } = await run.exit();
  clearTimeout(timer);
  return { code, output: run.text };
}

/** Resolves true once none of `pids` is alive, false after timeoutMs. */
export async function allGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pidFrom(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0].trim());
    return pid > 0 && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* gone */
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree.slice(1);
}

/** Pids of processes whose working directory is `dir` (postgres and redis-server run in theirs). */
function processesIn(dir: string): number[] {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === real) pids.push(Number(name));
    } catch {
      /* gone or not ours */
    }
  }
  return pids;
}
