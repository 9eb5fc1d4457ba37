// bench:tokens, groups 4 and 5: REST acquire through the gateway, and the hot path's parts timed alone.
import { Client as PgClient } from 'pg';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import type { HttpTarget } from './load';
import { timeSequential } from './stats';
import { Bench, N, REST_CONCURRENCY, THROUGHPUT_MS, WARMUP, p, step } from './tokens.shared';
import { timeLeastPrivilege } from './least-privilege.part';

/** `before`: the IdP's refresh count before the hot-path rows (none may refresh). */
export async function restRows(b: Bench, before: number): Promise<void> {
  const { sys, rows, cpu, generated, hot, restPath, headers } = b;
  // ---------------------------------------------------------------------------------------------
  // 4. REST acquire through the gateway (a user's delegated token: the broker checks ownership)
  const gatewayPort = Number(new URL(sys.gatewayUrl).port);
  const rest: HttpTarget = { port: gatewayPort, path: restPath, method: 'POST', headers, expect: 201 };
  step('REST acquire: sequential');
  const restSeq = await generated('rest_seq', rest, { connections: 1, n: N, warmup: WARMUP }, [
    sys.gateway,
    sys.brokers[0],
  ]);
  rows['rest_seq_p50'] = p(restSeq.latencies, 50);
  rows['rest_seq_p99'] = p(restSeq.latencies, 99);
  rows['rest_seq_errors'] = restSeq.errors;
  /** The gateway's CPU per request of a row (µs; /proc ticks of 10 ms, so meaningful over thousands of requests). */
  const gatewayUs = (name: string, requests: number) =>
    ((cpu[name]?.cpuMs['gateway'] ?? NaN) * 1000) / requests;
  rows['rest_seq_gateway_us'] = gatewayUs('rest_seq', restSeq.ok + restSeq.errors);
  for (const c of REST_CONCURRENCY) {
    step(`REST acquire: ${c} connections`);
    const r = await generated(
      `rest_${c}`,
      rest,
      { connections: c, ms: THROUGHPUT_MS },
      c === 64 ? [sys.gateway, sys.brokers[0]] : [],
    );
    rows[`rest_${c}_rps`] = r.rps;
    rows[`rest_${c}_p50`] = p(r.latencies, 50);
    rows[`rest_${c}_p99`] = p(r.latencies, 99);
    rows[`rest_${c}_errors`] = r.errors;
    rows[`rest_${c}_gateway_us`] = gatewayUs(`rest_${c}`, r.ok + r.errors);
  }
  rows['upstream_refreshes_hot'] = (await sys.consumed()) - before;

  // ---------------------------------------------------------------------------------------------
  // 5. The hot path's parts, each timed alone from this process (same machine, same servers)
  step('hot-path parts: PostgreSQL read, decrypt, ES256 verify');
  const pg = new PgClient({ connectionString: sys.databaseUrl });
  pg.on('error', () => undefined); // the server going away at clean-up is not an error of the bench
  await pg.connect();
  try {
    const orgId = 'default';
    const readSql = `SELECT a.org_id, a.status, a.provider_id, a.user_id, a.scopes, c.id AS credential_id, c.access_token, c.refresh_token, c.token_type, c.expires_at, c.generation, c.lease_until, c.updated_at
         FROM tokens.authorizations a LEFT JOIN tokens.credentials c ON c.authorization_id = a.id
        WHERE a.id = $1 AND a.org_id = $2`;
    const reads = await timeSequential(N, WARMUP, () => pg.query(readSql, [hot.authorizationId, orgId]));
    rows['part_pg_read_p50'] = p(reads, 50);
    const ownSql =
      'SELECT * FROM tokens.authorizations WHERE id = $1 AND org_id = $2 AND user_id = $3 LIMIT 1';
    const owns = await timeSequential(N, WARMUP, () =>
      pg.query(ownSql, [hot.authorizationId, orgId, hot.user]),
    );
    rows['part_pg_own_p50'] = p(owns, 50);
    const row = (await pg.query(readSql, [hot.authorizationId, orgId])).rows[0] as {
      access_token: string;
      credential_id: string;
    };
    const cipher = new EnvelopeCipher(parseKeyring(sys.env['ENCRYPTION_KEYS']));
    const decCtx = { table: 'tokens.credentials', column: 'access_token', orgId, rowId: row.credential_id };
    const decrypts = await timeSequential(5 * N, WARMUP, async () =>
      cipher.decryptString(row.access_token, decCtx),
    );
    rows['part_decrypt_p50'] = p(decrypts, 50);
    const jwks = (await (await fetch(`${sys.gatewayUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const keySet = createLocalJWKSet(jwks);
    const verifies = await timeSequential(N, WARMUP, () =>
      jwtVerify(sys.adminToken, keySet, { algorithms: ['ES256'] }),
    );
    rows['part_verify_p50'] = p(verifies, 50);
  } finally {
    await pg.end();
  }

  // 5b. Least privilege: the consumer-policy check and the ledger record, in-process as the token path runs them
  step('least privilege: policy check and ledger record');
  const lp = await timeLeastPrivilege(
    sys.databaseUrl,
    sys.env['SECRET_PEPPER'],
    hot.authorizationId,
    hot.user,
  );
  Object.assign(rows, lp);
}
