// bench:tokens' output: the table, the CPU per component, the profiles' summaries.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { formatCpu } from './cpu';
import { leastPrivilegeRows } from './least-privilege.part';
import {
  BUS_CONCURRENCY,
  N,
  OTHER_CPU_WARN,
  OPEN_MS,
  RATE,
  REPLICAS,
  REST_CONCURRENCY,
  STORM,
  STORM_REPLICAS,
  THROUGHPUT_MS,
  TokensBenchResult,
  WARMUP,
} from './tokens.shared';

/** What was measured: the commit, whether the tree had changes, when dist/ was built. */
export function describeCode(): string {
  const root = join(__dirname, '..', '..');
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '?';
    }
  };
  const dirty = git('status', '--porcelain', '--', 'apps', 'libs')
    ? ' with uncommitted changes in apps/ or libs/'
    : '';
  let built = '?';
  try {
    built = statSync(join(root, 'dist', 'apps', 'token-broker', 'main.js')).mtime.toISOString();
  } catch {
    /* checked earlier */
  }
  return `code: ${git('rev-parse', '--short', 'HEAD')} (${git('log', '-1', '--format=%s').slice(0, 80)})${dirty}; dist/ built ${built}`;
}

// -----------------------------------------------------------------------------------------------
// Output

/**
 * CPU time per bus request, by component (from /proc, so it holds on a loaded machine where the
 * wall-clock rows do not): the figure to compare before and after a change of the bus.
 */
