import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, KeyedHasher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, sleep, TestDatabase } from '@broker/testing';
import {
  AccessTokenIssuer,
  ClientCredentials,
  ClientsService,
  GrantsService,
  IDENTITY_SCHEMA,
  OAuthError,
  SigningKeysService,
  TokenEndpoint,
  UsersService,
} from '../src';

const REDIRECT = 'https://app.example.com/callback';

describe('authorization codes (PKCE) and rotating refresh tokens on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let endpoint: TokenEndpoint;
  let grants: GrantsService;
  let app: ClientCredentials;
  let other: ClientCredentials;
  let users: UsersService;
  const hasher = new KeyedHasher(randomBytes(32));

  beforeAll(async () => {
    db = await createTestDatabase('grants');
    ds = await new DataSource(domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'grants-test')).initialize();
    await migrateDomainSchema(ds, 'identity');
    const clients = new ClientsService(ds, hasher);
    await clients.ensureOrg('org-a', 'Org A');
    users = new UsersService(ds);
    await users.upsert('org-a', { sub: 'alice' }, ['providers:read', 'tokens:read']);
    const spec = {
      orgId: 'org-a',
      grantTypes: ['authorization_code', 'refresh_token'] as const,
      scopes: ['providers:read', 'tokens:read'],
      redirectUris: [REDIRECT],
    };
    app = await clients.createClient({ ...spec, grantTypes: [...spec.grantTypes], name: 'web app' });
    other = await clients.createClient({ ...spec, grantTypes: [...spec.grantTypes], name: 'other app' });
    grants = new GrantsService(ds, hasher);
    const keys = new SigningKeysService(
      ds,
      new EnvelopeCipher(parseKeyring(`k1:${randomBytes(32).toString('base64')}`)),
    );
    endpoint = new TokenEndpoint(
      clients,
      new AccessTokenIssuer(keys, 'http://issuer', 'http://issuer/api'),
      600,
      grants,
    );
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };
  const newCode = async (challenge: string) =>
    grants.issueCode({
      orgId: 'org-a',
      clientId: app.clientId,
      sub: 'alice',
      scope: ['providers:read'],
      redirectUri: REDIRECT,
      codeChallenge: challenge,
    });
  const exchange = (code: string, verifier: string | undefined, client = app, redirect = REDIRECT) =>
    endpoint.handle({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirect,
      client_id: client.clientId,
      client_secret: client.clientSecret,
      tz: 'Europe/Paris',
    });
  const refresh = (token: string, client = app) =>
    endpoint.handle({
      grant_type: 'refresh_token',
      refresh_token: token,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
  const errorOf = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e instanceof OAuthError ? e.error : String(e)),
    );
  const claims = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

  it('exchanges a code once, with the right verifier, for an access token of the user and a refresh token', async () => {
    const { verifier, challenge } = pkce();
    const code = await newCode(challenge);
    const res = await exchange(code, verifier);
    expect(res).toMatchObject({
      token_type: 'Bearer',
      scope: 'providers:read',
      refresh_token: expect.any(String),
    });
    expect(claims(res.access_token)).toMatchObject({
      sub: 'alice',
      org_id: 'org-a',
      client_id: app.clientId,
      zoneinfo: 'Europe/Paris',
    });
    // A second use fails and revokes what the first one produced.
    expect(await errorOf(exchange(code, verifier))).toBe('invalid_grant');
    expect(await errorOf(refresh(res.refresh_token as string))).toBe('invalid_grant');
  });

  it('refuses a wrong or missing verifier, another redirect_uri or another client, and the code is spent either way', async () => {
    for (const attempt of [
      (c: string) => exchange(c, pkce().verifier),
      (c: string) => exchange(c, undefined),
      (c: string, v: string) => exchange(c, v, app, 'https://app.example.com/other'),
      (c: string, v: string) => exchange(c, v, other),
    ]) {
      const { verifier, challenge } = pkce();
      const code = await newCode(challenge);
      expect(await errorOf(attempt(code, verifier))).toBe('invalid_grant');
      expect(await errorOf(exchange(code, verifier))).toBe('invalid_grant');
    }
  });

  it('refuses an expired code and plain (non-S256) challenges', async () => {
    const shortLived = new GrantsService(ds, hasher, { codeTtlMs: 50, refreshTtlMs: 60_000 });
    const { verifier, challenge } = pkce();
    const code = await shortLived.issueCode({
      orgId: 'org-a',
      clientId: app.clientId,
      sub: 'alice',
      scope: ['providers:read'],
      redirectUri: REDIRECT,
      codeChallenge: challenge,
    });
    await sleep(120);
    expect(await errorOf(exchange(code, verifier))).toBe('invalid_grant');
    expect(await errorOf(newCode('plain-verifier'))).toBe('invalid_request');
  });

  it('rotates refresh tokens; reusing a spent one revokes the whole family', async () => {
    const { verifier, challenge } = pkce();
    const first = await exchange(await newCode(challenge), verifier);
    const second = await refresh(first.refresh_token as string);
    expect(second.refresh_token).not.toEqual(first.refresh_token);
    const third = await refresh(second.refresh_token as string);
    expect(await errorOf(refresh(first.refresh_token as string))).toBe('invalid_grant'); // replay of a spent token
    expect(await errorOf(refresh(third.refresh_token as string))).toBe('invalid_grant'); // ...killed the live one too
    expect(await errorOf(refresh(second.refresh_token as string, other))).toBe('invalid_grant');
  });

  it('lets at most one of two concurrent refreshes with the same token succeed', async () => {
    for (let round = 0; round < 5; round++) {
      const { verifier, challenge } = pkce();
      const start = await exchange(await newCode(challenge), verifier);
      const results = await Promise.all(
        [refresh(start.refresh_token as string), refresh(start.refresh_token as string)].map((p) =>
          errorOf(p),
        ),
      );
      expect(results.filter((r) => r === 'ok').length).toBeLessThanOrEqual(1);
      expect(results.filter((r) => r === 'invalid_grant').length).toBeGreaterThanOrEqual(1);
    }
  });

  it('narrows scope on refresh but never widens it; a refused scope leaves the refresh token and its family alive', async () => {
    const { verifier, challenge } = pkce();
    const start = await exchange(await newCode(challenge), verifier);
    const wider = () =>
      endpoint.handle({
        grant_type: 'refresh_token',
        refresh_token: start.refresh_token,
        scope: 'tokens:read',
        client_id: app.clientId,
        client_secret: app.clientSecret,
      });
    expect(await errorOf(wider())).toBe('invalid_scope');
    expect(await errorOf(wider())).toBe('invalid_scope'); // not a reuse: nothing was spent
    // The same refresh token still works for an ordinary refresh, and its successor too (the family is alive).
    const next = await refresh(start.refresh_token as string);
    expect(next.scope).toBe('providers:read');
    expect(await errorOf(refresh(next.refresh_token as string))).toBe('ok');
  });

  it('puts the sign-in session (the refresh-token family) in every access token of the grant', async () => {
    const { verifier, challenge } = pkce();
    const first = await exchange(await newCode(challenge), verifier);
    const second = await refresh(first.refresh_token as string);
    expect(claims(first.access_token)['sid']).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(claims(second.access_token)['sid']).toBe(claims(first.access_token)['sid']);
  });

  it('never renews past the user’s or the client’s right: narrowed scopes narrow the next token, a disabled user ends the family', async () => {
    await users.upsert('org-a', { sub: 'bob' }, ['providers:read', 'tokens:read']);
    const codeFor = async (sub: string, challenge: string) =>
      grants.issueCode({
        orgId: 'org-a',
        clientId: app.clientId,
        sub,
        scope: ['providers:read', 'tokens:read'],
        redirectUri: REDIRECT,
        codeChallenge: challenge,
      });
    const { verifier, challenge } = pkce();
    const first = await exchange(await codeFor('bob', challenge), verifier);
    expect(first.scope).toBe('providers:read tokens:read');
    await users.setScopes('org-a', 'bob', ['providers:read']);
    const narrowed = await refresh(first.refresh_token as string);
    expect(narrowed.scope).toBe('providers:read');
    await users.disable('org-a', 'bob');
    expect(await errorOf(refresh(narrowed.refresh_token as string))).toBe('invalid_grant');
    await users.enable('org-a', 'bob');
    // Enabling again does not revive what was revoked.
    expect(await errorOf(refresh(narrowed.refresh_token as string))).toBe('invalid_grant');
    // A code of a disabled user is not redeemed either.
    const again = pkce();
    const code = await codeFor('bob', again.challenge);
    await users.disable('org-a', 'bob');
    expect(await errorOf(exchange(code, again.verifier))).toBe('invalid_grant');
  });

  it('revokes a refresh token’s family for its own client only (RFC 7009)', async () => {
    const { verifier, challenge } = pkce();
    const start = await exchange(await newCode(challenge), verifier);
    // Another client's attempt changes nothing.
    expect(await grants.revokeFamily(start.refresh_token as string, other.clientId)).toBe('other-client');
    const next = await refresh(start.refresh_token as string);
    // The owner's revocation ends the family: its newest token is dead too.
    expect(await grants.revokeFamily(start.refresh_token as string, app.clientId)).toMatchObject({
      orgId: 'org-a',
      familyId: claims(next.access_token)['sid'],
    });
    expect(await errorOf(refresh(next.refresh_token as string))).toBe('invalid_grant');
    expect(await grants.revokeFamily('unknown-token', app.clientId)).toBeNull();
  });

  it('stores codes and refresh tokens only as hashes', async () => {
    const { verifier, challenge } = pkce();
    const code = await newCode(challenge);
    const res = await exchange(code, verifier);
    const dump = JSON.stringify([
      await ds.query('SELECT * FROM identity.authorization_codes'),
      await ds.query('SELECT * FROM identity.refresh_tokens'),
    ]);
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(res.refresh_token as string);
  });
});
