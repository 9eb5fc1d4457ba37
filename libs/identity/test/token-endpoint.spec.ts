import { randomBytes } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, generateKeyPair } from 'jose';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, KeyedHasher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { AccessTokenVerifier, InvalidAccessTokenError } from '@broker/auth-kit';
import {
  AccessTokenIssuer,
  ClientCredentials,
  ClientsService,
  GrantsService,
  IDENTITY_SCHEMA,
  IdTokenIssuer,
  OAuthError,
  SigningKeysService,
  TokenEndpoint,
} from '../src';

const ISSUER = 'http://127.0.0.1:3000';
const AUDIENCE = 'http://127.0.0.1:3000/api';

describe('the broker’s token endpoint (client_credentials) on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let clients: ClientsService;
  let keys: SigningKeysService;
  let endpoint: TokenEndpoint;
  let verifier: AccessTokenVerifier;
  let service: ClientCredentials;
  const K1 = `k1:${randomBytes(32).toString('base64')}`;
  const cipher = new EnvelopeCipher(parseKeyring(K1));

  beforeAll(async () => {
    db = await createTestDatabase('identity');
    ds = await new DataSource(domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'identity-test')).initialize();
    await migrateDomainSchema(ds, 'identity');
    clients = new ClientsService(ds, new KeyedHasher(randomBytes(32)));
    keys = new SigningKeysService(ds, cipher);
    endpoint = new TokenEndpoint(
      clients,
      new AccessTokenIssuer(keys, ISSUER, AUDIENCE),
      600,
      new GrantsService(ds, new KeyedHasher(randomBytes(32))),
    );
    verifier = new AccessTokenVerifier(() => keys.jwks(), ISSUER, AUDIENCE);
    await clients.ensureOrg('org-a', 'Org A');
    service = await clients.createClient({
      orgId: 'org-a',
      name: 'billing service',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:read', 'providers:read'],
    });
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const oauthErrorOf = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => (e instanceof OAuthError ? { error: e.error, status: e.status } : e),
    );

  it('issues a signed JWT with the documented claims, verifiable against the JWKS', async () => {
    const res = await endpoint.handle({
      grant_type: 'client_credentials',
      client_id: service.clientId,
      client_secret: service.clientSecret,
    });
    expect(res).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'tokens:read providers:read' });
    const header = decodeProtectedHeader(res.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    const claims = await verifier.verify(res.access_token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: service.clientId,
      client_id: service.clientId,
      org_id: 'org-a',
      scope: 'tokens:read providers:read',
      jti: expect.any(String),
    });
    expect(claims.exp - claims.iat).toBe(600);
  });

  it('accepts HTTP Basic client authentication and narrows scope on request', async () => {
    const res = await endpoint.handle({
      grant_type: 'client_credentials',
      scope: 'tokens:read',
      basic: { clientId: service.clientId, clientSecret: service.clientSecret },
    });
    expect(res.scope).toBe('tokens:read');
  });

  it('carries seed 003 `tz` as the zoneinfo claim, Europe/Oslo when the request names none', async () => {
    const base = {
      grant_type: 'client_credentials',
      client_id: service.clientId,
      client_secret: service.clientSecret,
    };
    const named = await endpoint.handle({ ...base, tz: 'Asia/Kolkata' });
    expect((await verifier.verify(named.access_token)).zoneinfo).toBe('Asia/Kolkata');
    const unnamed = await endpoint.handle(base);
    expect((await verifier.verify(unnamed.access_token)).zoneinfo).toBe('Europe/Oslo');
  });

  it('refuses wrong secrets, unknown clients, wider scopes and grants the client may not use', async () => {
    const base = { grant_type: 'client_credentials', client_id: service.clientId };
    expect(await oauthErrorOf(endpoint.handle({ ...base, client_secret: 'wrong' }))).toEqual({
      error: 'invalid_client',
      status: 401,
    });
    expect(
      await oauthErrorOf(endpoint.handle({ ...base, client_id: 'cl_nope', client_secret: 'x' })),
    ).toEqual({ error: 'invalid_client', status: 401 });
    expect(await oauthErrorOf(endpoint.handle({ grant_type: 'client_credentials' }))).toEqual({
      error: 'invalid_client',
      status: 401,
    });
    expect(
      await oauthErrorOf(
        endpoint.handle({
          ...base,
          client_secret: service.clientSecret,
          scope: 'tokens:read tokens:delegate',
        }),
      ),
    ).toEqual({
      error: 'invalid_scope',
      status: 400,
    });
    expect(
      await oauthErrorOf(
        endpoint.handle({ ...base, client_secret: service.clientSecret, grant_type: 'password' }),
      ),
    ).toEqual({
      error: 'unsupported_grant_type',
      status: 400,
    });
    expect(
      await oauthErrorOf(
        endpoint.handle({ ...base, client_secret: service.clientSecret, grant_type: 'refresh_token' }),
      ),
    ).toEqual({
      error: 'unauthorized_client',
      status: 400,
    });
  });

  it('rejects tokens that are expired, for another audience or issuer, or signed by another key', async () => {
    const key = await keys.signingKey();
    const sign = (
      claims: Record<string, unknown>,
      opts: { aud?: string; iss?: string; exp?: number | string } = {},
    ) =>
      new SignJWT({ org_id: 'org-a', client_id: 'c', scope: 'tokens:read', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
        .setIssuer(opts.iss ?? ISSUER)
        .setAudience(opts.aud ?? AUDIENCE)
        .setSubject('c')
        .setJti('j')
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '5m')
        .sign(key.privateKey);
    await expect(verifier.verify(await sign({}))).resolves.toMatchObject({ sub: 'c' });
    await expect(
      verifier.verify(await sign({}, { exp: Math.floor(Date.now() / 1000) - 60 })),
    ).rejects.toThrow(/expired/);
    await expect(verifier.verify(await sign({}, { aud: 'someone-else' }))).rejects.toBeInstanceOf(
      InvalidAccessTokenError,
    );
    await expect(verifier.verify(await sign({}, { iss: 'https://evil.example' }))).rejects.toBeInstanceOf(
      InvalidAccessTokenError,
    );
    const stranger = await generateKeyPair('ES256');
    const forged = await new SignJWT({ org_id: 'org-a', client_id: 'c', scope: 'tokens:read' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('c')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(stranger.privateKey);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    const [h, p] = (await sign({})).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
    void h;
    await expect(verifier.verify(none)).rejects.toBeInstanceOf(InvalidAccessTokenError);
  });

  it('refuses HS256 with the public key, a tampered payload, an unknown kid, another typ, and an ID token used as an access token', async () => {
    const key = await keys.signingKey();
    const good = (
      await endpoint.handle({
        grant_type: 'client_credentials',
        client_id: service.clientId,
        client_secret: service.clientSecret,
      })
    ).access_token;
    const [h, p, sig] = good.split('.');
    // Algorithm confusion: HMAC "signed" with the published public key as the secret.
    const publicJwk = (await keys.jwks()).keys[0] as Record<string, string>;
    const hs = await new SignJWT({ org_id: 'org-a', client_id: service.clientId, scope: 'tokens:read' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(service.clientId)
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await expect(verifier.verify(hs)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    // Tampering: a wider scope in the payload, same signature.
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...payload, scope: 'providers:write jobs:write' })).toString(
      'base64url',
    );
    await expect(verifier.verify(`${h}.${widened}.${sig}`)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    // A kid nobody published.
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const otherKid = Buffer.from(JSON.stringify({ ...header, kid: 'no-such-key' })).toString('base64url');
    await expect(verifier.verify(`${otherKid}.${p}.${sig}`)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    // An ID token (typ JWT, audience the client) is not an access token, even though we signed it.
    const idToken = await new IdTokenIssuer(keys, ISSUER).issue({
      sub: 'alice',
      orgId: 'org-a',
      clientId: service.clientId,
      ttlSeconds: 300,
    });
    await expect(verifier.verify(idToken)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    const sameClaimsWrongTyp = await new SignJWT({ ...payload })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
    await expect(verifier.verify(sameClaimsWrongTyp)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    await expect(verifier.verify(good)).resolves.toMatchObject({ sub: service.clientId });
  });

  it('creates one signing key when replicas start together, and stores no secret in clear', async () => {
    // Start from no key at all, as on a first deployment.
    await ds.query('DELETE FROM identity.signing_keys');
    const replicas = [1, 2, 3].map(() => new SigningKeysService(ds, cipher));
    const active = await Promise.all(replicas.map((r) => r.signingKey()));
    expect(new Set(active.map((k) => k.kid)).size).toBe(1);
    expect((await keys.jwks()).keys).toHaveLength(1);
    expect(await ds.query('SELECT count(*)::int AS n FROM identity.signing_keys')).toEqual([{ n: 1 }]);
    const [row] = await ds.query('SELECT private_jwk_enc, public_jwk FROM identity.signing_keys');
    expect(row.public_jwk.d).toBeUndefined();
    expect(row.private_jwk_enc).toMatch(/^v1\.k1\./);
    expect(row.private_jwk_enc).not.toContain('"d"');
    const dump = JSON.stringify(await ds.query('SELECT * FROM identity.oauth_clients'));
    expect(dump).not.toContain(service.clientSecret);
  });

  it('re-wraps signing keys under a new active key, after which the old key is not needed', async () => {
    const before = await new SigningKeysService(ds, cipher).signingKey();
    const K2 = `k2:${randomBytes(32).toString('base64')}`;
    const rotated = new SigningKeysService(ds, new EnvelopeCipher(parseKeyring(`${K1},${K2}`, 'k2')));
    expect(await rotated.rewrapAll()).toBeGreaterThanOrEqual(1);
    expect(await rotated.rewrapAll()).toBe(0);
    const newKeyOnly = new SigningKeysService(ds, new EnvelopeCipher(parseKeyring(K2)));
    expect((await newKeyOnly.signingKey()).kid).toBe(before.kid);
    await expect(new SigningKeysService(ds, cipher).signingKey()).rejects.toThrow(/unknown key id 'k2'/);
  });
});
