// npm run bench:scale — the broker with N authorizations (default 100 000; BENCH_SCALE_N=1000000).
//
// Provisions like bench:tokens (throwaway PostgreSQL + Redis, the built services), plus a fast local
// fake provider (tools/bench/fake-provider.mjs: short-lived tokens, rotating refresh tokens, a
// revocation endpoint, every call counted). Seeds N authorizations in bulk through the real
// envelope encryption (AuthorizationsImport), tokens written over the part of their lifetime before
// the refresh-ahead margin, so their due times fall from now on (rows due while seeding: the
// wave), BENCH_SCALE_USED (1 %) of them used since.
// Then measures, in this order:
//   refresh      a window of BENCH_SCALE_WINDOW_S: lag of every used token set due in it (from
//                PostgreSQL: refreshed at − due at), provider calls, worker CPU per refresh, hot
//                acquires during it (and how many waited on the provider: latency ≥ its delay)
//   footprint    Redis memory of the refresh queue's keys and PostgreSQL size, per authorization;
//                broker and worker RSS
//   first token  a freshly started token-broker (the old one stopped) until it serves a token
//   deletion     a second provider with BENCH_SCALE_DELETE_N authorizations deleted as a job; the
//                worker killed half-way and restarted; wall time, revocations, audit rows checked
//   rotation     a new active key: every value re-wrapped online, acquire p99 idle vs during
// Bounded: every wait has a deadline, and run.ts stops everything at BENCH_DEADLINE_MS.
import { checkBuild } from './system';
import { startScaleRun } from './scale.setup';
import { DELAY_MS, N, ScaleBenchResult, TTL, USED, loadavg } from './scale.shared';
import { refreshWindow } from './scale.refresh';
import { footprintAndFreshBroker } from './scale.footprint';
import { providerDeletion } from './scale.deletion';
import { keyRotation } from './scale.rotation';

export type { ScaleBenchResult } from './scale.shared';

export async function runScaleBench(
  dir: string,
  services: { databaseUrl: string; redisUrl: string; pgDataDir: string; redisDir: string },
): Promise<ScaleBenchResult> {
  const rows: [string, string][] = [];
  const notes: string[] = [];
  const row = (k: string, v: string) => {
    rows.push([k, v]);
    process.stderr.write(`    ${k}: ${v}\n`);
  };
  const build = checkBuild();
  if (build && !build.startsWith('warning')) throw new Error(build);
  if (build) notes.push(build);
  notes.push(
    `N = ${N}, ${(USED * 100).toFixed(1)} % used, tokens live ${TTL} s, provider answers after ${DELAY_MS} ms; load average at start ${loadavg()}`,
  );
  const { run, close } = await startScaleRun(dir, services, row, notes);
  const hot = await refreshWindow(run);
  await footprintAndFreshBroker(run, hot);
  await providerDeletion(run);
  await keyRotation(run, hot);
  notes.push(`load average at the end ${loadavg()}`);
  await close();
  return { rows, notes };
}

export function printScaleBench(r: ScaleBenchResult): void {
  console.log('\nbench:scale');
  const width = Math.max(...r.rows.map(([k]) => k.length));
  for (const [k, v] of r.rows) console.log(`  ${k.padEnd(width)}  ${v}`);
  for (const n of r.notes) console.log(`  note: ${n}`);
}
