import type { Queue } from 'bullmq';
import { SourceSet, gauge } from './metrics-registry';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'waiting-children'] as const;

interface QueueView {
  name: string;
  counts: Record<string, number>;
  oldestWaitingSeconds: number;
}

const queues = new SourceSet<Queue>();
let registered = false;
let cache: { at: number; views: Promise<QueueView[]> } | undefined;

/** Age of the oldest job waiting to run (0 when none waits): a delayed job counts from when it became due. */
async function oldestWaitingSeconds(queue: Queue, now: number): Promise<number> {
  const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
  if (!oldest) return 0;
  return Math.max(0, (now - (oldest.timestamp + (oldest.delay ?? 0))) / 1000);
}

async function read(): Promise<QueueView[]> {
  const now = Date.now();
  return Promise.all(
    queues.values().map(async (q) => ({
      name: q.name,
      counts: await q.getJobCounts(...STATES),
      oldestWaitingSeconds: await oldestWaitingSeconds(q, now),
    })),
  );
}

/** One reading for both gauges of a scrape (and for scrapes 2 s apart): a few Redis commands per queue. */
function views(): Promise<QueueView[]> {
  if (!cache || Date.now() - cache.at > 2_000) cache = { at: Date.now(), views: read().catch(() => []) };
  return cache.views;
}

/**
 * Queue depth by state, failures kept, and the age of the oldest waiting job, read at scrape time
 * from this process's view of the shared queues (every replica sees the same numbers; dashboards
 * and alerts take the max across replicas). Registered by the worker only.
 */
export function observeQueues(list: Queue[]): () => void {
  if (!registered) {
    registered = true;
    gauge<'queue' | 'state'>({
      name: 'broker_queue_jobs',
      help: 'Jobs in each background queue by state (waiting, active, delayed, prioritized, failed kept for inspection, waiting-children)',
      labelNames: ['queue', 'state'],
      async collect() {
        this.reset();
        for (const v of await views())
          for (const state of STATES) this.set({ queue: v.name, state }, v.counts[state] ?? 0);
      },
    });
    gauge<'queue'>({
      name: 'broker_queue_oldest_waiting_age_seconds',
      help: 'Age of the oldest job waiting to be processed in each queue (0: none waiting)',
      labelNames: ['queue'],
      async collect() {
        this.reset();
        for (const v of await views()) this.set({ queue: v.name }, v.oldestWaitingSeconds);
      },
    });
  }
  const removers = list.map((q) => queues.add(q));
  return () => removers.forEach((r) => r());
}
