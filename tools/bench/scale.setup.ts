// bench:scale's set-up: the fake provider, the system, two providers, the seeding of N
// authorizations through the real envelope encryption, and the bench's own connections.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { freePort } from '@broker/testing';
import { AuthorizationsImport, ImportedAuthorization, TOKENS_SCHEMA } from '@broker/tokens';
import { Proc, waitFor } from './procs';
import { text } from './bench-env';
import {
  CLIENT_ID,
  DELAY_MS,
  DELETE_N,
  MARGIN_MS,
  N,
  ProviderCounts,
  ScaleRun,
  SEED_BATCH,
  ROTATION_RPS,
  TTL,
  USED,
  busClient,
  step,
} from './scale.shared';
import { startTokenSystem } from './system';

/** Starts everything, seeds the N authorizations (the `seed` row); `close` ends the bench's own connections. */
export async function startScaleRun(
  dir: string,
  services: { databaseUrl: string; redisUrl: string; pgDataDir: string; redisDir: string },
  row: ScaleRun['row'],
  notes: string[],
): Promise<{ run: ScaleRun; close: () => Promise<void> }> {
  // The fake provider (its own process: its CPU is not the broker's).
  const providerPort = await freePort();
  const clientSecret = randomBytes(24).toString('base64url');
  const fake = new Proc(
    'fake-provider',
    process.execPath,
    [
      join(__dirname, 'fake-provider.mjs'),
      String(providerPort),
      CLIENT_ID,
      clientSecret,
      String(TTL),
      String(DELAY_MS),
    ],
    { PATH: process.env['PATH'] ?? '' },
    join(dir, 'fake-provider.log'),
  );
  await waitFor('fake provider', fake, 10_000, async () => fake.tail().includes('ready'));
  const fakeUrl = `http://127.0.0.1:${providerPort}`;
  const counts = async () => (await (await fetch(`${fakeUrl}/__counts`)).json()) as ProviderCounts;

  const sys = await startTokenSystem({
    dir,
    ...services,
    brokerReplicas: 1,
    accessTokenTtlSeconds: 3600,
    logLevel: text('BENCH_LOG_LEVEL') ?? 'info',
    inspect: false,
    step,
    egressPorts: [providerPort],
    extraEnv: { KEY_ROTATION_ROWS_PER_SECOND: String(ROTATION_RPS) },
  });
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${sys.gatewayUrl}/api/v2/externalOAuth${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${sys.adminToken}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const createProvider = async (name: string) => {
    const r = await api('/providers/', {
      method: 'POST',
      body: {
        type: 'oauth2',
        name,
        clientId: CLIENT_ID,
        clientSecret,
        endpoints: {
          authorizationUrl: `${fakeUrl}/authorize`,
          tokenUrl: `${fakeUrl}/token`,
          revocationUrl: `${fakeUrl}/revoke`,
        },
      },
    });
    if (r.status !== 201) throw new Error(`create provider: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body['id'] as string;
  };
  const mainProvider = await createProvider('Scale');
  const doomedProvider = DELETE_N > 0 ? await createProvider('Doomed') : null;

  const pg = new PgClient({ connectionString: sys.databaseUrl });
  await pg.connect();
  const q = async <T>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[];
  const tokensDs = await new DataSource(
    domainDataSourceOptions(sys.databaseUrl, TOKENS_SCHEMA, 'bench-seed', 4),
  ).initialize();
  const importer = new AuthorizationsImport(
    tokensDs,
    new EnvelopeCipher(parseKeyring(sys.env['ENCRYPTION_KEYS'])),
  );

  const seed = async (providerId: string, count: number, label: string) => {
    const started = Date.now();
    let done = 0;
    const batches = Math.ceil(count / SEED_BATCH);
    let next = 0;
    const lane = async () => {
      while (next < batches) {
        const b = next++;
        const now = Date.now();
        const items: ImportedAuthorization[] = [];
        for (let i = b * SEED_BATCH; i < Math.min(count, (b + 1) * SEED_BATCH); i++) {
          // Written over the part of a lifetime before its refresh-ahead margin: due times fall from now on.
          const writtenAt = new Date(now - Math.random() * (TTL * 1000 - MARGIN_MS));
          const used = Math.random() < USED;
          items.push({
            providerId,
            userId: `${label}-${i}`,
            oauthClientId: CLIENT_ID,
            scopes: ['read'],
            accessToken: randomBytes(24).toString('base64url'),
            refreshToken: randomBytes(24).toString('base64url'),
            expiresAt: new Date(writtenAt.getTime() + TTL * 1000),
            writtenAt,
            lastUsedAt: used
              ? new Date(writtenAt.getTime() + Math.random() * (now - writtenAt.getTime()))
              : null,
          });
        }
        await importer.insertMany('default', items);
        done += items.length;
        if (b % 50 === 0) step(`${label}: ${done} / ${count} seeded`);
      }
    };
    await Promise.all([lane(), lane()]);
    return (Date.now() - started) / 1000;
  };
  step(`seeding ${N} authorizations (envelope-encrypted, in batches of ${SEED_BATCH})`);
  const seedS = await seed(mainProvider, N, 'u');
  row(
    'seed',
    `${N} authorizations in ${seedS.toFixed(0)} s (${Math.round(N / seedS)}/s, real envelope encryption)`,
  );

  const bus = busClient(sys);
  await bus.connect();
  const run: ScaleRun = { dir, sys, bus, q, row, notes, counts, api, seed, mainProvider, doomedProvider };
  return {
    run,
    close: async () => {
      await bus.close();
      await tokensDs.destroy();
      await pg.end();
    },
  };
}
