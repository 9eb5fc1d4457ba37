import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { KeyedHasher } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import {
  ClientPolicyError,
  ClientsService,
  IDENTITY_SCHEMA,
  SignInPolicy,
  UsersService,
  personScope,
} from '../src';

/** Who becomes a user of an org by signing in upstream, and with which scopes. */
describe('sign-in policy', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let policy: SignInPolicy;
  let users: UsersService;
  let clients: ClientsService;

  beforeAll(async () => {
    db = await createTestDatabase('sign-in-policy');
    ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'sign-in-policy-test'),
    ).initialize();
    await migrateDomainSchema(ds, 'identity');
    policy = new SignInPolicy(ds);
    users = new UsersService(ds);
    clients = new ClientsService(ds, new KeyedHasher(randomBytes(32)));
    await clients.ensureOrg('acme', 'Acme');
    await clients.ensureOrg('open', 'Open');
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const count = async (orgId: string) =>
    (await ds.query('SELECT count(*)::int AS n FROM identity.users WHERE org_id = $1', [orgId]))[0]
      .n as number;

  it('admits only invited users by default: a stranger gets nothing and nothing is stored', async () => {
    const before = await count('acme');
    const stranger = await policy.admit('acme', {
      sub: 'idp-stranger',
      email: 'stranger@evil.test',
      emailVerified: true,
    });
    expect(stranger).toMatchObject({ admitted: false, reason: expect.stringMatching(/not been invited/) });
    expect(await count('acme')).toBe(before);
  });

  it('links an invited user by verified e-mail address, then by the upstream subject, and keeps their own subject and scopes', async () => {
    await users.upsert('acme', { sub: 'carol', email: 'Carol@Acme.test' }, ['providers:read']);
    expect(
      await policy.admit('acme', { sub: 'idp-123', email: 'carol@acme.test', emailVerified: false }),
    ).toMatchObject({ admitted: false });
    const first = await policy.admit('acme', {
      sub: 'idp-123',
      email: 'carol@acme.test',
      emailVerified: true,
      givenName: 'Carol',
    });
    expect(first).toMatchObject({
      admitted: true,
      user: { sub: 'carol', upstreamSubject: 'idp-123', scopes: ['providers:read'], givenName: 'Carol' },
    });
    // Later sign-ins find her by her upstream identity, whatever e-mail address it shows then.
    expect(
      await policy.admit('acme', { sub: 'idp-123', email: 'carol@elsewhere.test', emailVerified: false }),
    ).toMatchObject({ admitted: true, user: { sub: 'carol' } });
    // Another upstream identity with her address cannot take the invitation over.
    expect(
      await policy.admit('acme', { sub: 'idp-999', email: 'carol@acme.test', emailVerified: true }),
    ).toMatchObject({ admitted: false });
  });

  it('matches an invitation made with the upstream subject itself', async () => {
    await users.upsert('acme', { sub: 'idp-erin' }, ['tokens:read']);
    expect(await policy.admit('acme', { sub: 'idp-erin' })).toMatchObject({
      admitted: true,
      user: { sub: 'idp-erin', upstreamSubject: 'idp-erin' },
    });
  });

  it('refuses a disabled user', async () => {
    await users.upsert('acme', { sub: 'frank', email: 'frank@acme.test' });
    await users.disable('acme', 'frank');
    expect(
      await policy.admit('acme', { sub: 'idp-frank', email: 'frank@acme.test', emailVerified: true }),
    ).toMatchObject({ admitted: false, reason: expect.stringMatching(/disabled/) });
  });

  it('admits allowed e-mail domains when the org says so, with verified addresses and the org’s default scopes', async () => {
    expect(
      await policy.setPolicy('open', {
        mode: 'domains',
        allowedEmailDomains: ['Open.test'],
        requireVerifiedEmail: true,
        defaultUserScopes: ['providers:read'],
      }),
    ).toBe(true);
    expect(
      await policy.admit('open', { sub: 'idp-a', email: 'a@open.test', emailVerified: false }),
    ).toMatchObject({ admitted: false });
    expect(
      await policy.admit('open', { sub: 'idp-b', email: 'b@sub.open.test', emailVerified: true }),
    ).toMatchObject({ admitted: false });
    expect(
      await policy.admit('open', { sub: 'idp-c', email: 'c@open.test.evil', emailVerified: true }),
    ).toMatchObject({ admitted: false });
    expect(
      await policy.admit('open', { sub: 'idp-d', email: 'd@open.test', emailVerified: true }),
    ).toMatchObject({
      admitted: true,
      user: { sub: 'idp-d', email: 'd@open.test', scopes: ['providers:read'] },
    });
    expect(
      await policy.setPolicy('nowhere', {
        mode: 'invited',
        allowedEmailDomains: [],
        requireVerifiedEmail: true,
        defaultUserScopes: [],
      }),
    ).toBe(false);
  });

  it('gives a signed-in person the client’s scopes ∩ their own, and tokens:delegate only through a flagged client', () => {
    const client = {
      scopes: ['providers:read', 'tokens:read', 'tokens:delegate'],
      allowUserDelegation: false,
    };
    const person = { scopes: ['tokens:read', 'tokens:delegate', 'jobs:read'] };
    expect(
      personScope(['openid', 'providers:read', 'tokens:read', 'tokens:delegate'], client, person),
    ).toEqual(['openid', 'tokens:read']);
    expect(personScope(['tokens:delegate'], { ...client, allowUserDelegation: true }, person)).toEqual([
      'tokens:delegate',
    ]);
  });

  it('refuses tokens:delegate on a code-flow client unless explicitly allowed', async () => {
    const firstParty = {
      orgId: 'acme',
      name: 'web',
      grantTypes: ['authorization_code' as const, 'refresh_token' as const],
      redirectUris: ['https://app.test/cb'],
    };
    await expect(clients.createClient({ ...firstParty, scopes: ['tokens:delegate'] })).rejects.toBeInstanceOf(
      ClientPolicyError,
    );
    await expect(
      clients.createClient({ ...firstParty, scopes: ['tokens:delegate'], allowUserDelegation: true }),
    ).resolves.toMatchObject({ clientId: expect.any(String) });
    await expect(
      clients.createClient({
        ...firstParty,
        grantTypes: ['client_credentials'],
        scopes: ['tokens:delegate'],
      }),
    ).resolves.toBeDefined();
  });
});
