// CPU time per component during a measurement, from /proc (Linux): where the two cores went.
// A component is a set of processes (e.g. "postgres" = the postmaster and all its backends).
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100 on Linux (getconf CLK_TCK)
const HAS_PROC = (() => {
  try {
    readFileSync('/proc/stat');
    return true;
  } catch {
    return false;
  }
})();

/** utime + stime of a process, in ms; null if it is gone. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // fields 14 and 15 of stat(5)
  } catch {
    return null;
  }
}

/** PIDs whose parent is `ppid`. */
export function childrenOf(ppid: number): number[] {
  if (!HAS_PROC) return [];
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Busy and total ms of the whole machine (all cores) from /proc/stat. */
function machineMs(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy: busy * TICK_MS, total: (busy + idle + (iowait ?? 0)) * TICK_MS };
}

export type Components = () => Record<string, number[]>;

export interface CpuReport {
  /** Per component: CPU ms used per wall second ÷ 10 = percent of one core. */
  percentOfCore: Record<string, number>;
  /** Per component: CPU ms used in all between start() and stop() (e.g. ÷ requests = CPU per request). */
  cpuMs: Record<string, number>;
  /** Whole machine busy, percent of one core (2 cores = 200 %). */
  machine: number;
  /** Machine busy time not accounted to any component (other work on the machine). */
  other: number;
  /** Wall time measured (ms). */
  wallMs: number;
}

/** Measures CPU per component between start() and stop(). */
export class CpuMeter {
  private before = new Map<number, number>();
  private machineBefore = { busy: 0, total: 0 };
  private wallBefore = 0;

  constructor(private readonly components: Components) {}

  start(): void {
    if (!HAS_PROC) return;
    this.before.clear();
    for (const pids of Object.values(this.components()))
      for (const pid of pids) this.before.set(pid, processCpuMs(pid) ?? 0);
    this.machineBefore = machineMs();
    this.wallBefore = performance.now();
  }

  stop(): CpuReport | null {
    if (!HAS_PROC) return null;
    const wall = performance.now() - this.wallBefore;
    const m = machineMs();
    const percentOfCore: Record<string, number> = {};
    const cpuMs: Record<string, number> = {};
    let known = 0;
    for (const [name, pids] of Object.entries(this.components())) {
      let ms = 0;
      for (const pid of pids) {
        const nowMs = processCpuMs(pid);
        if (nowMs !== null) ms += nowMs - (this.before.get(pid) ?? 0);
      }
      known += ms;
      cpuMs[name] = ms;
      percentOfCore[name] = (ms / wall) * 100;
    }
    const machineBusy = m.busy - this.machineBefore.busy;
    return {
      percentOfCore,
      cpuMs,
      machine: (machineBusy / wall) * 100,
      other: (Math.max(0, machineBusy - known) / wall) * 100,
      wallMs: wall,
    };
  }
}

export function formatCpu(r: CpuReport | null): string {
  if (!r) return 'n/a (no /proc)';
  const parts = Object.entries(r.percentOfCore)
    .filter(([, v]) => v >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${Math.round(v)}%`);
  return `${parts.join(', ')}; other ${Math.round(r.other)}%; machine ${Math.round(r.machine)}% of 200%`;
}
