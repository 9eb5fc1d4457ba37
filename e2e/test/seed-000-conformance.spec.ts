import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { createTestDatabase, signInAtDemoIdp, sleep, TestDatabase } from '@broker/testing';
import { DemoIdpProcess, ServiceProcess, freePort, systemEnv } from './service-processes';

interface SeedOperation {
  title: string;
  method: string;
  path: string;
  responses: { status: number; schema: string }[];
}

/** Operations and component schemas of seed 000, transcribed into a fixture (see its `source`). */
const SEED = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'seed-000-api.json'), 'utf8')) as {
  operations: SeedOperation[];
  schemas: Record<string, Record<string, unknown>>;
};

/**
 * The seed's schemas declare no required fields and allow extra ones; conformance here is stricter:
 * every documented field is present (optional: only those listed) and no undocumented one appears.
 */
function strict(schema: Record<string, unknown>, optional: string[] = []): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...schema };
  if (copy['properties'] && typeof copy['properties'] === 'object') {
    const props = copy['properties'] as Record<string, Record<string, unknown>>;
    copy['properties'] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, strict(v, optional.filter((o) => o.startsWith(`${k}.`)).map((o) => o.slice(k.length + 1)))]));
    copy['required'] = Object.keys(props).filter((k) => !optional.includes(k));
    copy['additionalProperties'] = false;
  }
  if (copy['items'] && typeof copy['items'] === 'object') copy['items'] = strict(copy['items'] as Record<string, unknown>, optional);
  return copy;
}

/** Fields the seed documents that are legitimately absent in some states. */
const USER_FIELDS = ['description', 'email', 'familyName', 'givenName', 'locale', 'name', 'nickName', 'picture', 'sub'];
const OPTIONAL_FIELDS: Record<string, string[]> = {
  'handler.jobStatusResponse': ['startedAt', 'finishedAt'],
  'httpres.ErrorResponse': [],
  // Set only when the provider says when refresh tokens expire; the user fields the provider gave.
  'handler.CallbackResponse': ['authorizedProvider.refreshTokenExpiresAt', ...USER_FIELDS.map((f) => `userInfo.${f}`)],
  'handler.AuthorizedOAuthProvidersListResponse': ['data.refreshTokenExpiresAt'],
  'handler.GetAccessTokenResponse': ['authorizedOauthProvider.refreshTokenExpiresAt', 'expiresAt'],
  'oauth.User': USER_FIELDS,
};

/** The two generic provider types (`oidc`, `oauth2`) extend the seed's type enum. */
function withGenericTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withGenericTypes);
  if (!schema || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, withGenericTypes(v)])) as Record<string, unknown>;
  if (Array.isArray(copy['enum']) && (copy['enum'] as string[]).includes('confluence')) copy['enum'] = [...(copy['enum'] as string[]), 'oidc', 'oauth2'];
  return copy;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();
function validatorFor(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const schema = SEED.schemas[name];
    if (!schema) throw new Error(`seed 000 has no schema ${name}`);
    v = ajv.compile(strict(withGenericTypes(schema) as Record<string, unknown>, OPTIONAL_FIELDS[name] ?? []));
    validators.set(name, v);
  }
  return v;
}

function operation(method: string, path: string): SeedOperation {
  const op = SEED.operations.find((o) => o.method === method && o.path.toLowerCase() === path.toLowerCase());
  if (!op) throw new Error(`seed 000 has no operation ${method} ${path}`);
  return op;
}

/** Checks a response against the seed: a documented status, and a body of that status's schema. */
async function conform(method: string, template: string, res: Response): Promise<unknown> {
  const op = operation(method, template);
  const documented = op.responses.find((r) => r.status === res.status);
  expect({ op: `${method} ${template}`, status: res.status, documented: Boolean(documented) }).toEqual({ op: `${method} ${template}`, status: res.status, documented: true });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (documented?.schema === 'None') expect(text).toBe('');
  if (documented?.schema && documented.schema !== 'None') {
    const validate = validatorFor(documented.schema);
    const ok = validate(body);
    expect({ op: `${method} ${template} ${res.status}`, errors: ok ? null : validate.errors }).toEqual({ op: `${method} ${template} ${res.status}`, errors: null });
  }
  return body;
}

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const PROVIDER_SECRET = randomBytes(24).toString('base64url');