function busCpuRows(r: TokensBenchResult): [string, string][] {
  const x = r.rows;
  const perRequest = (
    row: string,
    parts: [label: string, match: (component: string) => boolean][],
  ): [string, string] | undefined => {
    const cpu = r.cpu[row];
    const count = x[`${row}_count`];
    if (!cpu || !(count > 0)) return undefined;
    const wallMs = cpu.wallMs;
    const figures = parts.map(([label, match]) => {
      const percent = Object.entries(cpu.percentOfCore)
        .filter(([k]) => match(k))
        .reduce((a, [, v]) => a + v, 0);
      return `${label} ${(((percent / 100) * wallMs * 1000) / count).toFixed(0)}`;
    });
    return [`CPU µs per request, ${row} (${Math.round(count)} requests)`, figures.join(' / ')];
  };
  const brokers = (k: string) => k.startsWith('broker-');
  return [
    perRequest('bus_echo', [
      ['responder', (k) => k === 'helpers'],
      ['Redis', (k) => k === 'redis'],
      ['caller', (k) => k === 'bench'],
    ]),
    perRequest('bus_seq', [
      ['token-broker replicas', brokers],
      ['Redis', (k) => k === 'redis'],
      ['caller', (k) => k === 'bench'],
    ]),
    perRequest('bus_open', [
      ['token-broker replicas', brokers],
      ['Redis', (k) => k === 'redis'],
      ['caller (own process)', (k) => k === 'loadgen'],
    ]),
    perRequest('bus_max', [
      ['token-broker replicas', brokers],
      ['Redis', (k) => k === 'redis'],
      ['caller', (k) => k === 'bench'],
    ]),
  ].filter((row): row is [string, string] => row !== undefined);
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 3 : 1)} ms` : 'n/a');
const us = (v: number) => `${(v * 1000).toFixed(1)} µs`;
const rps = (v: number) => `${Math.round(v).toLocaleString('en-US').replace(/,/g, ' ')} req/s`;
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

export function printTokensBench(r: TokensBenchResult): void {
  const x = r.rows;
  type Row = [string, string, string?, boolean?];
  const table: Row[] = [
    ['**References**', ''],
    ['Redis GET p50 / p99', `${ms(x['redis_get_p50'])} / ${ms(x['redis_get_p99'])}`],
    ['bare BullMQ add→complete (QueueEvents) p50 / p99', `${ms(x['bullmq_p50'])} / ${ms(x['bullmq_p99'])}`],
    ['bare bus echo, 1 responder, p50 / p99', `${ms(x['echo_p50'])} / ${ms(x['echo_p99'])}`],
    ['bare Node http hello-world: sequential p50', ms(x['hello_seq_p50'])],
    ...REST_CONCURRENCY.map(
      (c): Row => [
        `bare Node http hello-world: ${c} connections (generator CPU ${Math.round(x[`hello_${c}_generator_cpu`])} % of a core)`,
        rps(x[`hello_${c}_rps`]),
      ],
    ),
    [`**Bus \`tokens.acquire\`** (${REPLICAS} replicas)`, ''],
    ['sequential p50 / p99', `${ms(x['bus_seq_p50'])} / ${ms(x['bus_seq_p99'])}`],
    [
      `open loop ${RATE}/s × ${OPEN_MS / 1000} s: p50`,
      ms(x['bus_open_p50']),
      '≤ 1 ms',
      x['bus_open_p50'] <= 1,
    ],
    [
      `open loop ${RATE}/s × ${OPEN_MS / 1000} s: p99 (max ${ms(x['bus_open_max'])})`,
      ms(x['bus_open_p99']),
      '≤ 3 ms',
      x['bus_open_p99'] <= 3,
    ],
    [
      'open loop: achieved rate, errors; requests left late by p50 / p99',
      `${rps(x['bus_open_rps'])}, ${x['bus_open_errors']}; ${ms(x['bus_open_send_delay_p50'])} / ${ms(x['bus_open_send_delay_p99'])}`,
    ],
    [
      `max throughput, ${BUS_CONCURRENCY} in flight (errors ${x['bus_max_errors']})`,
      rps(x['bus_max_rps']),
      '≥ 10 000 req/s',
      x['bus_max_rps'] >= 10_000,
    ],
    ['**BrokerClient** (local cache)', ''],
    [
      `cached acquires, one caller (hit share ${(x['client_cache_hit_share'] * 100).toFixed(1)} %)`,
      `${rps(x['client_cached_rps'])}, p50 ${us(x['client_cached_p50'])}`,
      '≥ 1 000 000 /s',
      x['client_cached_rps'] >= 1_000_000,
    ],
    [
      `revocation event seen by the client, from the DELETE sent (its answer took ${ms(x['client_revocation_delete_ms'])}, HTTP ${x['client_revocation_delete_status']})`,
      `${ms(x['client_revocation_seen_ms'])}; then ${x['client_revocation_refused'] ? 'refused, not served from the cache' : '**served from the cache**'}`,
      '≤ 100 ms',
      x['client_revocation_seen_ms'] <= 100 && x['client_revocation_refused'] === 1,
    ],
    ['**REST** `POST …/authorizedProviders/{id}/token/`', ''],
    [
      `sequential p50 / p99 (errors ${x['rest_seq_errors']})`,
      `${ms(x['rest_seq_p50'])} / ${ms(x['rest_seq_p99'])}`,
      'p50 ≤ 1.0 ms',
      x['rest_seq_p50'] <= 1.0,
    ],
    ...REST_CONCURRENCY.map((c): Row => {
      const share = x[`rest_${c}_rps`] / x[`hello_${c}_rps`];
      return [
        `${c} connections (p50 ${ms(x[`rest_${c}_p50`])}, p99 ${ms(x[`rest_${c}_p99`])}, errors ${x[`rest_${c}_errors`]}; generator CPU ${Math.round(x[`rest_${c}_generator_cpu`])} %)`,
        `${rps(x[`rest_${c}_rps`])} = ${(share * 100).toFixed(1)} % of hello-world`,
        '≥ 20 % of hello-world',
        share >= 0.2,
      ];
    }),
    [
      `gateway CPU per request: sequential / ${REST_CONCURRENCY.join(' / ')} connections`,
      [x['rest_seq_gateway_us'], ...REST_CONCURRENCY.map((c) => x[`rest_${c}_gateway_us`])]
        .map((v) => `${Math.round(v)} µs`)
        .join(' / '),
    ],
    ['**Refresh storm**', ''],
    [
      `${STORM} concurrent acquires over ${STORM_REPLICAS} replicas: upstream refreshes`,
      `${x['storm_refreshes']} (distinct tokens served ${x['storm_distinct_tokens']}, errors ${x['storm_errors']})`,
      'exactly 1',
      x['storm_refreshes'] === 1 &&
        x['storm_errors'] === 0 &&
        x['storm_distinct_tokens'] === 1 &&
        x['storm_token_changed'] === 1,
    ],
    [
      'storm p50 / p99 / max (all done in)',
      `${ms(x['storm_p50'])} / ${ms(x['storm_p99'])} / ${ms(x['storm_max'])} (${ms(x['storm_wall_ms'])})`,
    ],
    [
      'upstream refreshes during the hot-path rows',
      String(x['upstream_refreshes_hot']),
      '0',
      x['upstream_refreshes_hot'] === 0,
    ],
    ['**Hot-path parts**, timed alone', ''],
    ['PostgreSQL token read (the JOIN) p50', ms(x['part_pg_read_p50'])],
    ['PostgreSQL ownership read (REST only; done twice) p50', ms(x['part_pg_own_p50'])],
    ['envelope decrypt (2 × AES-256-GCM) p50', us(x['part_decrypt_p50'])],
    ['ES256 access-token verify p50 (bus guard; REST: gateway + broker)', us(x['part_verify_p50'])],
    ["bus acquire p50 − bare bus echo p50 (the broker's work)", ms(x['bus_seq_p50'] - x['echo_p50'])],
    ['REST p50 − bus acquire p50 (gateway + ownership reads)', ms(x['rest_seq_p50'] - x['bus_seq_p50'])],
    ...busCpuRows(r),
    ...leastPrivilegeRows(x, r.cpu['bus_max'] ?? null),
  ];
  console.log(
    `\nbench:tokens  (N=${N} sequential per latency row after ${WARMUP} warm-up; throughput rows ${THROUGHPUT_MS} ms closed loop; token-broker × ${REPLICAS}, ${STORM_REPLICAS} for the storm)\n`,
  );
  console.log('| measure | figure | target | met |');
  console.log('| --- | --- | --- | --- |');
  for (const [k, v, target, ok] of table)
    console.log(`| ${k} | ${v} | ${target ?? ''} | ${target ? met(Boolean(ok)) : ''} |`);
  console.log(
    '\nCPU by component while each row ran (% of one core; 2 cores = 200 %; "other" = processes outside this run):',
  );
  for (const [name, rep] of Object.entries(r.cpu)) console.log(`  ${name.padEnd(10)} ${formatCpu(rep)}`);
  const disturbed = Object.entries(r.cpu).filter(([, rep]) => rep && rep.other > OTHER_CPU_WARN);
  if (disturbed.length) {
    console.log(
      `\nWARNING: other processes used more than ${OTHER_CPU_WARN} % of a core during ${disturbed.map(([n, rep]) => `${n} (${Math.round(rep?.other ?? 0)} %)`).join(', ')}: ` +
        'those rows measure a shared machine; run again when it is quiet.',
    );
  }
  if (r.profiles.length)
    console.log(`\nCPU profiles (share of the process's busy time):\n${r.profiles.join('\n')}`);
  for (const n of r.notes) console.log(`\n${n}`);
  const failed = table.filter(([, , t, ok]) => t && !ok).length;
  console.log(`\n${failed === 0 ? 'all targets met' : `${failed} target(s) not met`}`);
}
