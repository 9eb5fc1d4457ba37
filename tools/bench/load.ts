// Load generators: a closed-loop HTTP client (keep-alive agent, N connections each with one request
// in flight), and an open-loop runner that starts requests at a fixed rate whatever the answers do.
import http from 'node:http';

export interface HttpTarget {
  port: number;
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** The status a successful answer has. */
  expect: number;
}

export interface LoadResult {
  /** Successful requests per second. */
  rps: number;
  ok: number;
  errors: number;
  /** Per-request milliseconds of the successful requests. */
  latencies: number[];
  seconds: number;
}

/** One request on `agent`; resolves with the status once the whole body has been read. */
export function send(agent: http.Agent, t: HttpTarget): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: t.port,
        path: t.path,
        method: t.method,
        headers: { ...t.headers, 'content-length': '0' },
      },
      (res) => {
        res.on('data', () => undefined);
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.once('error', reject);
    req.end();
  });
}

export const keepAliveAgent = (sockets: number) =>
  new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });

const now = () => performance.now();

/**
 * Closed loop: `concurrency` connections, each sending its next request as soon as the previous
 * answer is read, for `ms` (after `warmupMs` of the same load, untimed, to open the connections).
 */
export async function httpClosedLoop(
  t: HttpTarget,
  concurrency: number,
  ms: number,
  warmupMs = 500,
): Promise<LoadResult> {
  const agent = keepAliveAgent(concurrency);
  try {
    const run = async (duration: number, record: boolean) => {
      const latencies: number[] = [];
      let errors = 0;
      const end = now() + duration;
      const started = now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (now() < end) {
            const t0 = now();
            try {
              const status = await send(agent, t);
              if (status === t.expect) latencies.push(now() - t0);
              else errors++;
            } catch {
              errors++;
            }
          }
        }),
      );
      const seconds = (now() - started) / 1000;
      return record
        ? { rps: latencies.length / seconds, ok: latencies.length, errors, latencies, seconds }
        : null;
    };
    if (warmupMs > 0) await run(warmupMs, false);
    return (await run(ms, true)) as LoadResult;
  } finally {
    agent.destroy();
  }
}

/** `n` sequential requests on one keep-alive connection (after `warmup` untimed ones); ms each. */
export async function httpSequential(
  t: HttpTarget,
  n: number,
  warmup: number,
): Promise<{ latencies: number[]; errors: number }> {
  const agent = keepAliveAgent(1);
  const latencies: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < warmup + n; i++) {
      const t0 = now();
      const status = await send(agent, t).catch(() => 0);
      if (status !== t.expect) errors++;
      else if (i >= warmup) latencies.push(now() - t0);
    }
  } finally {
    agent.destroy();
  }
  return { latencies, errors };
}

/**
 * Open loop: request i is due at start + i/rate and is sent then, whether or not earlier ones have
 * answered. The sender sleeps with setTimeout (never spins: on a 2-core machine a spinning sender
 * would take a core from the system under test), so a request may leave up to ~1 ms after it was
 * due; latency counts from when it left, and how late it left is reported apart (`sendDelays`): a
 * stalled sender shows up there rather than being hidden.
 */
export async function openLoop(
  rate: number,
  ms: number,
  fn: () => Promise<unknown>,
): Promise<LoadResult & { sent: number; sendDelays: number[] }> {
  const total = Math.round((rate * ms) / 1000);
  // Preallocated, and no array of pending promises: the load generator's own garbage collection
  // must not show up as latency of the system under test.
  const latencies = new Float64Array(total);
  const sendDelays = new Float64Array(total);
  let ok = 0;
  let errors = 0;
  let outstanding = 0;
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const settle = () => {
    outstanding--;
    if (outstanding === 0 && sending === false) allDone();
  };
  let sending = true;
  const start = now();
  let i = 0;
  while (i < total) {
    const t = now();
    while (i < total && start + (i * 1000) / rate <= t) {
      sendDelays[i] = t - (start + (i * 1000) / rate);
      const sentAt = now();
      outstanding++;
      fn().then(
        () => {
          latencies[ok++] = now() - sentAt;
          settle();
        },
        () => {
          errors++;
          settle();
        },
      );
      i++;
    }
    if (i < total)
      await new Promise<void>((r) =>
        setTimeout(r, Math.max(1, Math.floor(start + (i * 1000) / rate - now()))),
      );
  }
  sending = false;
  if (outstanding > 0) await finished;
  const seconds = (now() - start) / 1000;
  return {
    rps: ok / seconds,
    ok,
    errors,
    latencies: Array.from(latencies.subarray(0, ok)),
    seconds,
    sent: total,
    sendDelays: Array.from(sendDelays),
  };
}
