import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { PolicyQuestion, TokenGrant } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, sleep, TestDatabase } from '@broker/testing';
import { ClientsService, IDENTITY_SCHEMA, TokenGrantError, TokenGrantsService, decidePolicy } from '../src';

const GITHUB = '11111111-1111-4111-8111-111111111111';
const GOOGLE = '22222222-2222-4222-8222-222222222222';

function grant(over: Partial<TokenGrant>): TokenGrant {
  return {
    id: randomBytes(4).toString('hex'),
    orgId: 'acme',
    clientId: 'billing',
    providers: '*',
    subjects: { mode: 'org', users: [] },
    maxScopes: null,
    maxLifetimeSeconds: null,
    description: '',
    createdAt: new Date().toISOString(),
    ...over,
  };
}

const question = (over: Partial<PolicyQuestion> = {}): PolicyQuestion => ({
  orgId: 'acme',
  clientId: 'billing',
  subject: 'alice',
  providerId: GITHUB,
  providerType: 'github',
  ...over,
});

describe('consumer policy decisions', () => {
  it('refuses a client without grants, naming the grant rule', () => {
    expect(decidePolicy([], question())).toMatchObject({ allowed: false, rule: 'grant' });
  });

  it('matches providers by id or by type, and refuses others on the providers rule', () => {
    const byId = grant({ providers: { ids: [GOOGLE], types: [] } });
    const byType = grant({ providers: { ids: [], types: ['github'] } });
    expect(decidePolicy([byId], question())).toMatchObject({ allowed: false, rule: 'providers' });
    expect(decidePolicy([byId], question({ providerId: GOOGLE, providerType: 'google' }))).toMatchObject({
      allowed: true,
    });
    expect(decidePolicy([byType], question())).toMatchObject({ allowed: true });
    expect(decidePolicy([byType], question({ providerType: 'gitlab' }))).toMatchObject({
      allowed: false,
      rule: 'providers',
    });
  });

  it('self means the user the caller acts for: never a service account, never another user', () => {
    const self = grant({ subjects: { mode: 'self', users: [] } });
    expect(decidePolicy([self], question({ actingFor: 'alice' }))).toMatchObject({ allowed: true });
    expect(decidePolicy([self], question({ actingFor: 'bob' }))).toMatchObject({
      allowed: false,
      rule: 'subjects',
    });
    expect(decidePolicy([self], question({}))).toMatchObject({ allowed: false, rule: 'subjects' });
  });

  it('users lists the subjects; org covers every user', () => {
    const named = grant({ subjects: { mode: 'users', users: ['alice'] } });
    expect(decidePolicy([named], question())).toMatchObject({ allowed: true });
    expect(decidePolicy([named], question({ subject: 'carol' }))).toMatchObject({
      allowed: false,
      rule: 'subjects',
    });
    expect(decidePolicy([grant({})], question({ subject: 'anyone' }))).toMatchObject({ allowed: true });
  });

  it('grants add up: the widest scopes and lifetime of the grants that cover the token; an unbounded grant lifts the bound', () => {
    const a = grant({ maxScopes: ['read:org'], maxLifetimeSeconds: 600 });
    const b = grant({ maxScopes: ['repo'], maxLifetimeSeconds: 3600 });
    const other = grant({
      providers: { ids: [GOOGLE], types: [] },
      maxScopes: null,
      maxLifetimeSeconds: null,
    });
    const answer = decidePolicy([a, b, other], question());
    expect(answer).toEqual({
      allowed: true,
      maxScopes: expect.arrayContaining(['read:org', 'repo']),
      maxLifetimeSeconds: 3600,
    });
    expect(decidePolicy([a, grant({})], question())).toEqual({
      allowed: true,
      maxScopes: null,
      maxLifetimeSeconds: null,
    });
  });
});

