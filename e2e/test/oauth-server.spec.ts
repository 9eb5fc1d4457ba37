import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { ServiceProcess, freePort, systemEnv } from './service-processes';

const SECRET = randomBytes(32).toString('base64url');

/** The broker's own OAuth server (seed 003), driven by openid-client as a real client. */
describe('the broker’s OAuth endpoints', () => {
  let db: TestDatabase;
  let gateway: ServiceProcess;
  let gateway2: ServiceProcess;
  let broker: ServiceProcess;
  let base: string;

  /** The admin's client_credentials request for `jobs:read`, as a form body (the raw answer). */
  const adminJobsReadRequest = (): Promise<Response> =>
    fetch(`${base}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'admin',
        client_secret: SECRET,
        scope: 'jobs:read',
      }),
    });

  beforeAll(async () => {
    db = await createTestDatabase('oauth');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = systemEnv(db.url, port, 'oauth', {
      BOOTSTRAP_CLIENT_ID: 'admin',
      BOOTSTRAP_CLIENT_SECRET: SECRET,
      ACCESS_TOKEN_TTL_SECONDS: '300',
      TOKEN_RATE_LIMIT_PER_CLIENT: '20',
    });
    broker = new ServiceProcess('token-broker', await freePort(), env).start();
    gateway = new ServiceProcess('gateway', port, env).start();
    gateway2 = new ServiceProcess('gateway', await freePort(), env).start();
    await Promise.all([broker.ready(), gateway.ready(), gateway2.ready()]);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop(), gateway2?.stop(), broker?.stop()]);
    await db?.drop();
  });

  async function discover(secret = SECRET): Promise<oidc.Configuration> {
    return oidc.discovery(new URL(base), 'admin', secret, oidc.ClientSecretBasic(), {
      execute: [oidc.allowInsecureRequests],
      algorithm: 'oauth2',
    });
  }

  it('publishes RFC 8414 metadata and a JWKS without private parts', async () => {
    const config = await discover();
    expect(config.serverMetadata()).toMatchObject({
      issuer: base,
      token_endpoint: `${base}/api/v1/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: [
        'client_credentials',
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
    });
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      kid: expect.any(String),
    });
    expect(jwks.keys[0]['d']).toBeUndefined();
  });

  it('issues a client_credentials token to openid-client (HTTP Basic), with no-store', async () => {
    const config = await discover();
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'providers:read tokens:read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('providers:read tokens:read');
    expect(tokens.expires_in).toBe(300);
    const [, payload] = tokens.access_token.split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({
      iss: base,
      aud: `${base}/api`,
      sub: 'admin',
      client_id: 'admin',
      org_id: 'default',
    });
  });

  it('accepts client credentials in a form body and answers with no-store', async () => {
    const res = await adminJobsReadRequest();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toMatchObject({
      token_type: 'Bearer',
      scope: 'jobs:read',
      access_token: expect.any(String),
    });
  });

  it('answers RFC 6749 errors: invalid_client 401 with WWW-Authenticate, invalid_scope, unsupported_grant_type', async () => {
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${base}/api/v1/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const wrong = await post(
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await wrong.json()).toEqual({ error: 'invalid_client', error_description: expect.any(String) });

    const scope = await post({
      grant_type: 'client_credentials',
      client_id: 'admin',
      client_secret: SECRET,
      scope: 'everything',
    });
    expect(scope.status).toBe(400);
    expect(((await scope.json()) as { error: string }).error).toBe('invalid_scope');

    const grant = await post({ grant_type: 'password', client_id: 'admin', client_secret: SECRET });
    expect(grant.status).toBe(400);
    expect(((await grant.json()) as { error: string }).error).toBe('unsupported_grant_type');

    await expect(discover('wrong-secret').then((c) => oidc.clientCredentialsGrant(c))).rejects.toThrow();
  });

  it('rejects malformed bodies with 422 in the seed’s {detail:[{loc,msg,type}]} shape', async () => {
    const res = await fetch(`${base}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 42, tz: 'Mars/Olympus_Mons' }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { detail: { loc: string[]; msg: string; type: string }[] };
    expect(body.detail.map((d) => d.loc.join('.')).sort()).toEqual([
      'body.client_id',
      'body.grant_type',
      'body.tz',
    ]);
    for (const d of body.detail)
      expect(d).toEqual({ loc: expect.any(Array), msg: expect.any(String), type: expect.any(String) });
  });

  it('backs off wrong secrets per (address, client) across gateway replicas, with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 16; i++) {
      const target = i % 2 === 0 ? gateway : gateway2;
      const res = await fetch(`${target.url}/api/v1/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'brute-forced-client',
          client_secret: `guess-${i}`,
        }),
      });
      statuses.push(res.status);
      if (res.status === 429 && !retryAfter) retryAfter = res.headers.get('retry-after');
    }
    // 10 free failures, an 11th that starts the backoff, then refused before any secret check —
    // counted once across both replicas.
    expect(statuses.slice(0, 11)).toEqual(Array(11).fill(401));
    expect(statuses[11]).toBe(429);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Other clients from the same address keep their own budget.
    await expect(discover().then((c) => oidc.clientCredentialsGrant(c))).resolves.toMatchObject({
      token_type: 'bearer',
    });
  });

  it('never logs the client secret or an issued token', async () => {
    const config = await discover();
    const tokens = await oidc.clientCredentialsGrant(config);
    const logs = gateway.output.join('') + broker.output.join('');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(tokens.access_token);
  });

  // Last: it spends the admin's budget for this minute.
  it('limits requests per (address, client) per minute', async () => {
    // TOKEN_RATE_LIMIT_PER_CLIENT=20 here: the 21st request of one address for one client within a minute is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await adminJobsReadRequest();
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(20);
    expect(statuses.at(-1)).toBe(429);
  });
});
