import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA, UsersService } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { pgDump } from './pg-dump';
import { ServiceProcess, freePort, systemEnv } from './service-processes';
import { clientCredentialsToken } from './system-setup';

const SECRET = randomBytes(32).toString('base64url');
const PEPPER = randomBytes(32).toString('base64');

/** Seed 003 userinfo, principal-token and delegated-token through the gateway. */
describe('principal and delegated tokens', () => {
  let db: TestDatabase;
  let gateway: ServiceProcess;
  let broker: ServiceProcess;
  let base: string;
  let narrowDelegator: { clientId: string; clientSecret: string };

  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

  const token = (clientId: string, secret: string, scope?: string): Promise<string> =>
    clientCredentialsToken(base, clientId, secret, scope);

  const delegate = (bearer: string, body: unknown) =>
    fetch(`${base}/api/v1/oauth/delegated-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    db = await createTestDatabase('principal');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = systemEnv(db.url, port, 'principal', {
      SECRET_PEPPER: PEPPER,
      BOOTSTRAP_CLIENT_SECRET: SECRET,
      DELEGATED_TOKEN_TTL_SECONDS: '120',
    });
    broker = new ServiceProcess('token-broker', await freePort(), env).start();
    gateway = new ServiceProcess('gateway', port, env).start();
    await Promise.all([broker.ready(), gateway.ready()]);
    const ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-admin'),
    ).initialize();
    try {
      const users = new UsersService(ds);
      await users.upsert('default', {
        sub: 'alice',
        givenName: 'Alice',
        familyName: 'Liddell',
        email: 'alice@example.com',
      });
      const clients = new ClientsService(ds, new KeyedHasher(Buffer.from(PEPPER, 'base64')));
      await clients.ensureOrg('org-b', 'Org B');
      await users.upsert('org-b', { sub: 'bob' });
      narrowDelegator = await clients.createClient({
        orgId: 'default',
        name: 'narrow delegator',
        grantTypes: ['client_credentials'],
        scopes: ['providers:read', 'tokens:delegate'],
      });
    } finally {
      await ds.destroy();
    }
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop(), broker?.stop()]);
    await db?.drop();
  });

  it('issues a delegated token for a user of the caller’s org, narrowed, with act and a capped lifetime', async () => {
    const admin = await token('admin', SECRET);
    const res = await delegate(admin, { sub: 'alice', scopes: ['providers:read'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as {
      access_token: string;
      scope: string;
      expires_in: number;
      token_type: string;
    };
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'providers:read', expires_in: 120 });
    const claims = claimsOf(body.access_token);
    expect(claims).toMatchObject({
      sub: 'alice',
      org_id: 'default',
      scope: 'providers:read',
      act: { sub: 'admin', client_id: 'admin' },
    });
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(120);

    // The delegated token works as alice: userinfo is hers.
    const info = await fetch(`${base}/api/v1/oauth/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(await info.json()).toEqual({
      sub: 'alice',
      given_name: 'Alice',
      family_name: 'Liddell',
      email: 'alice@example.com',
      registered_at: expect.any(String),
      name: 'Alice Liddell',
    });
    // ...and cannot delegate further.
    const again = await delegate(body.access_token, { sub: 'alice' });
    expect(again.status).toBe(403);
  });

  it('never delegates wider than the caller, across teams, to unknown users, or without the delegate scope', async () => {
    const narrow = await token(narrowDelegator.clientId, narrowDelegator.clientSecret);
    const wider = await delegate(narrow, { sub: 'alice', scopes: ['tokens:read'] });
    expect(wider.status).toBe(403);
    expect(await wider.json()).toEqual({ detail: expect.stringContaining('tokens:read') });
    // Without `scopes`, everything the caller holds except the delegate scope itself.
    const defaulted = (await (await delegate(narrow, { sub: 'alice' })).json()) as { scope: string };
    expect(defaulted.scope).toBe('providers:read');

    const admin = await token('admin', SECRET);
    expect((await delegate(admin, { sub: 'alice', team_id: 'org-b' })).status).toBe(403);
    expect((await delegate(admin, { sub: 'bob' })).status).toBe(404);
    expect((await delegate(await token('admin', SECRET, 'providers:read'), { sub: 'alice' })).status).toBe(
      403,
    );

    const invalid = await delegate(admin, { scopes: ['everything'] });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { detail: { loc: unknown[] }[] }).detail.map((d) => d.loc)).toEqual([
      ['body', 'sub'],
      ['body', 'scopes', 0],
    ]);
  });

  it('gives the authenticated principal a fresh token from the header, the refreshed-token header or the cookie', async () => {
    const admin = await token('admin', SECRET, 'providers:read jobs:read');
    const viaHeader = await fetch(`${base}/api/v1/oauth/principal-token`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(viaHeader.status).toBe(200);
    const fresh = (await viaHeader.json()) as { access_token: string; scope: string };
    expect(fresh.scope).toBe('providers:read jobs:read');
    expect(claimsOf(fresh.access_token)).toMatchObject({ sub: 'admin', org_id: 'default' });
    expect(claimsOf(fresh.access_token)['jti']).not.toEqual(claimsOf(admin)['jti']);

    const viaRefreshed = await fetch(`${base}/api/v1/oauth/principal-token`, {
      headers: { 'refreshed-token': admin },
    });
    expect(viaRefreshed.status).toBe(200);

    const viaCookie = await fetch(`${base}/api/v1/oauth/principal-token`, {
      headers: { cookie: `token=${admin}`, 'x-requested-with': 'fetch' },
    });
    expect(viaCookie.status).toBe(200);
    // A cookie alone could be a cross-site request: refused.
    const csrf = await fetch(`${base}/api/v1/oauth/principal-token`, {
      headers: { cookie: `token=${admin}` },
    });
    expect(csrf.status).toBe(403);

    const none = await fetch(`${base}/api/v1/oauth/principal-token`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toEqual({ detail: 'Not authenticated' });
    const bad = await fetch(`${base}/api/v1/oauth/userinfo`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
  });

  it('describes a service account in userinfo', async () => {
    const admin = await token('admin', SECRET);
    const info = await fetch(`${base}/api/v1/oauth/userinfo`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(await info.json()).toEqual({
      sub: 'admin',
      given_name: null,
      family_name: null,
      email: null,
      registered_at: expect.any(String),
      name: 'bootstrap admin',
    });
  });

  it('leaves no client secret, issued token or private key in clear in a database dump', async () => {
    const issued = [
      await token('admin', SECRET),
      await token(narrowDelegator.clientId, narrowDelegator.clientSecret),
    ];
    const dump = pgDump(db.url);
    expect(dump).toContain('identity.oauth_clients'); // the dump is real and has the tables
    for (const secret of [SECRET, narrowDelegator.clientSecret, ...issued])
      expect(dump).not.toContain(secret);
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { x: string }[] };
    expect(dump).toContain(jwks.keys[0].x); // public half stored in clear, as it should be...
    expect(dump).not.toMatch(/"d"\s*:/); // ...and no private JWK component anywhere
  });
});
