import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, KeyedHasher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, sleep, TestDatabase } from '@broker/testing';
import {
  AccessTokenIssuer,
  AccessTokenVerifier,
  ClientCredentials,
  ClientsService,
  GrantsService,
  IDENTITY_SCHEMA,
  InvalidAccessTokenError,
  OAuthError,
  PrincipalTokenError,
  PrincipalTokens,
  RevocationList,
  RevocationStateUnavailableError,
  RevocationSync,
  RevocationsService,
  SigningKeysService,
  TokenEndpoint,
  TokenStatusEndpoints,
  UsersService,
  principalFromClaimsForTest,
  revocationKey,
} from './support/identity-fixtures';

const ISSUER = 'http://127.0.0.1:3000';
const AUDIENCE = `${ISSUER}/api`;
const now = () => Math.floor(Date.now() / 1000);

describe('RevocationList', () => {
  const claims = (over: Partial<Parameters<RevocationList['isRevoked']>[0]> = {}) => ({
    org_id: 'o',
    client_id: 'c',
    sub: 's',
    jti: 'j',
    iat: 1_000,
    ...over,
  });

  it('refuses what an entry names: a client or subject before its "not before", a session or one token whenever', () => {
    const list = new RevocationList();
    list.update(
      [
        { h: revocationKey('client', 'o', 'c'), nb: 1_000, exp: now() + 60 },
        { h: revocationKey('subject', 'o', 'alice'), nb: 2_000, exp: now() + 60 },
        { h: revocationKey('session', 'o', 'fam-1'), exp: now() + 60 },
        { h: revocationKey('token', 'o', 'jti-1'), exp: now() + 60 },
      ],
      Date.now(),
    );
    expect(list.isRevoked(claims({ iat: 999 }))).toBe(true);
    expect(list.isRevoked(claims({ iat: 1_000 }))).toBe(false); // issued at or after "not before": a new token
    expect(list.isRevoked(claims({ client_id: 'other', sub: 'alice', iat: 1_999 }))).toBe(true);
    expect(
      list.isRevoked(
        claims({ client_id: 'other', sub: 'bob', act: { sub: 'alice', client_id: 'other' }, iat: 1_999 }),
      ),
    ).toBe(true); // alice acting for bob
    expect(list.isRevoked(claims({ client_id: 'other', sid: 'fam-1', iat: 5_000 }))).toBe(true);
    expect(list.isRevoked(claims({ client_id: 'other', jti: 'jti-1', iat: 5_000 }))).toBe(true);
    // Same names in another org are someone else.
    expect(list.isRevoked(claims({ org_id: 'o2', iat: 10 }))).toBe(false);
    expect(list.isRevoked(claims({ client_id: 'other', iat: 10 }))).toBe(false);
  });

  it('is keyed by hashes: the list names no client, user or token', () => {
    const h = revocationKey('client', 'org-a', 'cl_secret_name');
    expect(h).not.toContain('cl_secret_name');
    expect(h).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('RevocationSync', () => {
  it('never decides on a list older than its bound: it reads again, and fails closed when it cannot', async () => {
    let fail = false;
    let reads = 0;
    const sync = new RevocationSync(
      async () => {
        reads++;
        if (fail) throw new Error('token-broker unreachable');
        return { version: 'v', ageMs: 0, entries: [] };
      },
      { pollMs: 60_000, maxStalenessMs: 100 },
    );
    const claims = { org_id: 'o', client_id: 'c', sub: 's', jti: 'j', iat: 1 };
    await expect(sync.isRevoked(claims)).resolves.toBe(false);
    expect(reads).toBe(1);
    await sleep(150);
    await expect(sync.isRevoked(claims)).resolves.toBe(false); // stale: read again first
    expect(reads).toBe(2);
    fail = true;
    await sleep(150);
    await expect(sync.isRevoked(claims)).rejects.toBeInstanceOf(RevocationStateUnavailableError);
  });

  it('counts the source’s own age: a list the token-broker read long ago is stale on arrival', async () => {
    const sync = new RevocationSync(async () => ({ version: 'v', ageMs: 10_000, entries: [] }), {
      pollMs: 60_000,
      maxStalenessMs: 4_000,
    });
    await expect(
      sync.isRevoked({ org_id: 'o', client_id: 'c', sub: 's', jti: 'j', iat: 1 }),
    ).rejects.toBeInstanceOf(RevocationStateUnavailableError);
  });
});

/**
 * Disabling, deleting and revoking against PostgreSQL, seen by a verifier that reads the list the
 * way the token-broker does, and by a second one that reads only PostgreSQL (another replica).
 */
describe('revocation of the broker’s tokens on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let clients: ClientsService;
  let users: UsersService;
  let revocations: RevocationsService;
  let endpoint: TokenEndpoint;
  let issuer: AccessTokenIssuer;
  let verifier: AccessTokenVerifier;
  let otherReplica: AccessTokenVerifier;
  let principals: PrincipalTokens;
  let status: TokenStatusEndpoints;
  const hasher = new KeyedHasher(randomBytes(32));

  beforeAll(async () => {
    db = await createTestDatabase('revocation');
    ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'revocation-test'),
    ).initialize();
    await migrateDomainSchema(ds, 'identity');
    revocations = new RevocationsService(ds);
    clients = new ClientsService(ds, hasher, revocations);
    users = new UsersService(ds, revocations);
    const keys = new SigningKeysService(
      ds,
      new EnvelopeCipher(parseKeyring(`k1:${randomBytes(32).toString('base64')}`)),
    );
    issuer = new AccessTokenIssuer(keys, ISSUER, AUDIENCE);
    const grants = new GrantsService(ds, hasher, undefined, revocations);
    endpoint = new TokenEndpoint(clients, issuer, 600, grants);
    const fromDatabase = () =>
      new RevocationSync(async () => ({ ...(await revocations.read()), ageMs: 0 }), {
        pollMs: 60_000,
        maxStalenessMs: 50,
      });
    const sync = fromDatabase();
    // This process's own writes reach its list at once (as the token-broker's lifecycle wires it).
    revocations.onRevoked((entries) => sync.list.add(entries));
    verifier = new AccessTokenVerifier(() => keys.jwks(), ISSUER, AUDIENCE, 5_000, sync);
    otherReplica = new AccessTokenVerifier(() => keys.jwks(), ISSUER, AUDIENCE, 5_000, fromDatabase());
    principals = new PrincipalTokens(users, issuer, 600, 300, clients);
    status = new TokenStatusEndpoints(clients, grants, verifier, revocations);
    await clients.ensureOrg('org-a', 'Org A');
    await clients.ensureOrg('org-b', 'Org B');
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const newClient = (orgId = 'org-a', scopes = ['tokens:read', 'tokens:delegate']) =>
    clients.createClient({
      orgId,
      name: `svc-${randomBytes(3).toString('hex')}`,
      grantTypes: ['client_credentials'],
      scopes,
    });
  const tokenOf = async (c: ClientCredentials) =>
    (
      await endpoint.handle({
        grant_type: 'client_credentials',
        client_id: c.clientId,
        client_secret: c.clientSecret,
      })
    ).access_token;
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => false,
      (e: unknown) => e instanceof InvalidAccessTokenError,
    );
  const errorOf = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) =>
        e instanceof OAuthError ? e.error : e instanceof PrincipalTokenError ? e.status : String(e),
    );

  it('refuses every token of a disabled client at once here and on another replica, and the client cannot get or renew one', async () => {
    const svc = await newClient();
    const token = await tokenOf(svc);
    const principal = principalFromClaimsForTest(await verifier.verify(token));
    expect(await clients.disable(svc.clientId, 'org-a')).toBe(true);
    expect(await refused(verifier.verify(token))).toBe(true);
    await sleep(60);
    expect(await refused(otherReplica.verify(token))).toBe(true);
    expect(await errorOf(tokenOf(svc))).toBe('invalid_client');
    // Even with a token a verifier has not caught up with yet, a renewal is refused.
    expect(await errorOf(principals.principalToken(principal))).toBe(401);
    expect(await errorOf(principals.delegatedToken(principal, { sub: 'nobody' }))).toBe(401);
  });

  it('refuses a deleted client’s tokens; re-enabling a disabled one does not revive old tokens but new ones work', async () => {
    const svc = await newClient();
    const token = await tokenOf(svc);
    expect(await clients.delete(svc.clientId)).toBe(true);
    expect(await refused(verifier.verify(token))).toBe(true);
    expect(await clients.delete(svc.clientId)).toBe(false);

    const again = await newClient();
    const old = await tokenOf(again);
    await clients.disable(again.clientId);
    await clients.enable(again.clientId);
    expect(await refused(verifier.verify(old))).toBe(true);
    await sleep(2_100); // tokens issued within the grace period after a revocation are refused too
    await expect(verifier.verify(await tokenOf(again))).resolves.toMatchObject({ client_id: again.clientId });
  });

  it('refuses a deleted or disabled user’s tokens, delegated ones too, and delegates to them no more', async () => {
    const admin = await newClient();
    await users.upsert('org-a', { sub: 'carol' });
    await users.upsert('org-a', { sub: 'dave' });
    const adminPrincipal = principalFromClaimsForTest(await verifier.verify(await tokenOf(admin)));
    const forCarol = (
      await principals.delegatedToken(adminPrincipal, { sub: 'carol', scopes: ['tokens:read'] })
    ).access_token;
    const forDave = (
      await principals.delegatedToken(adminPrincipal, { sub: 'dave', scopes: ['tokens:read'] })
    ).access_token;
    await verifier.verify(forCarol);
    expect(await users.delete('org-a', 'carol')).toBe(true);
    expect(await refused(verifier.verify(forCarol))).toBe(true);
    expect(await errorOf(principals.delegatedToken(adminPrincipal, { sub: 'carol' }))).toBe(404);
    expect(await users.disable('org-a', 'dave')).toBe(true);
    expect(await refused(verifier.verify(forDave))).toBe(true);
    expect(await errorOf(principals.delegatedToken(adminPrincipal, { sub: 'dave' }))).toBe(404);
    expect(await users.disable('org-b', 'dave')).toBe(false); // another org's user of the same name does not exist
  });

  it('revokes everything of a client without disabling it', async () => {
    const svc = await newClient();
    const token = await tokenOf(svc);
    expect(await clients.revokeAllOfClient(svc.clientId, 'org-b')).toBe(false); // another org: not found
    await expect(verifier.verify(token)).resolves.toBeDefined();
    expect(await clients.revokeAllOfClient(svc.clientId, 'org-a')).toBe(true);
    expect(await refused(verifier.verify(token))).toBe(true);
    expect(await errorOf(tokenOf(svc))).toBe('ok'); // it can still authenticate
  });

  it('revokes one access token of the caller (RFC 7009) and introspects (RFC 7662) only within the org', async () => {
    const svc = await newClient();
    const other = await newClient();
    const foreign = await newClient('org-b');
    const token = await tokenOf(svc);
    const creds = (c: ClientCredentials) => ({ client_id: c.clientId, client_secret: c.clientSecret });
    expect(await status.introspect({ ...creds(svc), token })).toMatchObject({
      active: true,
      client_id: svc.clientId,
      org_id: 'org-a',
      token_type: 'Bearer',
    });
    expect(await status.introspect({ ...creds(other), token })).toMatchObject({ active: true }); // same org: a resource server of the org may ask
    expect(await status.introspect({ ...creds(foreign), token })).toEqual({ active: false }); // another org learns nothing
    expect(await status.introspect({ ...creds(svc), token: 'garbage' })).toEqual({ active: false });
    expect(await errorOf(status.introspect({ client_id: svc.clientId, client_secret: 'wrong', token }))).toBe(
      'invalid_client',
    );

    expect(await errorOf(status.revoke({ ...creds(other), token }))).toBe('unauthorized_client'); // not its token
    await expect(verifier.verify(token)).resolves.toBeDefined();
    await status.revoke({ ...creds(svc), token });
    expect(await refused(verifier.verify(token))).toBe(true);
    expect(await status.introspect({ ...creds(svc), token })).toEqual({ active: false });
    await expect(status.revoke({ ...creds(svc), token: 'never-issued' })).resolves.toBeUndefined(); // RFC 7009 §2.2
    // The next token of the same client is not affected by a single-token revocation.
    await expect(verifier.verify(await tokenOf(svc))).resolves.toBeDefined();
  });

  it('stores only hashed keys and drops entries once nothing they stop can be alive', async () => {
    const svc = await newClient();
    await clients.disable(svc.clientId);
    const dump = JSON.stringify(await ds.query('SELECT * FROM identity.revocations'));
    expect(dump).not.toContain(svc.clientId);
    await ds.query(`UPDATE identity.revocations SET expires_at = now() - interval '2 hours'`);
    expect(await revocations.purgeExpired()).toBeGreaterThan(0);
    expect((await revocations.read()).entries).toEqual([]);
  });
});
