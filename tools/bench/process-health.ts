// A process's own view of its stalls while a row runs: event-loop delay (perf_hooks histogram) and
// garbage-collection pauses (PerformanceObserver 'gc'). Used by the bench:bus latency-breakdown row
// in the caller and in the responder, to tell a slow hop from a stalled process.
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';

export interface ProcessHealth {
  /** Event-loop delay (ms): how late a 1 ms timer ran, p50 / p99 / max. */
  eldP50: number;
  eldP99: number;
  eldMax: number;
  /** GC pauses while measured: count, total and longest (ms), and the count of major (mark-sweep) ones. */
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  gcMajor: number;
}

/** Starts measuring; `stop()` returns what was seen since. */
export function watchProcessHealth(): { stop: () => ProcessHealth } {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  let gcCount = 0;
  let gcTotalMs = 0;
  let gcMaxMs = 0;
  let gcMajor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcTotalMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
      // NODE_PERFORMANCE_GC_MAJOR = 4 (mark-sweep-compact)
      if ((entry as { detail?: { kind?: number } }).detail?.kind === 4) gcMajor++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      eld.disable();
      observer.disconnect();
      return {
        eldP50: eld.percentile(50) / 1e6,
        eldP99: eld.percentile(99) / 1e6,
        eldMax: eld.max / 1e6,
        gcCount,
        gcTotalMs,
        gcMaxMs,
        gcMajor,
      };
    },
  };
}
