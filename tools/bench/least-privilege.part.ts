// bench:tokens, least privilege: what the consumer-policy check and the provenance ledger add to an
// acquire, timed in-process exactly as ConsumerTokens calls them (the policy answered from the
// per-client cache as on the hot path; the ledger record is an HMAC and a map update, its writes
// batched by a timer, here timed per row).
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TokenFingerprinter } from '@broker/crypto';
import { IDENTITY_SCHEMA, TokenGrantsService } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { DEFAULT_TOKEN_LEDGER_OPTIONS, TOKENS_SCHEMA, TokenLedger } from '@broker/tokens';
import type { CpuReport } from './cpu';
import { percentile, timeSequential } from './stats';

const N = 20_000;
const FLUSH_ROWS = 2_000;

export async function timeLeastPrivilege(
  databaseUrl: string,
  pepper: string,
  authorizationId: string,
  user: string,
): Promise<Record<string, number>> {
  const identity = await new DataSource(
    domainDataSourceOptions(databaseUrl, IDENTITY_SCHEMA, 'bench-policy', 1),
  ).initialize();
  const tokens = await new DataSource(
    domainDataSourceOptions(databaseUrl, TOKENS_SCHEMA, 'bench-ledger', 2),
  ).initialize();
  try {
    const grants = new TokenGrantsService(identity);
    const question = {
      orgId: 'default',
      clientId: 'admin',
      subject: user,
      providerId: randomUUID(),
      providerType: 'oidc',
    };
    if (!(await grants.decide(question)).allowed)
      throw new Error('the bootstrap admin has no grant: the bench measures an allowed acquire');
    const policy = await timeSequential(N, 1000, () => grants.decide(question));
    // A bench-only timer that never fires: the flush is timed on its own below.
    const ledger = new TokenLedger(tokens, new TokenFingerprinter(Buffer.from(pepper, 'base64')), {
      ...DEFAULT_TOKEN_LEDGER_OPTIONS,
      flushMs: 3_600_000,
      maxBatch: N + 10,
    });
    const serve = (token: string) => ({
      orgId: 'default',
      consumer: 'bench',
      subject: user,
      authorizationId,
      providerId: question.providerId,
      path: 'bus' as const,
      attenuated: false,
      expiresAt: null,
      token,
    });
    const hotToken = randomBytes(30).toString('base64url');
    const records = await timeSequential(N, 1000, async () => ledger.record(serve(hotToken)));
    // The hot path's own write: the same token to the same consumer merges into one row per batch.
    let started = process.hrtime.bigint();
    await ledger.flush();
    const hotFlushMs = Number(process.hrtime.bigint() - started) / 1e6;
    // The worst case: every serve a distinct row (a new token or consumer each time).
    for (let i = 0; i < FLUSH_ROWS; i++) ledger.record(serve(randomBytes(30).toString('base64url')));
    started = process.hrtime.bigint();
    await ledger.flush();
    const flushMs = Number(process.hrtime.bigint() - started) / 1e6;
    await ledger.close();
    await tokens.query(`DELETE FROM tokens.token_ledger WHERE consumer = 'bench'`);
    return {
      lp_policy_p50: percentile(policy, 50),
      lp_policy_p99: percentile(policy, 99),
      lp_record_p50: percentile(records, 50),
      lp_record_p99: percentile(records, 99),
      lp_flush_per_row: flushMs / FLUSH_ROWS,
      lp_flush_per_hot_serve: hotFlushMs / (N + 1000),
    };
  } finally {
    await identity.destroy();
    await tokens.destroy();
  }
}

const us = (v: number) => `${(v * 1000).toFixed(1)} µs`;
const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

/**
 * The rows of the report. Latency: policy + record p50 as a share of the bus acquire p50.
 * Throughput: the same work plus each row's share of a batched write, as a share of the CPU one
 * acquire costs the token-brokers at max throughput (their CPU ÷ requests served), i.e. the
 * throughput that would be lost if it were removed.
 */
export function leastPrivilegeRows(
  x: Record<string, number>,
  busMaxCpu: CpuReport | null,
): [string, string, string?, boolean?][] {
  const perAcquire = x['lp_policy_p50'] + x['lp_record_p50'];
  const latencyShare = perAcquire / x['bus_seq_p50'];
  const brokerCpu = busMaxCpu
    ? Object.entries(busMaxCpu.percentOfCore)
        .filter(([k]) => k.startsWith('broker-'))
        .reduce((a, [, v]) => a + v, 0)
    : NaN;
  const cpuMsPerAcquire = ((brokerCpu / 100) * 1000) / x['bus_max_rps'];
  // The max-throughput row serves one token to one consumer: its writes are the merged (hot) ones.
  const throughputShare = (perAcquire + x['lp_flush_per_hot_serve']) / cpuMsPerAcquire;
  const worstShare = (perAcquire + x['lp_flush_per_row']) / cpuMsPerAcquire;
  return [
    ['**Least privilege** (in-process, as the token path calls them)', ''],
    [
      'consumer-policy check (cached grants) p50 / p99',
      `${us(x['lp_policy_p50'])} / ${us(x['lp_policy_p99'])}`,
    ],
    ['ledger record (HMAC + merge) p50 / p99', `${us(x['lp_record_p50'])} / ${us(x['lp_record_p99'])}`],
    [
      'ledger batched write per serve: same token and consumer (merged) / every serve a new row',
      `${us(x['lp_flush_per_hot_serve'])} / ${us(x['lp_flush_per_row'])}`,
    ],
    ['policy + ledger as a share of bus acquire p50', pct(latencyShare), '≤ 10 %', latencyShare <= 0.1],
    [
      `policy + ledger + write as a share of token-broker CPU per acquire at max throughput (${us(cpuMsPerAcquire)})`,
      pct(throughputShare),
      '≤ 10 %',
      throughputShare <= 0.1,
    ],
    [
      'the same if every serve were a new ledger row (worst case; the write runs off the caller’s path)',
      pct(worstShare),
    ],
  ];
}
