import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { OAuthProvider, PolicyAnswer, PolicyQuestion } from '@broker/contracts';
import { EnvelopeCipher, TokenFingerprinter, parseKeyring } from '@broker/crypto';
import { resolveProvider } from '@broker/provider-adapters';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, TestDatabase } from '@broker/testing';
import {
  AuthorizationsService,
  AuthorizedProvidersService,
  Consumer,
  ConsumerTokens,
  DEFAULT_TOKEN_LEDGER_OPTIONS,
  DEFAULT_TOKEN_PATH_OPTIONS,
  NarrowedToken,
  ProviderAccess,
  TOKENS_SCHEMA,
  TokenLedger,
  TokenNarrower,
  TokenPath,
  TokensError,
} from '../src';

const GITHUB = '11111111-1111-4111-8111-111111111111';
const BOX = '22222222-2222-4222-8222-222222222222';

/** ConsumerTokens over the real token path and ledger on PostgreSQL, with a scripted policy. */
describe('ConsumerTokens: the policy check and the ledger on every served token', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let authorizations: AuthorizationsService;
  let ledger: TokenLedger;
  let consumers: ConsumerTokens;
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  const fingerprints = new TokenFingerprinter(randomBytes(32));
  const asked: PolicyQuestion[] = [];
  let answer: (q: PolicyQuestion) => PolicyAnswer = () => ({
    allowed: true,
    maxScopes: null,
    maxLifetimeSeconds: null,
  });
  let narrow: TokenNarrower = async () => null;
  const types: Record<string, string> = { [GITHUB]: 'github', [BOX]: 'box' };

  const service: Consumer = { orgId: 'acme', clientId: 'billing', path: 'bus' };
  const asAlice: Consumer = { orgId: 'acme', clientId: 'web', actingFor: 'alice', path: 'rest' };

  async function link(
    user: string,
    providerId: string,
    scopes: string[],
    expiresInSeconds = 3600,
    account?: string,
  ) {
    return authorizations.store('acme', {
      providerId,
      userId: user,
      oauthClientId: 'oauth-app',
      scopes,
      externalUser: account ? { sub: account, email: `${account}@example.test` } : null,
      tokens: {
        accessToken: `at-${user}-${randomBytes(6).toString('hex')}`,
        refreshToken: 'rt',
        expiresAt: new Date(Date.now() + expiresInSeconds * 1000),
      },
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase('consumer_tokens');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'consumer-tokens')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    const resolved = resolveProvider('oauth2', {
      endpoints: { authorizationUrl: 'https://p.example/authorize', tokenUrl: 'https://p.example/token' },
    });
    const access: ProviderAccess = async (_org, providerId) =>
      types[providerId]
        ? {
            provider: {
              id: providerId,
              type: types[providerId],
              status: 'active',
              clientId: 'oauth-app',
            } as OAuthProvider,
            resolved,
            clientSecret: 's',
          }
        : null;
    const path = new TokenPath(ds, cipher, access, fetch, () => undefined, {
      ...DEFAULT_TOKEN_PATH_OPTIONS,
      memoryTtlMs: 2_000,
    });
    const authorized = new AuthorizedProvidersService(
      ds,
      authorizations,
      path,
      access,
      fetch,
      () => undefined,
    );
    ledger = new TokenLedger(ds, fingerprints, { ...DEFAULT_TOKEN_LEDGER_OPTIONS, flushMs: 20 });
    const policy = async (q: PolicyQuestion) => {
      asked.push(q);
      return answer(q);
    };
    consumers = new ConsumerTokens(path, authorized, access, policy, ledger, (orgId, served, want) =>
      narrow(orgId, served, want),
    );
  });

  afterAll(async () => {
    await ledger?.close();
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(() => {
    asked.length = 0;
    answer = () => ({ allowed: true, maxScopes: null, maxLifetimeSeconds: null });
    narrow = async () => null;
  });

  it('asks the policy with the facts of the authorization and serves within it, recorded in the ledger', async () => {
    const a = await link('alice', GITHUB, ['read:org']);
    const served = await consumers.serve(asAlice, { authorizationId: a.id }, { ownedBy: 'alice' });
    expect(served).toMatchObject({ authorizationId: a.id, attenuated: false, unmet: [] });
    expect(asked).toEqual([
      {
        orgId: 'acme',
        clientId: 'web',
        actingFor: 'alice',
        subject: 'alice',
        providerId: GITHUB,
        providerType: 'github',
      },
    ]);
    await ledger.flush();
    const found = await ledger.byFingerprint('acme', fingerprints.ofToken(served.accessToken));
    expect(found).toEqual([
      expect.objectContaining({
        consumer: 'web',
        subject: 'alice',
        authorizationId: a.id,
        providerId: GITHUB,
        path: 'rest',
        attenuated: false,
        serveCount: 1,
      }),
    ]);
  });

  it('a refusal names its rule and serves nothing; by user + provider it comes before the lookup (no existence leak)', async () => {
    const a = await link('bob', GITHUB, ['repo']);
    answer = () => ({ allowed: false, rule: 'subjects', message: 'no' });
    const byId = await consumers.serve(service, { authorizationId: a.id }).catch((e: unknown) => e);
    expect(byId).toBeInstanceOf(TokensError);
    expect(byId).toMatchObject({ code: 'FORBIDDEN', fields: [{ name: 'policy.subjects', message: 'no' }] });
    // Same answer whether bob has an account there or nobody does.
    const known = await consumers
      .serve(service, { userId: 'bob', providerId: GITHUB })
      .catch((e: TokensError) => e.code);
    const unknown = await consumers
      .serve(service, { userId: 'nobody', providerId: GITHUB })
      .catch((e: TokensError) => e.code);
    expect([known, unknown]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });

  it("a person's token never reaches another user's authorization, whatever the policy says", async () => {
    const a = await link('carol', GITHUB, ['repo']);
    await expect(
      consumers.serve(asAlice, { authorizationId: a.id }, { ownedBy: 'alice' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      consumers.serve(asAlice, { userId: 'carol', providerId: GITHUB }, { ownedBy: 'alice' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('scopes beyond the policy: refused when the provider cannot narrow, served narrowed when it can', async () => {
    const a = await link('dave', BOX, ['root_readwrite']);
    answer = () => ({ allowed: true, maxScopes: ['item_preview'], maxLifetimeSeconds: null });
    await expect(consumers.serve(service, { authorizationId: a.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      fields: [{ name: 'policy.scopes' }],
    });
    const wants: unknown[] = [];
    narrow = async (_org, served, want): Promise<NarrowedToken> => {
      wants.push(want);
      return {
        accessToken: `down-${served.accessToken}`,
        tokenType: 'bearer',
        expiresAt: served.expiresAt,
        scopes: want.scopes ?? [],
        enforced: ['scopes'],
      };
    };
    const served = await consumers.serve(service, { authorizationId: a.id });
    expect(wants).toEqual([{ scopes: ['item_preview'] }]);
    expect(served).toMatchObject({ attenuated: true, scopes: ['item_preview'], unmet: [] });
    expect(served.accessToken).toMatch(/^down-at-dave-/);
    // Asking for scopes the policy does not allow is refused before anything is minted.
    await expect(
      consumers.serve(service, { authorizationId: a.id }, { restriction: { scopes: ['item_upload'] } }),
    ).rejects.toMatchObject({ fields: [{ name: 'policy.scopes' }] });
  });

  it('lifetime beyond the policy is refused (no provider here mints shorter-lived tokens); within it is served', async () => {
    const long = await link('erin', GITHUB, ['repo'], 3600);
    const short = await link('frank', GITHUB, ['repo'], 300);
    answer = () => ({ allowed: true, maxScopes: null, maxLifetimeSeconds: 600 });
    await expect(consumers.serve(service, { authorizationId: long.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      fields: [{ name: 'policy.lifetime' }],
    });
    await expect(consumers.serve(service, { authorizationId: short.id })).resolves.toMatchObject({
      attenuated: false,
    });
  });

  it("a caller's own restriction the provider cannot honour is reported, never pretended", async () => {
    const a = await link('gina', GITHUB, ['repo', 'read:org']);
    const served = await consumers.serve(
      service,
      { authorizationId: a.id },
      { restriction: { scopes: ['read:org'], repositories: ['octo/hello'], maxLifetimeSeconds: 120 } },
    );
    expect(served).toMatchObject({ attenuated: false, scopes: ['repo', 'read:org'] });
    expect(served.unmet.sort()).toEqual(['maxLifetimeSeconds', 'repositories', 'scopes']);
  });

  it('several accounts at one provider: each its own authorization, chosen by id or by account', async () => {
    const personal = await link('hank', GITHUB, ['repo'], 3600, 'hank-personal');
    const work = await link('hank', GITHUB, ['repo'], 3600, 'hank-work');
    expect(personal.id).not.toBe(work.id);
    await expect(consumers.serve(service, { userId: 'hank', providerId: GITHUB })).rejects.toMatchObject({
      code: 'CONFLICT',
      fields: [{ name: 'account' }, { name: 'account' }],
    });
    const p = await consumers.serve(service, {
      userId: 'hank',
      providerId: GITHUB,
      account: 'hank-personal',
    });
    const w = await consumers.serve(service, {
      userId: 'hank',
      providerId: GITHUB,
      account: 'HANK-WORK@example.test',
    });
    expect([p.authorizationId, w.authorizationId]).toEqual([personal.id, work.id]);
    expect(p.accessToken).not.toBe(w.accessToken);
    // Linking the same account again replaces its authorization instead of adding one.
    const again = await link('hank', GITHUB, ['repo'], 3600, 'hank-work');
    expect(again.id).toBe(work.id);
  });
});

describe('TokenLedger', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const fingerprints = new TokenFingerprinter(randomBytes(32));
  const base = {
    orgId: 'acme',
    consumer: 'billing',
    subject: 'alice',
    authorizationId: '33333333-3333-4333-8333-333333333333',
    providerId: GITHUB,
    path: 'bus' as const,
    attenuated: false,
    expiresAt: null,
  };

  beforeAll(async () => {
    db = await createTestDatabase('token_ledger');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'token-ledger')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('merges repeated serves into a count and writes in batches, off the caller (record never waits)', async () => {
    const ledger = new TokenLedger(ds, fingerprints, { ...DEFAULT_TOKEN_LEDGER_OPTIONS, flushMs: 10_000 });
    for (let i = 0; i < 1000; i++) ledger.record({ ...base, token: 'tok-merge' });
    ledger.record({ ...base, consumer: 'reports', token: 'tok-merge' });
    expect(ledger.pendingCount).toBe(2);
    await ledger.close();
    const rows = await ledger.byFingerprint('acme', fingerprints.ofToken('tok-merge'));
    expect(rows.map((r) => [r.consumer, r.serveCount]).sort()).toEqual([
      ['billing', 1000],
      ['reports', 1],
    ]);
  });

  it('keeps what it could not write and writes it on the next flush', async () => {
    const warnings: string[] = [];
    const ledger = new TokenLedger(
      ds,
      fingerprints,
      { ...DEFAULT_TOKEN_LEDGER_OPTIONS, flushMs: 10_000 },
      (m) => warnings.push(m),
    );
    await ds.query('ALTER TABLE tokens.token_ledger RENAME TO token_ledger_away');
    try {
      ledger.record({ ...base, token: 'tok-retry' });
      await ledger.flush();
      expect(ledger.pendingCount).toBe(1);
      expect(warnings.join('\n')).toMatch(/write failed, 1 record/);
    } finally {
      await ds.query('ALTER TABLE tokens.token_ledger_away RENAME TO token_ledger');
    }
    await ledger.close();
    expect(await ledger.byFingerprint('acme', fingerprints.ofToken('tok-retry'))).toHaveLength(1);
  });

  it('answers by subject since a time, paged, and only for the org asking', async () => {
    const ledger = new TokenLedger(ds, fingerprints);
    for (let i = 0; i < 5; i++)
      ledger.record({ ...base, subject: 'paged', consumer: `c${i}`, token: `tok-p${i}` });
    ledger.record({ ...base, orgId: 'rival', subject: 'paged', token: 'tok-rival' });
    await ledger.close();
    const first = await ledger.search('acme', { subject: 'paged', limit: 3 });
    expect(first.items).toHaveLength(3);
    const second = await ledger.search('acme', {
      subject: 'paged',
      limit: 3,
      cursor: first.next ?? undefined,
    });
    expect(second.items).toHaveLength(2);
    expect(second.next).toBeNull();
    expect(new Set([...first.items, ...second.items].map((r) => r.consumer))).toEqual(
      new Set(['c0', 'c1', 'c2', 'c3', 'c4']),
    );
    expect(
      (
        await ledger.search('acme', {
          subject: 'paged',
          since: new Date(Date.now() + 60_000).toISOString(),
          limit: 10,
        })
      ).items,
    ).toEqual([]);
    expect(await ledger.byFingerprint('acme', fingerprints.ofToken('tok-rival'))).toEqual([]);
  });

  it("joins a provider's SHA-256 of a token (GitHub's hashed_token) to the same row", async () => {
    const ledger = new TokenLedger(ds, fingerprints);
    ledger.record({ ...base, token: 'ghu_canary-for-github' });
    await ledger.close();
    const { createHash } = await import('node:crypto');
    const hashedToken = createHash('sha256').update('ghu_canary-for-github').digest('base64');
    const viaGitHub = ledger.fingerprintOf({ sha256: Buffer.from(hashedToken, 'base64') });
    expect(viaGitHub).toBe(fingerprints.ofToken('ghu_canary-for-github'));
    expect(await ledger.byFingerprint('acme', viaGitHub)).toHaveLength(1);
  });

  it('never stores a token: a canary scan of every column finds none', async () => {
    const ledger = new TokenLedger(ds, fingerprints);
    const canary = `canary-${randomBytes(16).toString('hex')}`;
    ledger.record({ ...base, token: canary, restriction: { scopes: ['a'] } });
    await ledger.close();
    const dump = JSON.stringify(await ds.query('SELECT * FROM tokens.token_ledger'));
    expect(dump).not.toContain(canary);
    expect(dump).not.toContain(canary.slice(7, 27));
    expect(dump).toContain(fingerprints.ofToken(canary));
  });

  it('removes rows past their retention, once per hour and replica', async () => {
    const ledger = new TokenLedger(ds, fingerprints, { ...DEFAULT_TOKEN_LEDGER_OPTIONS, retentionDays: 30 });
    ledger.record({ ...base, subject: 'old', token: 'tok-old' });
    ledger.record({ ...base, subject: 'recent', token: 'tok-recent' });
    await ledger.close();
    await ds.query(
      `UPDATE tokens.token_ledger SET last_served_at = now() - interval '31 days' WHERE subject = 'old'`,
    );
    expect(await ledger.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await ledger.purgeExpired()).toBeNull(); // not again within the hour
    expect((await ledger.search('acme', { subject: 'old', limit: 10 })).items).toEqual([]);
    expect((await ledger.search('acme', { subject: 'recent', limit: 10 })).items).toHaveLength(1);
  });
});