/** Walks every provider and job operation of seed 000 and checks statuses and bodies against its schemas. */
describe('seed 000 conformance: providers and jobs', () => {
  let db: TestDatabase;
  let base: string;
  let admin: string;
  let idp: DemoIdpProcess;
  const services: ServiceProcess[] = [];

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    db = await createTestDatabase('conformance');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = new DemoIdpProcess(await freePort(), randomBytes(16).toString('hex'), [`${base}/api/v1/oauth/upstream/callback`], 'broker-gateway', {
      DEMO_IDP_CLIENTS: JSON.stringify([{ client_id: 'conformance', client_secret: PROVIDER_SECRET, redirect_uris: [`${base}/api/v2/externalOAuth/providers/callback/`] }]),
    });
    await idp.start();
    const env = systemEnv(db.url, port, 'conformance', {
      BOOTSTRAP_CLIENT_SECRET: ADMIN_SECRET,
      EGRESS_ALLOW_LOOPBACK: 'true',
      EGRESS_ALLOWED_PORTS: `443,${idp.port}`,
    });
    for (const app of ['token-broker', 'provider-registry', 'worker']) services.push(new ServiceProcess(app, await freePort(), env).start());
    services.push(new ServiceProcess('gateway', port, env).start());
    await Promise.all(services.map((s) => s.ready()));
    const res = await fetch(`${base}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'admin', client_secret: ADMIN_SECRET }),
    });
    admin = ((await res.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await idp?.stop();
    await db?.drop();
  });

  it('transcribes the seed’s operations', () => {
    expect(SEED.operations).toHaveLength(12);
    expect(SEED.operations.filter((o) => /\/(providers|jobs)\//.test(o.path) && !/authorize|callback/.test(o.path)).map((o) => `${o.method} ${o.path}`).sort()).toEqual([
      'DELETE /api/v2/externalOAuth/providers/{providerID}/',
      'GET /api/v2/externalOAuth/jobs/{jobId}/',
      'GET /api/v2/externalOAuth/providers/',
      'GET /api/v2/externalOAuth/providers/{providerID}/',
      'PATCH /api/v2/externalOAuth/providers/{providerID}/',
      'POST /api/v2/externalOAuth/providers/',
    ]);
  });

  it('conforms on every provider and job operation, success and error', async () => {
    const P = '/api/v2/externalOAuth/providers/';
    const ONE = '/api/v2/externalOAuth/providers/{providerID}/';
    const JOB = '/api/v2/externalOAuth/jobs/{jobId}/';
    const unknown = '00000000-0000-4000-8000-000000000000';

    await conform('GET', P, await call('GET', '/api/v2/externalOAuth/providers/'));
    await conform('GET', P, await call('GET', '/api/v2/externalOAuth/providers/?types=nope'));
    const created = (await conform('POST', P, await call('POST', '/api/v2/externalOAuth/providers/', { clientId: 'c', clientSecret: 's', name: 'GitHub', type: 'github', scopes: ['repo'], skipConsent: false }))) as { id: string };
    await conform('POST', P, await call('POST', '/api/v2/externalOAuth/providers/', { type: 'github' }));
    await conform('GET', P, await call('GET', '/api/v2/externalOAuth/providers/?orderBy=-createdAt&types=github'));

    await conform('GET', ONE, await call('GET', `/api/v2/externalOAuth/providers/${created.id}/`));
    await conform('GET', ONE, await call('GET', `/api/v2/externalOAuth/providers/${unknown}/`));
    await conform('GET', ONE, await call('GET', '/api/v2/externalOAuth/providers/not-an-id/'));
    await conform('PATCH', ONE, await call('PATCH', `/api/v2/externalOAuth/providers/${created.id}/`, { name: 'Renamed', skipConsent: true, status: 'invalid', clientSecret: 's2' }));
    await conform('PATCH', ONE, await call('PATCH', `/api/v2/externalOAuth/providers/${created.id}/`, { status: 'deleting' }));

    const deleted = (await conform('DELETE', ONE, await call('DELETE', `/api/v2/externalOAuth/providers/${created.id}/`))) as { location: string };
    await conform('DELETE', ONE, await call('DELETE', '/api/v2/externalOAuth/providers/not-an-id/'));
    let job: { status: string } = { status: 'PENDING' };
    const deadline = Date.now() + 30_000;
    while (job.status !== 'COMPLETED' && Date.now() < deadline) {
      job = (await conform('GET', JOB, await call('GET', deleted.location))) as { status: string };
      if (job.status !== 'COMPLETED') await sleep(200);
    }
    expect(job.status).toBe('COMPLETED');
    await conform('GET', JOB, await call('GET', `/api/v2/externalOAuth/jobs/${unknown}/`));
    await conform('GET', JOB, await call('GET', '/api/v2/externalOAuth/jobs/not-an-id/'));
  });

  it('conforms on the consent and authorized-provider operations, success and error', async () => {
    const AUTHZ = '/api/v2/externalOAuth/providers/{providerId}/authorize/';
    const CALLBACK = '/api/v2/externalOAuth/providers/callback/';
    const LIST = '/api/v2/externalOAuth/authorizedProviders/';
    const ONE = '/api/v2/externalOAuth/authorizedProviders/{authorizedProviderId}/';
    const unknown = '00000000-0000-4000-8000-000000000000';
    const created = (await (await call('POST', '/api/v2/externalOAuth/providers/', { type: 'oidc', name: 'Demo', clientId: 'conformance', clientSecret: PROVIDER_SECRET, issuer: idp.issuer })).json()) as { id: string };

    await conform('POST', AUTHZ, await call('POST', `/api/v2/externalOAuth/providers/${unknown}/authorize/`));
    await call('PATCH', `/api/v2/externalOAuth/providers/${created.id}/`, { status: 'invalid' });
    await conform('POST', AUTHZ, await call('POST', `/api/v2/externalOAuth/providers/${created.id}/authorize/`));
    await call('PATCH', `/api/v2/externalOAuth/providers/${created.id}/`, { status: 'active' });
    const started = (await conform('POST', AUTHZ, await call('POST', `/api/v2/externalOAuth/providers/${created.id}/authorize/?state=s1`))) as { redirectUrl: string };

    const back = await signInAtDemoIdp(started.redirectUrl, 'c@example.test', (u) => u.startsWith(`${base}/api/v2/externalOAuth/providers/callback`));
    await conform('POST', CALLBACK, await call('POST', '/api/v2/externalOAuth/providers/callback/', { code: 'x' }));
    await conform('POST', CALLBACK, await call('POST', '/api/v2/externalOAuth/providers/callback/', { code: 'x', state: 'not-a-state', providerId: created.id }));
    const done = (await conform(
      'POST',
      CALLBACK,
      // The demo provider advertises RFC 9207, so the front end passes its `iss` on (required then).
      await call('POST', '/api/v2/externalOAuth/providers/callback/', { code: back.searchParams.get('code'), state: back.searchParams.get('state'), providerId: created.id, iss: back.searchParams.get('iss') }),
    )) as { authorizedProvider: { id: string } };
    const id = done.authorizedProvider.id;

    await conform('GET', LIST, await call('GET', '/api/v2/externalOAuth/authorizedProviders/'));
    await conform('POST', `${ONE}token/`, await call('POST', `/api/v2/externalOAuth/authorizedProviders/${id}/token/`));
    await conform('POST', `${ONE}token/`, await call('POST', `/api/v2/externalOAuth/authorizedProviders/${unknown}/token/`));
    await conform('POST', `${ONE}token/`, await call('POST', '/api/v2/externalOAuth/authorizedProviders/not-an-id/token/'));
    await conform('GET', `${ONE}userinfo/`, await call('GET', `/api/v2/externalOAuth/authorizedProviders/${id}/userinfo/`));
    await conform('GET', `${ONE}userinfo/`, await call('GET', `/api/v2/externalOAuth/authorizedProviders/${unknown}/userinfo/`));
    await conform('DELETE', ONE, await call('DELETE', `/api/v2/externalOAuth/authorizedProviders/${unknown}/`));
    await conform('DELETE', ONE, await call('DELETE', `/api/v2/externalOAuth/authorizedProviders/${id}/`));
  });
});
