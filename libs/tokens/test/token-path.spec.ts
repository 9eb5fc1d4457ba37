import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import type { BrokerEvent, OAuthProvider } from '@broker/contracts';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { resolveProvider } from '@broker/provider-adapters';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, sleep, TestDatabase } from '@broker/testing';
import {
  AuthorizationsService,
  DEFAULT_TOKEN_PATH_OPTIONS,
  ProviderAccess,
  TOKENS_SCHEMA,
  TokenPath,
} from '../src';

/** A provider token endpoint on loopback: counts refreshes, rotates refresh tokens, can hold its answer. */
class TokenEndpoint {
  refreshes = 0;
  holdMs = 0;
  onRequest: () => Promise<void> = async () => undefined;
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        this.refreshes++;
        const n = this.refreshes;
        await this.onRequest();
        await sleep(this.holdMs);
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            access_token: `at-${n}`,
            refresh_token: `rt-${n}`,
            token_type: 'Bearer',
            expires_in: 3600,
          }),
        );
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('TokenPath on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const endpoint = new TokenEndpoint();
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  const events: BrokerEvent[] = [];
  let authorizations: AuthorizationsService;
  let access: ProviderAccess;

  const replica = (options = {}) =>
    new TokenPath(ds, cipher, access, fetch, (e) => void events.push(e), {
      ...DEFAULT_TOKEN_PATH_OPTIONS,
      memoryTtlMs: 0,
      ...options,
    });

  /** An authorization whose token was issued an hour ago and expires in `expiresInSeconds`. */
  async function authorization(user: string, expiresInSeconds: number) {
    const a = await authorizations.store('org', {
      providerId: '11111111-1111-4111-8111-111111111111',
      userId: user,
      oauthClientId: 'client',
      scopes: ['read'],
      tokens: {
        accessToken: `initial-${user}`,
        refreshToken: `rt-0-${user}`,
        expiresAt: new Date(Date.now() + expiresInSeconds * 1000),
      },
    });
    await ds.query(
      `UPDATE tokens.credentials SET updated_at = now() - interval '1 hour' WHERE authorization_id = $1`,
      [a.id],
    );
    return a;
  }

  beforeAll(async () => {
    db = await createTestDatabase('tokenpath-lib');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'tokens-test')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    await endpoint.start();
    const resolved = resolveProvider(
      'oauth2',
      { endpoints: { authorizationUrl: `${endpoint.url}/authorize`, tokenUrl: `${endpoint.url}/token` } },
      { allowLoopback: true, allowedPorts: [Number(new URL(endpoint.url).port)] },
    );
    access = async () => ({
      provider: { status: 'active', clientId: 'client' } as OAuthProvider,
      resolved,
      clientSecret: 'secret',
    });
  });

  afterAll(async () => {
    await endpoint.stop();
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(() => {
    endpoint.refreshes = 0;
    endpoint.holdMs = 0;
    endpoint.onRequest = async () => undefined;
  });

  it('serves a token with enough life without calling the provider', async () => {
    const a = await authorization('fresh', 3600);
    const served = await replica().acquire('org', a.id, 60);
    expect(served).toMatchObject({ accessToken: 'initial-fresh', refreshed: false });
    expect(endpoint.refreshes).toBe(0);
  });

  it('two replicas × 25 concurrent callers of an expiring token: one refresh, one token for all', async () => {
    const a = await authorization('storm', 30);
    endpoint.holdMs = 300;
    const [r1, r2] = [replica(), replica()];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? r1 : r2).acquire('org', a.id, 120)),
    );
    expect(endpoint.refreshes).toBe(1);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(['at-1']));
    const tokens = await authorizations.tokens('org', a.id);
    expect(tokens?.refreshToken).toBe('rt-1'); // the rotated refresh token is what is stored
  });

  it('keeps tokens that arrive after the lease was lost as a candidate, and adopts them when nobody moved on', async () => {
    const a = await authorization('lost-lease', 30);
    // While the provider answers, someone bumps the fencing counter (the lease changed hands).
    endpoint.onRequest = async () => {
      await ds.query(`UPDATE tokens.credentials SET fence = fence + 1 WHERE authorization_id = $1`, [a.id]);
    };
    const served = await replica().acquire('org', a.id, 120);
    expect(served.accessToken).toBe('at-1');
    expect((await authorizations.tokens('org', a.id))?.refreshToken).toBe('rt-1'); // adopted: not lost
    const audit = (await ds.query(
      `SELECT type FROM tokens.audit_events WHERE authorization_id = $1 ORDER BY id`,
      [a.id],
    )) as { type: string }[];
    expect(audit.map((r) => r.type)).toEqual(['refresh.candidate', 'refresh.candidate.adopted']);
    expect(
      await ds.query(`SELECT 1 FROM tokens.refresh_candidates WHERE authorization_id = $1`, [a.id]),
    ).toEqual([]);
  });

  it('discards a candidate the row has moved past (another write won), recording it', async () => {
    const a = await authorization('moved-on', 30);
    endpoint.onRequest = async () => {
      await ds.query(
        `UPDATE tokens.credentials SET fence = fence + 1, generation = generation + 1 WHERE authorization_id = $1`,
        [a.id],
      );
    };
    await replica().acquire('org', a.id, 120);
    const audit = (await ds.query(
      `SELECT type FROM tokens.audit_events WHERE authorization_id = $1 ORDER BY id`,
      [a.id],
    )) as { type: string }[];
    expect(audit.map((r) => r.type)).toEqual(['refresh.candidate', 'refresh.candidate.discarded']);
  });

  it('keeps the lease while a slow provider answers past it: no second refresh', async () => {
    const a = await authorization('slow', 30);
    endpoint.holdMs = 1_500;
    const path = replica({ leaseMs: 400 });
    const first = path.acquire('org', a.id, 120);
    await sleep(800); // twice the lease: without renewal, another replica would take over now
    const other = await replica({ leaseMs: 400 }).acquire('org', a.id, 120, Date.now() + 3_000);
    expect((await first).accessToken).toBe('at-1');
    expect(other.accessToken).toBe('at-1');
    expect(endpoint.refreshes).toBe(1);
  });

  it('keeps the old refresh token when the provider does not send a new one', async () => {
    const a = await authorization('no-rotation', 30);
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: 'at-keep', token_type: 'Bearer', expires_in: 3600 })),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const resolved = resolveProvider(
      'oauth2',
      {
        endpoints: { authorizationUrl: `http://127.0.0.1:${port}/a`, tokenUrl: `http://127.0.0.1:${port}/t` },
      },
      { allowLoopback: true, allowedPorts: [port] },
    );
    const path = new TokenPath(
      ds,
      cipher,
      async () => ({
        provider: { status: 'active', clientId: 'client' } as OAuthProvider,
        resolved,
        clientSecret: 's',
      }),
      fetch,
      () => undefined,
    );
    try {
      expect((await path.acquire('org', a.id, 120)).accessToken).toBe('at-keep');
      expect((await authorizations.tokens('org', a.id))?.refreshToken).toBe('rt-0-no-rotation');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
