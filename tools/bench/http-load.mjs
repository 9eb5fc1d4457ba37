// The REST rows' load generator, in its own process (undici, the pinned dependency): the bare
// hello-world and the gateway are driven by the same generator, so their ratio is the servers'
// and not the generator's limit (an in-process http.Agent loop used ~100 % of a core on its own
// and read the bare server at a fraction of what it serves). Reports its own CPU.
//
// Usage: node http-load.mjs <base64 JSON {port, path, method, headers, expect, connections, ms, warmupMs, out}
//        or, sequential on one connection: {…, connections: 1, sequential: true, n, warmup}>
// Warms up, prints "ready", runs on SIGUSR2, writes the results JSON to `out`, exits on SIGTERM.
import { renameSync, writeFileSync } from 'node:fs';
import { Pool } from 'undici';

/**
 * What the bench sends (tokens.shared.ts `startHttpLoad`).
 * @typedef {{ port: number, path: string, method: 'GET' | 'POST', headers: Record<string, string>, expect: number,
 *   connections: number, ms: number, warmupMs: number, sequential: boolean, n?: number, warmup?: number, out: string }} LoadArgs
 */
/** @type {LoadArgs} */
const a = JSON.parse(Buffer.from(process.argv[2], 'base64').toString('utf8'));
const pool = new Pool(`http://127.0.0.1:${a.port}`, { connections: a.connections, pipelining: 1, keepAliveTimeout: 60_000 });
const now = () => performance.now();

async function one() {
  const res = await pool.request({ path: a.path, method: a.method, headers: a.headers, body: a.method === 'POST' ? '' : undefined });
  await res.body.dump();
  return res.statusCode;
}

/** `connections` callers, each sending its next request when the previous answer is read, for `ms` (sequential: one caller, `n` requests). */
/**
 * @param {number} ms
 * @param {number} n
 * @param {boolean} record
 * @returns {Promise<{ rps: number, ok: number, errors: number, latencies: number[], seconds: number } | null>}
 */
async function run(ms, n, record) {
  /** @type {number[]} */
  const latencies = [];
  let errors = 0;
  const end = now() + ms;
  const started = now();
  const callers = a.sequential ? 1 : a.connections;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (a.sequential ? latencies.length + errors < n : now() < end) {
        const t0 = now();
        try {
          if ((await one()) === a.expect) latencies.push(now() - t0);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  return record ? { rps: latencies.length / seconds, ok: latencies.length, errors, latencies, seconds } : null;
}

async function main() {
  // Waiting for a signal keeps nothing alive by itself (idle pooled sockets are unref'd).
  const alive = setInterval(() => undefined, 60_000);
  await run(a.warmupMs, a.warmup ?? 0, false);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.once('SIGUSR2', resolve));
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const measured = await run(a.ms, a.n ?? 0, true);
  const cpu = process.cpuUsage(cpu0);
  // The generator's own CPU while it ran, percent of one core.
  const result = { ...measured, generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / (now() - t0)) * 100 };
  // Written whole, then renamed: the bench polls for the file and read it half-written once ("Unexpected end of JSON input").
  writeFileSync(`${a.out}.tmp`, JSON.stringify(result));
  renameSync(`${a.out}.tmp`, a.out);
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  clearInterval(alive);
  await pool.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`http load generator failed: ${String(err)}\n`);
    process.exit(1);
  },
);
