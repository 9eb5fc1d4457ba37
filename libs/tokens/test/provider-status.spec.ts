import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import type { OAuthProvider, ProviderStatus } from '@broker/contracts';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { resolveProvider, type ResolvedProvider } from '@broker/provider-adapters';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, TestDatabase } from '@broker/testing';
import {
  AuthorizationsService,
  DEFAULT_TOKEN_PATH_OPTIONS,
  TOKENS_SCHEMA,
  TokenPath,
  TokensError,
  toAuthorizedProvider,
} from '../src';
import { ProviderStateDerived1763901300000 } from '../src/lib/migrations/1763901300000-provider-state-derived';

const PROVIDER_ID = '22222222-2222-4222-8222-222222222222';

/** A token endpoint in GitHub's documented form: rotating refresh tokens with `refresh_token_expires_in`. */
class RotatingEndpoint {
  refreshes = 0;
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.refreshes++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            access_token: `at-${this.refreshes}`,
            refresh_token: `rt-${this.refreshes}`,
            token_type: 'bearer',
            expires_in: 28800,
            refresh_token_expires_in: 15897600,
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

/**
 * A provider's status on the token path: while it is not active nothing of it is served (hot path
 * included), nothing is marked, and once re-activated the same authorization serves again.
 */
describe('provider status on the token path (PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let authorizations: AuthorizationsService;
  let resolved: ResolvedProvider;
  const endpoint = new RotatingEndpoint();
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  let status: ProviderStatus = 'active';
  const provider = () =>
    ({ id: PROVIDER_ID, status, clientId: 'client', customScopes: [] }) as unknown as OAuthProvider;
  const access = async () => ({ provider: provider(), resolved, clientSecret: 'secret' });
  // Memory on (2 s): the check must hold on the hot path, not only on a database read.
  const path = () =>
    new TokenPath(ds, cipher, access, fetch, () => undefined, {
      ...DEFAULT_TOKEN_PATH_OPTIONS,
      memoryTtlMs: 2_000,
    });

  async function authorization(user: string, expiresInSeconds: number) {
    return authorizations.store('org', {
      providerId: PROVIDER_ID,
      userId: user,
      oauthClientId: 'client',
      scopes: ['repo'],
      tokens: {
        accessToken: `initial-${user}`,
        refreshToken: `rt-0-${user}`,
        expiresAt: new Date(Date.now() + expiresInSeconds * 1000),
      },
    });
  }

  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'served',
      (e: unknown) => (e instanceof TokensError ? { code: e.code, fields: e.fields } : e),
    );

  beforeAll(async () => {
    db = await createTestDatabase('provider-status');
    ds = await new DataSource(
      domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'provider-status-test'),
    ).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    await endpoint.start();
    resolved = resolveProvider(
      'oauth2',
      { endpoints: { authorizationUrl: `${endpoint.url}/authorize`, tokenUrl: `${endpoint.url}/token` } },
      { allowLoopback: true, allowedPorts: [Number(new URL(endpoint.url).port)] },
    );
  });

  afterAll(async () => {
    await endpoint.stop();
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(() => {
    status = 'active';
    endpoint.refreshes = 0;
  });

  it.each(['invalid', 'deleting', 'deletion_failed'] as const)(
    'refuses a token of a %s provider (hot path too), marks nothing, and serves it again once the provider is active',
    async (blocked) => {
      const a = await authorization(`user-${blocked}`, 3600);
      const tokens = path();
      expect((await tokens.acquire('org', a.id, 60)).accessToken).toBe(`initial-user-${blocked}`); // now in memory
      status = blocked;
      expect(await refusal(tokens.acquire('org', a.id, 60))).toEqual({
        code: 'FORBIDDEN',
        fields: [{ name: 'providerStatus', message: blocked }],
      });
      expect(await refusal(path().acquire('org', a.id, 60))).toMatchObject({ code: 'FORBIDDEN' }); // another replica, from the database
      const [row] = (await ds.query('SELECT status FROM tokens.authorizations WHERE id = $1', [a.id])) as {
        status: string;
      }[];
      expect(row.status).toBe('active');
      const entity = await ds.getRepository('AuthorizationEntity').findOneByOrFail({ id: a.id });
      expect(toAuthorizedProvider(entity as never, provider()).status).toBe('invalidProviderState');
      status = 'active';
      expect((await tokens.acquire('org', a.id, 60)).accessToken).toBe(`initial-user-${blocked}`);
      expect(toAuthorizedProvider(entity as never, provider()).status).toBe('active');
      expect(endpoint.refreshes).toBe(0);
    },
  );

  it('does not refresh for a blocked provider, nor end the authorization: after re-activation the refresh runs', async () => {
    const a = await authorization('expiring', 2); // needs a refresh for any real need
    status = 'invalid';
    expect(await refusal(path().acquire('org', a.id, 60))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await refusal(path().refreshAhead('org', a.id, 5))).toMatchObject({ code: 'FORBIDDEN' });
    expect(endpoint.refreshes).toBe(0);
    expect(await ds.query('SELECT status FROM tokens.authorizations WHERE id = $1', [a.id])).toEqual([
      { status: 'active' },
    ]);
    status = 'active';
    const served = await path().acquire('org', a.id, 60);
    expect(served).toMatchObject({ accessToken: 'at-1', refreshed: true });
  });

  it('keeps the refresh token’s expiry the provider gave (GitHub’s refresh_token_expires_in), at link time and on rotation', async () => {
    const linkedAt = Date.now();
    const a = await authorizations.store('org', {
      providerId: PROVIDER_ID,
      userId: 'github-user',
      oauthClientId: 'client',
      scopes: ['repo'],
      tokens: {
        accessToken: 'initial',
        refreshToken: 'rt-0',
        expiresAt: new Date(Date.now() + 2_000),
        refreshTokenExpiresAt: new Date(linkedAt + 3_600_000),
      },
    });
    expect(toAuthorizedProvider(a, provider()).refreshTokenExpiresAt).toBe(
      new Date(linkedAt + 3_600_000).toISOString(),
    );
    const served = await path().acquire('org', a.id, 60);
    expect(served.refreshed).toBe(true);
    const days = (new Date(served.refreshTokenExpiresAt ?? 0).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(183);
    expect(days).toBeLessThan(185);
    const [row] = (await ds.query(
      'SELECT refresh_token_expires_at FROM tokens.authorizations WHERE id = $1',
      [a.id],
    )) as { refresh_token_expires_at: Date }[];
    expect(row.refresh_token_expires_at.toISOString()).toBe(served.refreshTokenExpiresAt?.toISOString());
    const plain = await authorization('no-expiry', 3600);
    expect(toAuthorizedProvider(plain, provider()).refreshTokenExpiresAt).toBeNull();
  });

  it('migration: authorizations an earlier version left in invalidProviderState come back active', async () => {
    const a = await authorization('left-behind', 3600);
    await ds.query(`UPDATE tokens.authorizations SET status = 'invalidProviderState' WHERE id = $1`, [a.id]);
    const runner = ds.createQueryRunner();
    try {
      await new ProviderStateDerived1763901300000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await ds.query('SELECT status FROM tokens.authorizations WHERE id = $1', [a.id])).toEqual([
      { status: 'active' },
    ]);
    expect((await path().acquire('org', a.id, 60)).accessToken).toBe('initial-left-behind');
  });
});
