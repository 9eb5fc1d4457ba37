// The gateway's HTTP stack layer by layer (docs/benchmarks.md, "the gateway's HTTP layers"): CPU µs
// per request of one server process (gateway-layers.server.ts, one variant each) over a fixed
// request count at 64 connections, driven by undici from this process. Measures the server only
// (/proc/<pid>/stat), so the driver's own CPU does not count.
//
// Usage: node tools/bench/gateway-layers.mjs <variants, comma-separated> [requests=40000] [runs=3]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Pool } from 'undici';

const [variants = 'node,fastify,nest,pinohttp,hooks,pinohttp+gw,hooks+gw', requests = '40000', runs = '3'] =
  process.argv.slice(2);
const N = Number(requests);
const CONNECTIONS = 64;
const TICK_US = 10_000; // /proc clock ticks are 1/100 s

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** User + system CPU of a process, in clock ticks. @param {number} pid */
function ticks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The process that serves: tsx runs the script in a child of its own, so the deepest descendant. @param {number} pid */
function server(pid) {
  for (;;) {
    let children = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return pid;
    }
    if (children.length === 0) return pid;
    pid = Number(children[0]);
  }
}

/** `n` requests over 64 connections, each caller sending its next when its answer is read; returns the errors. @param {number} port @param {number} n */
async function load(port, n) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS, pipelining: 1 });
  let left = n;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left-- > 0) {
        const res = await pool.request({
          path: '/t',
          method: 'POST',
          headers: { authorization: 'Bearer abc.def.ghi', accept: 'application/json' },
          body: '',
        });
        await res.body.dump();
        if (res.statusCode !== 201) errors++;
      }
    }),
  );
  await pool.close();
  return errors;
}

for (const variant of variants.split(',')) {
  /** @type {number[]} */
  const perRequest = [];
  for (let run = 0; run < Number(runs); run++) {
    const port = await freePort();
    const child = spawn(
      'node_modules/.bin/tsx',
      ['--tsconfig', 'tsconfig.base.json', 'tools/bench/gateway-layers.server.ts', variant, String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await /** @type {Promise<void>} */ (
      new Promise((resolve, reject) => {
        child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`${variant}: server exited (${code})`)));
      })
    );
    const pid = server(child.pid ?? 0);
    await load(port, 8000); // warm-up (JIT)
    const t0 = ticks(pid);
    const w0 = performance.now();
    const errors = await load(port, N);
    const us = ((ticks(pid) - t0) * TICK_US) / N;
    const rps = N / ((performance.now() - w0) / 1000);
    perRequest.push(us);
    console.log(`${variant} run ${run}: ${us.toFixed(1)} µs/req, ${rps.toFixed(0)} req/s, errors ${errors}`);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  perRequest.sort((a, b) => a - b);
  const median = perRequest[Math.floor(perRequest.length / 2)];
  console.log(`== ${variant}: min ${perRequest[0].toFixed(1)} median ${median.toFixed(1)} µs/req`);
}
