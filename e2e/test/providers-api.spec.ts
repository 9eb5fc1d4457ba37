import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { KeyedHasher, EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA } from '@broker/identity';
import { REGISTRY_SCHEMA, SecureConfigsService } from '@broker/registry';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, sleep, TestDatabase } from '@broker/testing';
import { AuthorizationsImport, AuthorizationsService, TOKENS_SCHEMA } from '@broker/tokens';
import { ServiceProcess, freePort, systemEnv } from './service-processes';
import { clientCredentialsToken } from './system-setup';

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const K1 = `k1:${randomBytes(32).toString('base64')}`;
const K2 = `k2:${randomBytes(32).toString('base64')}`;
const K3 = `k3:${randomBytes(32).toString('base64')}`;

interface Revocation {
  body: URLSearchParams;
  authorization: string | undefined;
}

/** A provider's RFC 7009 revocation endpoint on loopback, recording what it receives. */
class RevocationEndpoint {
  readonly received: Revocation[] = [];
  delayMs = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          body: new URLSearchParams(Buffer.concat(chunks).toString()),
          authorization: req.headers.authorization,
        });
        setTimeout(() => res.writeHead(200).end(), this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Providers and jobs of seed 000 through the gateway, with the registry, the worker and real PostgreSQL/Redis. */
describe('providers and jobs API', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let base: string;
  const services: Record<string, ServiceProcess> = {};
  let admin: string;
  let readOnly: string;
  let otherOrg: string;
  let tokensDs: DataSource;
  let authorizations: AuthorizationsService;
  const revocation = new RevocationEndpoint();
  let upstream: string;

  const token = (clientId: string, secret: string, scope?: string): Promise<string> =>
    clientCredentialsToken(base, clientId, secret, scope);

  const api = (path: string, bearer: string | undefined, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${base}/api/v2/externalOAuth${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body:
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? init.body
            : JSON.stringify(init.body),
    });

  async function start(app: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = app === 'gateway' ? Number(new URL(base).port) : await freePort();
    const service = new ServiceProcess(app, port, { ...env, ...extra }).start();
    services[app] = service;
    await service.ready();
    return service;
  }

  async function create(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await api('/providers/', admin, { method: 'POST', body });
    expect(res.status).toBe(201);
    return (await res.json()) as Record<string, unknown>;
  }

  async function waitForJob(
    location: string,
    until: (job: Record<string, unknown>) => boolean,
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await fetch(`${base}${location}`, { headers: { authorization: `Bearer ${admin}` } });
      const job = (await res.json()) as Record<string, unknown>;
      if (until(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${location} is still ${JSON.stringify(job)}`);
      await sleep(250);
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('providers');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    upstream = await revocation.start();
    env = systemEnv(db.url, port, 'providers', {
      BOOTSTRAP_CLIENT_SECRET: ADMIN_SECRET,
      ENCRYPTION_KEYS: K1,
      // The test provider's revocation endpoint is on loopback (a development setting), on its own port.
      EGRESS_ALLOW_LOOPBACK: 'true',
      EGRESS_ALLOWED_PORTS: `443,${new URL(upstream).port}`,
      // One authorization per deletion batch and one revocation at a time: a kill lands between checkpoints.
      DELETION_BATCH: '1',
      DELETION_REVOKE_CONCURRENCY: '1',
    });
    await Promise.all(['token-broker', 'provider-registry', 'worker', 'gateway'].map((app) => start(app)));
    admin = await token('admin', ADMIN_SECRET);
    readOnly = await token('admin', ADMIN_SECRET, 'providers:read jobs:read');
    const identity = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-admin'),
    ).initialize();
    try {
      const clients = new ClientsService(
        identity,
        new KeyedHasher(Buffer.from(env['SECRET_PEPPER'], 'base64')),
      );
      await clients.ensureOrg('org-b', 'Org B');
      const other = await clients.createClient({
        orgId: 'org-b',
        name: 'b',
        grantTypes: ['client_credentials'],
        scopes: ['providers:read', 'providers:write', 'jobs:read', 'jobs:write'],
      });
      otherOrg = await token(other.clientId, other.clientSecret);
    } finally {
      await identity.destroy();
    }
    tokensDs = await new DataSource(
      domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'e2e-tokens'),
    ).initialize();
    authorizations = new AuthorizationsService(tokensDs, new EnvelopeCipher(parseKeyring(K1)));
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await tokensDs?.destroy();
    await revocation.stop();
    await db?.drop();
  });

  it('creates providers of every type, cloud and self-hosted, and never returns the secret', async () => {
    const types = ['github', 'gitlab', 'bitbucket', 'google', 'box', 'microsoft', 'jira', 'confluence'];
    for (const type of types) {
      const created = await create({
        type,
        name: `${type} app`,
        clientId: `${type}-id`,
        clientSecret: `${type}-secret-value`,
      });
      expect(created).toMatchObject({
        type,
        status: 'active',
        clientId: `${type}-id`,
        customScopes: [],
        skipConsent: false,
        orgId: 'default',
      });
      expect(JSON.stringify(created)).not.toContain(`${type}-secret-value`);
      expect(created['secureConfigId']).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
      expect(created['metadata']).toEqual({
        baseUrl: expect.stringMatching(/^https:\/\//),
        host: expect.any(String),
        settingsUrl: expect.stringMatching(/^https:\/\//),
      });
    }
    const sharepoint = await create({
      type: 'sharepoint',
      name: 'SharePoint',
      clientId: 'sp',
      clientSecret: 's',
      host: 'contoso.sharepoint.com',
      tenant: 'contoso.onmicrosoft.com',
    });
    expect((sharepoint['metadata'] as Record<string, string>)['host']).toBe('contoso.sharepoint.com');
    const ghes = await create({
      type: 'github',
      name: 'GHES',
      clientId: 'ghes',
      clientSecret: 's',
      host: 'github.example.com',
      scopes: ['repo', 'read:org'],
      skipConsent: true,
    });
    expect(ghes).toMatchObject({
      customScopes: ['repo', 'read:org'],
      skipConsent: true,
      metadata: { host: 'github.example.com', baseUrl: 'https://github.example.com' },
    });

    const byHost = (await (await api('/providers/?host=github.example.com', admin)).json()) as {
      data: { id: string }[];
    };
    expect(byHost.data.map((p) => p.id)).toEqual([ghes['id']]);
    const byTypes = (await (
      await api('/providers/?types=box&types=jira&orderBy=createdAt', admin)
    ).json()) as { data: { type: string }[] };
    expect(byTypes.data.map((p) => p.type)).toEqual(['box', 'jira']);
    const got = await api(`/providers/${ghes['id']}/`, readOnly);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(ghes);
  });

  it('answers 422 naming every bad field of a create body', async () => {
    const res = await api('/providers/', admin, {
      method: 'POST',
      body: { type: 'myspace', scopes: 'repo', skipConsent: 'yes', colour: 'red' },
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { message: string; errorFields: { name: string; message: string }[] };
    expect(body.message).toEqual(expect.any(String));
    expect(body.errorFields.map((f) => f.name).sort()).toEqual([
      'clientId',
      'clientSecret',
      'colour',
      'name',
      'scopes',
      'skipConsent',
      'type',
    ]);
    const malformed = await api('/providers/', admin, { method: 'POST', body: '{"type": ' });
    expect(malformed.status).toBe(422);
    expect(await malformed.json()).toEqual({
      message: 'The request body is not valid JSON.',
      errorFields: [{ name: 'body', message: 'must be valid JSON' }],
    });
    const settings = await api('/providers/', admin, {
      method: 'POST',
      body: { type: 'github', name: 'x', clientId: 'x', clientSecret: 'x', tenant: 'nope' },
    });
    expect(settings.status).toBe(422);
    expect(
      ((await settings.json()) as { errorFields: { name: string }[] }).errorFields.map((f) => f.name),
    ).toContain('tenant');
  });

  it('refuses provider URLs that point inside the network (SSRF)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'gitlab', baseUrl: 'https://169.254.169.254/' }, 'baseUrl'],
      [{ type: 'gitlab', baseUrl: 'https://user:pass@gitlab.example.com/' }, 'baseUrl'],
      [{ type: 'gitlab', baseUrl: 'http://gitlab.example.com/' }, 'baseUrl'],
      [{ type: 'gitlab', baseUrl: 'https://10.1.2.3/' }, 'baseUrl'],
      [{ type: 'gitlab', baseUrl: 'https://[::ffff:169.254.169.254]/' }, 'baseUrl'],
      [{ type: 'gitlab', baseUrl: 'https://gitlab.example.com:8443/' }, 'baseUrl'],
      [
        {
          type: 'oauth2',
          endpoints: { authorizationUrl: 'https://idp.example.com/a', tokenUrl: 'https://100.64.0.1/token' },
        },
        'endpoints.tokenUrl',
      ],
    ];
    for (const [settings, field] of cases) {
      const res = await api('/providers/', admin, {
        method: 'POST',
        body: { name: 'x', clientId: 'x', clientSecret: 'x', ...settings },
      });
      expect({ settings, status: res.status }).toEqual({ settings, status: 422 });
      expect(
        ((await res.json()) as { errorFields: { name: string }[] }).errorFields.map((f) => f.name),
      ).toContain(field);
    }
  });

  it('updates within the allowed transitions and hides other orgs’ providers (404)', async () => {
    const p = await create({ type: 'box', name: 'Box', clientId: 'box', clientSecret: 'first' });
    const patched = await api(`/providers/${p['id']}/`, admin, {
      method: 'PATCH',
      body: { name: 'Box 2', skipConsent: true, status: 'invalid', clientSecret: 'second' },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      name: 'Box 2',
      skipConsent: true,
      status: 'invalid',
      secureConfigId: p['secureConfigId'],
    });
    const deleting = await api(`/providers/${p['id']}/`, admin, {
      method: 'PATCH',
      body: { status: 'deleting' },
    });
    expect(deleting.status).toBe(422);
    expect(((await deleting.json()) as { errorFields: { name: string }[] }).errorFields[0].name).toBe(
      'status',
    );
    const empty = await api(`/providers/${p['id']}/`, admin, { method: 'PATCH', body: {} });
    expect(empty.status).toBe(422);

    for (const [method, body] of [['GET'], ['PATCH', { name: 'mine now' }], ['DELETE']] as [
      string,
      unknown?,
    ][]) {
      const res = await api(`/providers/${p['id']}/`, otherOrg, { method, body });
      expect({ method, status: res.status }).toEqual({ method, status: 404 });
      expect(await res.json()).toEqual({ message: expect.any(String), errorFields: [] });
    }
    const list = (await (await api('/providers/', otherOrg)).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    const badId = await api('/providers/not-a-uuid/', admin);
    expect(badId.status).toBe(422);
    expect(await badId.json()).toEqual({
      message: expect.any(String),
      errorFields: [{ name: 'providerId', message: 'must be a UUID' }],
    });
  });

  it('requires a token (401) and the write scopes (403) on every route', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const routes: [string, string, unknown?][] = [
      ['GET', '/providers/'],
      ['POST', '/providers/', {}],
      ['GET', `/providers/${id}/`],
      ['PATCH', `/providers/${id}/`, { name: 'x' }],
      ['DELETE', `/providers/${id}/`],
      ['GET', `/jobs/${id}/`],
      ['POST', '/jobs/', { type: 'STATS' }],
    ];
    for (const [method, path, body] of routes) {
      const anonymous = await api(path, undefined, { method, body });
      expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 });
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    for (const [method, path, body] of routes.filter(([m]) => m !== 'GET')) {
      const narrow = await api(path, readOnly, { method, body });
      expect({ method, path, status: narrow.status }).toEqual({ method, path, status: 403 });
    }
  });

  it('deletes a provider as a job: revokes and removes its authorizations, then the secret and the provider', async () => {
    const p = await create({
      type: 'oauth2',
      name: 'Local',
      clientId: 'local-client',
      clientSecret: 'local-secret',
      endpoints: {
        authorizationUrl: `${upstream}/authorize`,
        tokenUrl: `${upstream}/token`,
        revocationUrl: `${upstream}/revoke`,
      },
    });
    const ids: string[] = [];
    for (const user of ['u1', 'u2', 'u3']) {
      const a = await authorizations.store('default', {
        providerId: String(p['id']),
        userId: user,
        oauthClientId: 'local-client',
        scopes: ['read'],
        tokens: { accessToken: `access-${user}`, refreshToken: `refresh-${user}` },
      });
      ids.push(a.id);
    }
    const res = await api(`/providers/${p['id']}/`, admin, { method: 'DELETE' });
    expect(res.status).toBe(202);
    const { location } = (await res.json()) as { location: string };
    expect(location).toMatch(/^\/api\/v2\/externalOAuth\/jobs\/[0-9a-f-]{36}\/$/);
    expect(res.headers.get('location')).toBe(location);
    expect(
      ((await (await api(`/providers/${p['id']}/`, admin)).json()) as { status: string }).status,
    ).toMatch(/deleting/);

    const job = await waitForJob(location, (j) => j['status'] === 'COMPLETED' || j['status'] === 'ERROR');
    expect(job).toMatchObject({
      type: 'DELETE_PROVIDER',
      status: 'COMPLETED',
      orgId: 'default',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    const details = Object.fromEntries(
      (job['details'] as { name: string; value: string }[]).map((d) => [d.name, d.value]),
    );
    expect(details['provider_id']).toBe(p['id']);
    expect(details['authorization_ids'].split(',').sort()).toEqual([...ids].sort());
    expect(details['revoked']).toBe('3');
    const revoked = revocation.received.map((r) => r.body.get('token')).sort();
    expect(revoked).toEqual(['refresh-u1', 'refresh-u2', 'refresh-u3']);
    for (const r of revocation.received) {
      expect(r.body.get('token_type_hint')).toBe('refresh_token');
      // RFC 6749 §2.3.1: HTTP Basic with form-encoded id and secret (or, for post, in the body).
      const basic = r.authorization?.startsWith('Basic ')
        ? Buffer.from(r.authorization.slice(6), 'base64').toString().split(':').map(decodeURIComponent)
        : null;
      expect(basic ?? [r.body.get('client_id'), r.body.get('client_secret')]).toEqual([
        'local-client',
        'local-secret',
      ]);
    }
    expect((await api(`/providers/${p['id']}/`, admin)).status).toBe(404);
    expect(await authorizations.forProvider('default', String(p['id']))).toEqual([]);
    expect((await api(location.replace('/api/v2/externalOAuth', ''), otherOrg)).status).toBe(404);
  });

  it('finishes a deletion whose worker was killed mid-job, once a worker runs again', async () => {
    revocation.received.length = 0;
    revocation.delayMs = 1_500;
    const p = await create({
      type: 'oauth2',
      name: 'Slow',
      clientId: 'slow-client',
      clientSecret: 'slow-secret',
      endpoints: {
        authorizationUrl: `${upstream}/authorize`,
        tokenUrl: `${upstream}/token`,
        revocationUrl: `${upstream}/revoke`,
      },
    });
    for (const user of ['s1', 's2', 's3', 's4']) {
      await authorizations.store('default', {
        providerId: String(p['id']),
        userId: user,
        oauthClientId: 'slow-client',
        scopes: [],
        tokens: { accessToken: `a-${user}`, refreshToken: `r-${user}` },
      });
    }
    const { location } = (await (
      await api(`/providers/${p['id']}/`, admin, { method: 'DELETE' })
    ).json()) as { location: string };
    await waitForJob(location, (j) => j['status'] === 'RUNNING', 20_000);
    // The first batch is revoked and removed; the second one's revocation is in flight when the worker dies.
    while (revocation.received.length < 2) await sleep(50);
    await services['worker'].kill();
    const first = revocation.received[0].body.get('token');
    expect((await waitForJob(location, () => true))['status']).toBe('RUNNING');
    revocation.delayMs = 0;
    await start('worker');
    const job = await waitForJob(
      location,
      (j) => j['status'] === 'COMPLETED' || j['status'] === 'ERROR',
      90_000,
    );
    expect(job['status']).toBe('COMPLETED');
    expect(await authorizations.forProvider('default', String(p['id']))).toEqual([]);
    expect((await api(`/providers/${p['id']}/`, admin)).status).toBe(404);
    // Resumed from its checkpoint: the batch finished before the kill is not revoked again.
    expect(revocation.received.filter((r) => r.body.get('token') === first)).toHaveLength(1);
    expect(new Set(revocation.received.map((r) => r.body.get('token')))).toEqual(
      new Set(['r-s1', 'r-s2', 'r-s3', 'r-s4']),
    );
    const details = Object.fromEntries(
      (job['details'] as { name: string; value: string }[]).map((d) => [d.name, d.value]),
    );
    expect(details).toMatchObject({ total: '4', removed: '4', remaining: '0' });
    // One audit row (and one authorization.revoked) per removed authorization, none twice.
    const audits = (await tokensDs.query(
      `SELECT authorization_id FROM tokens.audit_events WHERE type = 'unlinked' AND detail LIKE $1`,
      [`%"jobId":"${location.split('/').at(-2)}"%`],
    )) as { authorization_id: string }[];
    expect(audits).toHaveLength(4);
    expect(new Set(audits.map((a) => a.authorization_id)).size).toBe(4);
  });

  it('runs a STATS job: authorizations by status and refresh outcomes per provider', async () => {
    const p = await create({ type: 'gitlab', name: 'Counted', clientId: 'c', clientSecret: 's' });
    for (const user of ['a', 'b', 'c']) {
      await authorizations.store('default', {
        providerId: String(p['id']),
        userId: user,
        oauthClientId: 'c',
        scopes: [],
        tokens: { accessToken: `t-${user}` },
      });
    }
    await tokensDs.query(
      `UPDATE tokens.authorizations SET status = 'expired', refresh_failed = 2 WHERE provider_id = $1 AND user_id = 'c'`,
      [p['id']],
    );
    await tokensDs.query(
      `UPDATE tokens.authorizations SET refresh_succeeded = 5 WHERE provider_id = $1 AND user_id = 'a'`,
      [p['id']],
    );
    const res = await api('/jobs/', admin, { method: 'POST', body: { type: 'STATS' } });
    expect(res.status).toBe(202);
    const { location } = (await res.json()) as { location: string };
    const job = await waitForJob(location, (j) => j['status'] === 'COMPLETED');
    const details = Object.fromEntries(
      (job['details'] as { name: string; value: string }[]).map((d) => [d.name, d.value]),
    );
    expect(details).toMatchObject({
      [`provider.${p['id']}.active`]: '2',
      [`provider.${p['id']}.expired`]: '1',
      [`provider.${p['id']}.invalidOAuthClient`]: '0',
      [`provider.${p['id']}.refresh.succeeded`]: '5',
      [`provider.${p['id']}.refresh.failed`]: '2',
    });
    const bad = await api('/jobs/', admin, { method: 'POST', body: { type: 'DELETE_PROVIDER' } });
    expect(bad.status).toBe(422);
    expect(
      ((await bad.json()) as { errorFields: { name: string }[] }).errorFields.map((f) => f.name),
    ).toEqual(['type']);
  });

  it('rotates the encryption key online while providers are created and updated', async () => {
    const before = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        create({ type: 'box', name: `r${i}`, clientId: `r${i}`, clientSecret: `before-${i}` }),
      ),
    );
    const expected = new Map<string, string>(
      before.map((p, i) => [String(p['secureConfigId']), `before-${i}`]),
    );
    // New keyring, k2 active; the registry and the worker restart with it while the API is in use.
    const rotatedEnv = { ENCRYPTION_KEYS: `${K1},${K2}`, ENCRYPTION_ACTIVE_KEY_ID: 'k2' };
    const traffic = (async () => {
      for (let i = 0; i < 6; i++) {
        const res = await api(`/providers/${before[i]['id']}/`, admin, {
          method: 'PATCH',
          body: { clientSecret: `during-${i}` },
        });
        if (res.status === 200) expected.set(String(before[i]['secureConfigId']), `during-${i}`);
        const made = await api('/providers/', admin, {
          method: 'POST',
          body: { type: 'box', name: `n${i}`, clientId: `n${i}`, clientSecret: `new-${i}` },
        });
        if (made.status === 201)
          expected.set(
            String(((await made.json()) as { secureConfigId: string }).secureConfigId),
            `new-${i}`,
          );
        await sleep(100);
      }
    })();
    await services['provider-registry'].stop();
    await services['worker'].stop();
    await Promise.all([start('provider-registry', rotatedEnv), start('worker', rotatedEnv)]);
    await traffic;

    const registryDs = await new DataSource(
      domainDataSourceOptions(db.url, REGISTRY_SCHEMA, 'e2e-registry'),
    ).initialize();
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const [{ n }] = (await registryDs.query(
          `SELECT count(*)::int AS n FROM registry.secure_configs WHERE key_id <> 'k2'`,
        )) as { n: number }[];
        const [{ open }] = (await registryDs.query(
          `SELECT count(*)::int AS open FROM registry.jobs WHERE type = 'ROTATE_KEYS' AND status <> 'COMPLETED'`,
        )) as { open: number }[];
        if (n === 0 && open === 0) break;
        if (Date.now() > deadline) throw new Error(`${n} secrets still under k1`);
        await sleep(250);
      }
      const k2Only = new SecureConfigsService(registryDs, new EnvelopeCipher(parseKeyring(K2)));
      expect(expected.size).toBeGreaterThanOrEqual(6);
      for (const [id, secret] of expected) expect(await k2Only.reveal('default', id)).toBe(secret);
      const [{ done }] = (await registryDs.query(
        `SELECT count(*)::int AS done FROM registry.jobs WHERE type = 'ROTATE_KEYS' AND status = 'COMPLETED'`,
      )) as { done: number }[];
      expect(done).toBeGreaterThanOrEqual(1);
    } finally {
      await registryDs.destroy();
    }
  });

  it('resumes a key rotation killed half-way from its checkpoint, without re-wrapping what was done', async () => {
    // 400 token sets under k2 (imported in bulk, each envelope-encrypted as a consent stores it).
    const p = await create({ type: 'box', name: 'Rotated', clientId: 'rot', clientSecret: 'rot-secret' });
    const importer = new AuthorizationsImport(
      tokensDs,
      new EnvelopeCipher(parseKeyring(`${K1},${K2}`, 'k2')),
    );
    const tokens = new Map<string, string>();
    const ids = await importer.insertMany(
      'default',
      Array.from({ length: 400 }, (_, i) => {
        tokens.set(`rot-${i}`, `access-rot-${i}`);
        return {
          providerId: String(p['id']),
          userId: `rot-${i}`,
          oauthClientId: 'rot',
          scopes: [],
          accessToken: `access-rot-${i}`,
          refreshToken: `refresh-rot-${i}`,
          expiresAt: new Date(Date.now() + 3_600_000),
        };
      }),
    );
    expect(ids.every(Boolean)).toBe(true);
    // k3 active; a slow pace (small batches, 40 rows a second) so the kill lands mid-table.
    const k3Env = {
      ENCRYPTION_KEYS: `${K1},${K2},${K3}`,
      ENCRYPTION_ACTIVE_KEY_ID: 'k3',
      KEY_ROTATION_BATCH: '10',
      KEY_ROTATION_ROWS_PER_SECOND: '40',
    };
    await services['provider-registry'].stop();
    await services['worker'].stop();
    await start('provider-registry', k3Env);
    await start('worker', k3Env);
    const underK3 = async () =>
      (await tokensDs.query(`SELECT id, version FROM tokens.credentials WHERE key_id = 'k3'`)) as {
        id: string;
        version: number;
      }[];
    const deadline = Date.now() + 60_000;
    while ((await underK3()).length < 100) {
      if (Date.now() > deadline) throw new Error('the rotation did not start');
      await sleep(100);
    }
    await services['worker'].kill();
    const done = new Map((await underK3()).map((r) => [r.id, r.version]));
    const [{ left }] = (await tokensDs.query(
      `SELECT count(*)::int AS left FROM tokens.credentials WHERE key_id <> 'k3'`,
    )) as { left: number }[];
    expect(left).toBeGreaterThan(0); // killed half-way
    await start('worker', { ...k3Env, KEY_ROTATION_ROWS_PER_SECOND: '0' });
    const registryDs = await new DataSource(
      domainDataSourceOptions(db.url, REGISTRY_SCHEMA, 'e2e-registry-k3'),
    ).initialize();
    try {
      let job: { status: string; details: { name: string; value: string }[] } | undefined;
      for (const until = Date.now() + 90_000; ; ) {
        [job] = (await registryDs.query(
          `SELECT status, details FROM registry.jobs WHERE type = 'ROTATE_KEYS' ORDER BY created_at DESC LIMIT 1`,
        )) as (typeof job)[];
        if (job?.status === 'COMPLETED' || job?.status === 'ERROR' || Date.now() > until) break;
        await sleep(250);
      }
      expect(job?.status).toBe('COMPLETED');
      // What the killed worker had re-wrapped was not written again: same version, still under k3.
      const after = new Map((await underK3()).map((r) => [r.id, r.version]));
      for (const [id, version] of done) expect(after.get(id)).toBe(version);
      const [{ rest }] = (await tokensDs.query(
        `SELECT count(*)::int AS rest FROM tokens.credentials WHERE key_id <> 'k3'`,
      )) as { rest: number }[];
      expect(rest).toBe(0);
      const details = Object.fromEntries((job?.details ?? []).map((d) => [d.name, d.value]));
      expect(details['remaining']).toBe('0');
      // Every value still opens, with k3 alone.
      const k3Only = new AuthorizationsService(tokensDs, new EnvelopeCipher(parseKeyring(K3)));
      for (const id of ids.slice(0, 400).filter((_, i) => i % 37 === 0)) {
        const t = await k3Only.tokens('default', String(id));
        expect(t?.accessToken).toMatch(/^access-rot-\d+$/);
      }
      expect(
        await new SecureConfigsService(registryDs, new EnvelopeCipher(parseKeyring(K3))).reveal(
          'default',
          String(p['secureConfigId']),
        ),
      ).toBe('rot-secret');
    } finally {
      await registryDs.destroy();
    }
  });
});
