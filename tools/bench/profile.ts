// Optional CPU profiles of the services during one measurement (BENCH_PROFILE=1): the services run
// with --inspect on loopback, and the bench drives the V8 profiler over the inspector protocol only
// around the measurement, then summarizes where the samples fell (by package / part of the code).
// The inspector and the sampling cost CPU: profiled runs are for the breakdown, not for the figures.
import { WebSocket } from 'undici';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One process's inspector session (Chrome DevTools Protocol over a WebSocket). */
export class InspectorSession {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      const w = msg.id !== undefined ? this.waiting.get(msg.id) : undefined;
      if (!w || msg.id === undefined) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result);
    });
  }

  static async connect(port: number): Promise<InspectorSession> {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const ws = new WebSocket(list[0].webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error(`inspector on port ${port}: connection failed`)));
    });
    return new InspectorSession(ws);
  }

  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async startProfiling(intervalUs = 250): Promise<void> {
    await this.send('Profiler.enable');
    await this.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.send('Profiler.start');
  }

  async stopProfiling(): Promise<CpuProfile> {
    const { profile } = await this.send<{ profile: CpuProfile }>('Profiler.stop');
    await this.send('Profiler.disable');
    return profile;
  }

  close(): void {
    this.ws.close();
  }
}

/** Which part of the code a frame belongs to. */
function bucketOf(f: CallFrame): string {
  const { url, functionName } = f;
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(program)') return '(program: native, not attributed)';
    return `(native ${functionName || 'anonymous'})`;
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node core';
  // dist/apps/<app>/libs/<lib>/… is the lib's code; dist/apps/<app>/apps/<app>/… the app's own.
  const lib = /\/libs\/([^/]+)\//.exec(url) ?? null;
  if (lib) return `libs/${lib[1]}`;
  const app = /\/apps\/([^/]+)\/src\//.exec(url);
  if (app) return `apps/${app[1]}`;
  return url;
}

export interface ProfileSummary {
  /** Sampled wall time (ms) and how much of it the process was busy. */
  sampledMs: number;
  busyMs: number;
  /** Self time per bucket, % of busy time. */
  self: [string, number][];
  /**
   * Share of busy samples with the bucket anywhere on the stack (inclusive), %. After an `await`
   * the stack starts at the continuation, so this is a lower bound for async callers.
   */
  inclusive: [string, number][];
}

export function summarize(p: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfMs = new Map<string, number>();
  const inclMs = new Map<string, number>();
  let sampledMs = 0;
  let busyMs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    sampledMs += dt;
    const leaf = byId.get(p.samples[i]);
    if (!leaf) continue;
    const leafBucket = bucketOf(leaf.callFrame);
    if (leafBucket === '(idle)') continue;
    busyMs += dt;
    selfMs.set(leafBucket, (selfMs.get(leafBucket) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (!node) break;
      const b = bucketOf(node.callFrame);
      seen.add(b);
    }
    for (const b of seen) inclMs.set(b, (inclMs.get(b) ?? 0) + dt);
  }
  const pct = (m: Map<string, number>) =>
    [...m.entries()].map(([k, v]): [string, number] => [k, (v / busyMs) * 100]).sort((a, b) => b[1] - a[1]);
  return {
    sampledMs,
    busyMs,
    self: pct(selfMs).slice(0, top),
    inclusive: pct(inclMs)
      .filter(([k]) => !k.startsWith('(') && k !== 'node core')
      .slice(0, top),
  };
}

export function formatSummary(name: string, s: ProfileSummary): string {
  const f = (rows: [string, number][]) => rows.map(([k, v]) => `${k} ${v.toFixed(1)}%`).join(', ');
  return [
    `${name}: busy ${((s.busyMs / s.sampledMs) * 100).toFixed(0)}% of ${(s.sampledMs / 1000).toFixed(1)} s sampled`,
    `    self:      ${f(s.self)}`,
    `    inclusive: ${f(s.inclusive)}`,
  ].join('\n');
}