describe('TokenGrantsService on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let clients: ClientsService;
  let grants: TokenGrantsService;
  let billing: string;

  beforeAll(async () => {
    db = await createTestDatabase('token_grants');
    // The schema as it was before consumer policies, with clients that already exist.
    const before = {
      ...IDENTITY_SCHEMA,
      migrations: (IDENTITY_SCHEMA.migrations as { name: string }[]).slice(
        0,
        (IDENTITY_SCHEMA.migrations as { name: string }[]).findIndex(
          (m) => m.name === 'TokenGrants1763900800000',
        ),
      ) as unknown as typeof IDENTITY_SCHEMA.migrations,
    };
    const old = await new DataSource(
      domainDataSourceOptions(db.url, before, 'token-grants-old'),
    ).initialize();
    await migrateDomainSchema(old, 'identity');
    const oldClients = new ClientsService(old, new KeyedHasher(randomBytes(32)));
    await oldClients.ensureOrg('acme', 'Acme');
    await oldClients.ensureOrg('rival', 'Rival');
    await oldClients.createClient(
      { orgId: 'acme', name: 'existing reader', grantTypes: ['client_credentials'], scopes: ['tokens:read'] },
      'existing-reader',
    );
    await oldClients.createClient(
      {
        orgId: 'acme',
        name: 'existing admin',
        grantTypes: ['client_credentials'],
        scopes: ['providers:read'],
      },
      'existing-no-tokens',
    );
    await old.destroy();

    ds = await new DataSource(domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'token-grants')).initialize();
    await migrateDomainSchema(ds, 'identity');
    clients = new ClientsService(ds, new KeyedHasher(randomBytes(32)));
    grants = new TokenGrantsService(ds, { cacheMs: 300 });
    billing = (
      await clients.createClient({
        orgId: 'acme',
        name: 'billing',
        grantTypes: ['client_credentials'],
        scopes: ['tokens:read'],
      })
    ).clientId;
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('the upgrade grants each existing tokens:read client what it had: every provider, every user of its org', async () => {
    expect(await grants.forClient('existing-reader')).toEqual([
      expect.objectContaining({
        orgId: 'acme',
        providers: '*',
        subjects: { mode: 'org', users: [] },
        maxScopes: null,
        maxLifetimeSeconds: null,
      }),
    ]);
    expect(await grants.decide(question({ clientId: 'existing-reader', subject: 'anyone' }))).toMatchObject({
      allowed: true,
    });
    // A client that could not get tokens before gets nothing now either.
    expect(await grants.forClient('existing-no-tokens')).toEqual([]);
  });

  it('a new client is served nothing until granted', async () => {
    expect(await grants.decide(question({ clientId: billing }))).toMatchObject({
      allowed: false,
      rule: 'grant',
    });
  });

  it('grants, lists and withdraws; the change applies at once in this process', async () => {
    const made = await grants.create('acme', billing, {
      providers: { ids: [], types: ['github'] },
      subjects: { mode: 'self', users: [] },
      maxScopes: ['read:org'],
      maxLifetimeSeconds: null,
      description: 'billing reads orgs',
    });
    expect(made).toMatchObject({
      clientId: billing,
      providers: { ids: [], types: ['github'] },
      subjects: { mode: 'self' },
      maxScopes: ['read:org'],
    });
    expect(await grants.decide(question({ clientId: billing, actingFor: 'alice' }))).toEqual({
      allowed: true,
      maxScopes: ['read:org'],
      maxLifetimeSeconds: null,
    });
    expect(await grants.decide(question({ clientId: billing }))).toMatchObject({
      allowed: false,
      rule: 'subjects',
    });
    expect((await grants.list('acme', billing)).map((g) => g.id)).toEqual([made.id]);
    expect(await grants.remove('rival', made.id)).toBe(false); // another org's admin cannot touch it
    expect(await grants.remove('acme', made.id)).toBe(true);
    expect(await grants.decide(question({ clientId: billing, actingFor: 'alice' }))).toMatchObject({
      allowed: false,
      rule: 'grant',
    });
  });

  it('a change made elsewhere (another replica, the admin tool) applies within the cache bound', async () => {
    const elsewhere = new TokenGrantsService(ds);
    expect(await grants.decide(question({ clientId: billing }))).toMatchObject({ allowed: false });
    await elsewhere.create('acme', billing, {
      providers: '*',
      subjects: { mode: 'org', users: [] },
      maxScopes: null,
      maxLifetimeSeconds: null,
      description: '',
    });
    await sleep(350);
    expect(await grants.decide(question({ clientId: billing }))).toMatchObject({ allowed: true });
    await elsewhere.removeAllOfClient('acme', billing);
    await sleep(350);
    expect(await grants.decide(question({ clientId: billing }))).toMatchObject({
      allowed: false,
      rule: 'grant',
    });
  });

  it("refuses a grant for another org's client or an inconsistent one, and never applies a grant across orgs", async () => {
    const rivalClient = (
      await clients.createClient({
        orgId: 'rival',
        name: 'r',
        grantTypes: ['client_credentials'],
        scopes: ['tokens:read'],
      })
    ).clientId;
    const any = {
      providers: '*' as const,
      subjects: { mode: 'org' as const, users: [] },
      maxScopes: null,
      maxLifetimeSeconds: null,
      description: '',
    };
    await expect(grants.create('acme', rivalClient, any)).rejects.toBeInstanceOf(TokenGrantError);
    await expect(
      grants.create('acme', billing, { ...any, subjects: { mode: 'users', users: [] } }),
    ).rejects.toThrow(/at least one user/);
    await expect(
      grants.create('acme', billing, { ...any, providers: { ids: [], types: [] } }),
    ).rejects.toThrow(/at least one provider/);
    await grants.create('rival', rivalClient, any);
    // The question names the org of the caller's token: a grant of another org never answers it.
    expect(await grants.decide(question({ clientId: rivalClient, orgId: 'acme' }))).toMatchObject({
      allowed: false,
      rule: 'grant',
    });
  });

  it('the bootstrap admin gets a full grant once, and an operator narrowing is never widened again', async () => {
    const admin = (
      await clients.createClient(
        { orgId: 'acme', name: 'admin', grantTypes: ['client_credentials'], scopes: ['tokens:read'] },
        'boot-admin',
      )
    ).clientId;
    expect(await grants.ensureFullGrant('acme', admin)).toBe(true);
    expect(await grants.ensureFullGrant('acme', admin)).toBe(false);
    await grants.removeAllOfClient('acme', admin);
    await grants.create('acme', admin, {
      providers: { ids: [GOOGLE], types: [] },
      subjects: { mode: 'org', users: [] },
      maxScopes: null,
      maxLifetimeSeconds: null,
      description: '',
    });
    expect(await grants.ensureFullGrant('acme', admin)).toBe(false);
    expect(await grants.decide(question({ clientId: admin }))).toMatchObject({
      allowed: false,
      rule: 'providers',
    });
  });

  it('a deleted client takes its grants with it', async () => {
    const temp = (
      await clients.createClient({
        orgId: 'acme',
        name: 'temp',
        grantTypes: ['client_credentials'],
        scopes: ['tokens:read'],
      })
    ).clientId;
    await grants.create('acme', temp, {
      providers: '*',
      subjects: { mode: 'org', users: [] },
      maxScopes: null,
      maxLifetimeSeconds: null,
      description: '',
    });
    await clients.delete(temp);
    expect(await grants.list('acme', temp)).toEqual([]);
  });
});
