import { randomBytes } from 'node:crypto';
import { consentStartForm, createTestDatabase, signInAtDemoIdp, sleep, TestDatabase } from '@broker/testing';
import { SeedChecker, loadSeed } from './seed-conformance';
import { DemoIdpProcess, ServiceProcess, freePort } from './service-processes';
import {
  clientCredentialsToken,
  demoProviderSystemEnv,
  startProviderIdp,
  startSystemInto,
} from './system-setup';

/** Operations, component schemas and our written-down extensions of seed 000 (see the fixture's `source`). */
const SEED = loadSeed('seed-000-api.json');

const USER_FIELDS = [
  'description',
  'email',
  'familyName',
  'givenName',
  'locale',
  'name',
  'nickName',
  'picture',
  'sub',
];
/**
 * Fields sent as null when there is no value (never omitted): the refresh token's expiry where the
 * provider gives none, a token's expiry where the provider gave no lifetime, a job's start/end
 * before they happen, and the user fields the provider did not tell.
 */
const NULLABLE: Record<string, string[]> = {
  'handler.jobStatusResponse': ['startedAt', 'finishedAt'],
  'handler.CallbackResponse': [
    'authorizedProvider.refreshTokenExpiresAt',
    ...USER_FIELDS.map((f) => `userInfo.${f}`),
  ],
  'handler.AuthorizedOAuthProvidersListResponse': ['data.refreshTokenExpiresAt'],
  'handler.GetAccessTokenResponse': ['authorizedOauthProvider.refreshTokenExpiresAt', 'expiresAt'],
  'oauth.User': USER_FIELDS,
};

/** The two generic provider types (`oidc`, `oauth2`) extend the seed's type enum. */
function withGenericTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withGenericTypes);
  if (!schema || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, withGenericTypes(v)])) as Record<
    string,
    unknown
  >;
  if (Array.isArray(copy['enum']) && (copy['enum'] as string[]).includes('confluence'))
    copy['enum'] = [...(copy['enum'] as string[]), 'oidc', 'oauth2'];
  return copy;
}

/** Documented statuses no input can produce here, and why. */
const UNREACHABLE: Record<string, string> = {
  'GET /api/v2/externalOAuth/authorizedProviders/ 422':
    'the operation takes no parameter and no body: there is nothing to validate',
};

const ADMIN_SECRET = randomBytes(32).toString('base64url');
const PROVIDER_SECRET = randomBytes(24).toString('base64url');
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const P = '/api/v2/externalOAuth/providers/';
const ONE = '/api/v2/externalOAuth/providers/{providerID}/';
const JOB = '/api/v2/externalOAuth/jobs/{jobId}/';
const AUTHZ = '/api/v2/externalOAuth/providers/{providerId}/authorize/';
const CALLBACK = '/api/v2/externalOAuth/providers/callback/';
const LIST = '/api/v2/externalOAuth/authorizedProviders/';
const AP = '/api/v2/externalOAuth/authorizedProviders/{authorizedProviderId}/';

/**
 * Seed 000 field for field: every operation with valid input and every documented error case,
 * each answer checked for a documented status (or a written-down extension) and a body matching
 * that status's schema strictly (every documented field present, nothing else). The provider is
 * the demo IdP (oidc-provider) as an `oidc` provider, and as an `oauth2` one without userinfo.
 */
describe('seed 000 conformance', () => {
  const seed = new SeedChecker(SEED, { nullable: NULLABLE, transform: withGenericTypes });
  let db: TestDatabase;
  let base: string;
  let admin: string;
  let idp: DemoIdpProcess;
  const services: ServiceProcess[] = [];

  const call = (method: string, path: string, body?: unknown, raw?: string) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
  const hooks = (path: string, body: unknown = {}) =>
    fetch(`${idp.issuer}/__test/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** authorize → sign in at the demo IdP → POST callback; returns the authorized provider and the user info. */
  async function link(
    providerId: string,
    email: string,
  ): Promise<{ id: string; userInfo: Record<string, unknown> }> {
    const started = (await seed.conform(
      'POST',
      AUTHZ,
      await call('POST', `${P}${providerId}/authorize/?state=app-state`),
    )) as { redirectUrl: string };
    const back = await signInAtDemoIdp(started.redirectUrl, email, (u) => u.startsWith(`${base}${CALLBACK}`));
    const done = (await seed.conform(
      'POST',
      CALLBACK,
      await call('POST', CALLBACK, {
        code: back.searchParams.get('code'),
        state: back.searchParams.get('state'),
        providerId,
        iss: back.searchParams.get('iss') ?? undefined,
      }),
    )) as {
      authorizedProvider: { id: string; status: string; refreshTokenExpiresAt: string | null };
      userInfo: Record<string, unknown>;
    };
    expect(done.authorizedProvider).toMatchObject({ status: 'active', refreshTokenExpiresAt: null });
    return { id: done.authorizedProvider.id, userInfo: done.userInfo };
  }

  /** Where the broker's consent start page sends the browser once "Continue" is clicked: the provider's authorization URL. */
  async function providerUrlOf(redirectUrl: string): Promise<URL> {
    const page = await fetch(redirectUrl, { redirect: 'manual' });
    const cookies = page.headers.getSetCookie().map((c) => c.split(';')[0]);
    const fields = consentStartForm(await page.text());
    if (!fields) throw new Error(`no consent start page at ${redirectUrl}`);
    const res = await fetch(redirectUrl, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams(fields),
      headers: cookies.length ? { cookie: cookies.join('; ') } : {},
    });
    const location = res.headers.get('location');
    if (!location) throw new Error(`the consent start page did not redirect (${res.status})`);
    return new URL(location, redirectUrl);
  }

  async function waitForJob(location: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const job = (await seed.conform('GET', JOB, await call('GET', location))) as { status: string };
      if (job.status === 'COMPLETED') return;
      if (Date.now() > deadline) throw new Error(`job ${location} is still ${job.status}`);
      await sleep(200);
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('conformance');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startProviderIdp(
      base,
      { clientId: 'conformance', secret: PROVIDER_SECRET, redirectPath: CALLBACK },
      // Short-lived tokens: a dead grant shows at the next refresh within seconds.
      { DEMO_IDP_ACCESS_TOKEN_TTL: '10', DEMO_IDP_TEST_HOOKS: '1' },
    );
    const env = demoProviderSystemEnv(db.url, port, 'conformance', { adminSecret: ADMIN_SECRET, idp });
    await startSystemInto(services, env, port);
    admin = await clientCredentialsToken(base, 'admin', ADMIN_SECRET);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await idp?.stop();
    await db?.drop();
  });

  it('transcribes the seed’s twelve operations', () => {
    expect(SEED.operations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(
      [
        `DELETE ${AP}`,
        `DELETE ${ONE}`,
        `GET ${JOB}`,
        `GET ${LIST}`,
        `GET ${ONE}`,
        `GET ${AP}userinfo/`,
        `GET ${P}`,
        `PATCH ${ONE}`,
        `POST ${AP}token/`,
        `POST ${CALLBACK}`,
        `POST ${P}`,
        `POST ${AUTHZ}`,
      ].sort(),
    );
  });

  it('providers and jobs: every operation, success and every documented error', async () => {
    await seed.conform('GET', P, await call('GET', P));
    await seed.conform('GET', P, await call('GET', `${P}?types=nope`));
    await seed.conform('GET', P, await call('GET', `${P}?orderBy=name`));
    const created = (await seed.conform(
      'POST',
      P,
      await call('POST', P, {
        clientId: 'c',
        clientSecret: 's',
        name: 'GitHub',
        type: 'github',
        scopes: ['repo'],
        skipConsent: false,
      }),
    )) as { id: string };
    const other = (await seed.conform(
      'POST',
      P,
      await call('POST', P, { clientId: 'c2', clientSecret: 's2', name: 'GitLab', type: 'gitlab' }),
    )) as { id: string };
    await seed.conform('POST', P, await call('POST', P, { type: 'github' }));
    await seed.conform('POST', P, await call('POST', P, undefined, '{"type": "github", '));

    // The ids filter: repeated, comma lists and any case name the same providers.
    for (const query of [
      `ids=${created.id}&ids=${other.id}`,
      `ids=${created.id},${other.id}`,
      `ids=${created.id.toUpperCase()},${other.id}`,
    ]) {
      const listed = (await seed.conform('GET', P, await call('GET', `${P}?${query}&orderBy=createdAt`))) as {
        data: { id: string }[];
      };
      expect(listed.data.map((p) => p.id)).toEqual([created.id, other.id]);
    }
    const byType = (await seed.conform(
      'GET',
      P,
      await call('GET', `${P}?types=gitlab,github&orderBy=-createdAt`),
    )) as { data: { id: string }[] };
    expect(byType.data.map((p) => p.id)).toEqual([other.id, created.id]);

    await seed.conform('GET', ONE, await call('GET', `${P}${created.id}/`));
    await seed.conform('GET', ONE, await call('GET', `${P}${created.id.toUpperCase()}/`));
    await seed.conform('GET', ONE, await call('GET', `${P}${UNKNOWN}/`));
    await seed.conform('GET', ONE, await call('GET', `${P}not-an-id/`));
    const patched = (await seed.conform(
      'PATCH',
      ONE,
      await call('PATCH', `${P}${created.id}/`, {
        name: 'Renamed',
        skipConsent: true,
        status: 'invalid',
        clientSecret: 's2',
      }),
    )) as {
      name: string;
      status: string;
      skipConsent: boolean;
    };
    expect(patched).toMatchObject({ name: 'Renamed', status: 'invalid', skipConsent: true });
    await seed.conform('PATCH', ONE, await call('PATCH', `${P}${created.id}/`, { status: 'deleting' }));
    await seed.conform('PATCH', ONE, await call('PATCH', `${P}${created.id}/`, undefined, '{"name": '));
    await seed.conform('PATCH', ONE, await call('PATCH', `${P}${UNKNOWN}/`, { name: 'x' }));

    const deleted = (await seed.conform('DELETE', ONE, await call('DELETE', `${P}${created.id}/`))) as {
      location: string;
    };
    await seed.conform('PATCH', ONE, await call('PATCH', `${P}${created.id}/`, { name: 'too late' }));
    await seed.conform('DELETE', ONE, await call('DELETE', `${P}not-an-id/`));
    await seed.conform('DELETE', ONE, await call('DELETE', `${P}${UNKNOWN}/`));
    // Every poll is checked: a job not started yet has startedAt null, not absent.
    await waitForJob(deleted.location);
    await seed.conform('GET', JOB, await call('GET', `/api/v2/externalOAuth/jobs/${UNKNOWN}/`));
    await seed.conform('GET', JOB, await call('GET', '/api/v2/externalOAuth/jobs/not-an-id/'));
  });

  let oidcId: string;
  let authorizationId: string;

  it('consent: authorize and callback, success and every documented error; skipConsent decides the consent prompt', async () => {
    oidcId = (
      (await (
        await call('POST', P, {
          type: 'oidc',
          name: 'Demo',
          clientId: 'conformance',
          clientSecret: PROVIDER_SECRET,
          issuer: idp.issuer,
        })
      ).json()) as { id: string }
    ).id;

    await seed.conform('POST', AUTHZ, await call('POST', `${P}${UNKNOWN}/authorize/`));
    await seed.conform('POST', AUTHZ, await call('POST', `${P}not-an-id/authorize/`));
    await seed.conform('POST', AUTHZ, await call('POST', `${P}${oidcId}/authorize/?redirect_uri=not-a-url`));
    await call('PATCH', `${P}${oidcId}/`, { status: 'invalid' });
    await seed.conform('POST', AUTHZ, await call('POST', `${P}${oidcId}/authorize/`));
    await call('PATCH', `${P}${oidcId}/`, { status: 'active' });

    // skipConsent off (the default): the provider is asked to show its consent screen; on: not.
    const prompted = (await seed.conform('POST', AUTHZ, await call('POST', `${P}${oidcId}/authorize/`))) as {
      redirectUrl: string;
    };
    expect((await providerUrlOf(prompted.redirectUrl)).searchParams.get('prompt')).toBe('consent');
    await call('PATCH', `${P}${oidcId}/`, { skipConsent: true });
    const silent = (await seed.conform('POST', AUTHZ, await call('POST', `${P}${oidcId}/authorize/`))) as {
      redirectUrl: string;
    };
    expect((await providerUrlOf(silent.redirectUrl)).searchParams.has('prompt')).toBe(false);
    await call('PATCH', `${P}${oidcId}/`, { skipConsent: false });

    await seed.conform('POST', CALLBACK, await call('POST', CALLBACK, { code: 'x' }));
    await seed.conform('POST', CALLBACK, await call('POST', CALLBACK, undefined, '{"code": "x", "state": '));
    await seed.conform(
      'POST',
      CALLBACK,
      await call('POST', CALLBACK, { code: 'x', state: 'not-a-state', providerId: oidcId }),
    );

    // 404: the provider went away between authorize and callback.
    const doomed = (
      (await (
        await call('POST', P, {
          type: 'oidc',
          name: 'Doomed',
          clientId: 'conformance',
          clientSecret: PROVIDER_SECRET,
          issuer: idp.issuer,
        })
      ).json()) as { id: string }
    ).id;
    const doomedStart = (await seed.conform(
      'POST',
      AUTHZ,
      await call('POST', `${P}${doomed}/authorize/`),
    )) as { redirectUrl: string };
    const doomedBack = await signInAtDemoIdp(doomedStart.redirectUrl, 'd@example.test', (u) =>
      u.startsWith(`${base}${CALLBACK}`),
    );
    await waitForJob(
      ((await (await call('DELETE', `${P}${doomed}/`)).json()) as { location: string }).location,
    );
    await seed.conform(
      'POST',
      CALLBACK,
      await call('POST', CALLBACK, {
        code: doomedBack.searchParams.get('code'),
        state: doomedBack.searchParams.get('state'),
        providerId: doomed,
        iss: doomedBack.searchParams.get('iss'),
      }),
    );

    const linked = await link(oidcId, 'c@example.test');
    authorizationId = linked.id;
    // Every field of oauth.User is there: null where the provider told nothing, its answer in `raw`.
    expect(linked.userInfo).toMatchObject({
      email: 'c@example.test',
      sub: expect.any(String),
      description: null,
      raw: expect.objectContaining({ email: 'c@example.test' }),
    });
  });

  it('authorized providers: list, token, userinfo and unlink, success and every documented error', async () => {
    const listed = (await seed.conform('GET', LIST, await call('GET', LIST))) as {
      data: { id: string; status: string; refreshTokenExpiresAt: string | null }[];
    };
    expect(listed.data).toEqual([
      expect.objectContaining({ id: authorizationId, status: 'active', refreshTokenExpiresAt: null }),
    ]);

    const token = (await seed.conform(
      'POST',
      `${AP}token/`,
      await call('POST', `${LIST}${authorizationId}/token/`),
    )) as { accessToken: string; expiresAt: string | null };
    expect(new Date(token.expiresAt ?? 0).getTime()).toBeGreaterThan(Date.now());
    await seed.conform('POST', `${AP}token/`, await call('POST', `${LIST}${UNKNOWN}/token/`));
    await seed.conform('POST', `${AP}token/`, await call('POST', `${LIST}not-an-id/token/`));

    const user = (await seed.conform(
      'GET',
      `${AP}userinfo/`,
      await call('GET', `${LIST}${authorizationId}/userinfo/`),
    )) as Record<string, unknown>;
    expect(user).toMatchObject({ email: 'c@example.test', sub: expect.any(String), locale: null });
    await seed.conform('GET', `${AP}userinfo/`, await call('GET', `${LIST}${UNKNOWN}/userinfo/`));
    await seed.conform('GET', `${AP}userinfo/`, await call('GET', `${LIST}not-an-id/userinfo/`));

    // 403: the provider is marked invalid: neither its tokens nor its userinfo are served, and the
    // authorization reads invalidProviderState until the provider is active again.
    await call('PATCH', `${P}${oidcId}/`, { status: 'invalid' });
    const blocked = (await seed.conform(
      'POST',
      `${AP}token/`,
      await call('POST', `${LIST}${authorizationId}/token/`),
    )) as { errorFields: unknown[] };
    expect(blocked.errorFields).toEqual([{ name: 'providerStatus', message: 'invalid' }]);
    await seed.conform('GET', `${AP}userinfo/`, await call('GET', `${LIST}${authorizationId}/userinfo/`));
    expect(
      ((await seed.conform('GET', LIST, await call('GET', LIST))) as { data: { status: string }[] }).data[0]
        .status,
    ).toBe('invalidProviderState');
    await call('PATCH', `${P}${oidcId}/`, { status: 'active' });
    expect(
      (
        (await seed.conform(
          'POST',
          `${AP}token/`,
          await call('POST', `${LIST}${authorizationId}/token/`),
        )) as { accessToken: string }
      ).accessToken,
    ).toEqual(expect.any(String));

    // 403: a provider without a userinfo endpoint.
    const plain = (
      (await (
        await call('POST', P, {
          type: 'oauth2',
          name: 'No userinfo',
          clientId: 'conformance',
          clientSecret: PROVIDER_SECRET,
          scopes: ['openid', 'email'],
          endpoints: { authorizationUrl: `${idp.issuer}/auth`, tokenUrl: `${idp.issuer}/token` },
        })
      ).json()) as { id: string }
    ).id;
    const plainAuthorization = (await link(plain, 'c@example.test')).id;
    const noUserinfo = (await seed.conform(
      'GET',
      `${AP}userinfo/`,
      await call('GET', `${LIST}${plainAuthorization}/userinfo/`),
    )) as { message: string };
    expect(noUserinfo.message).toMatch(/no user information endpoint/);

    // 410 on userinfo: the user revoked the app at the provider, which refuses the token (401).
    expect((await hooks('revoke-grants')).status).toBe(200);
    const goneRes = await call('GET', `${LIST}${authorizationId}/userinfo/`);
    expect(goneRes.status).toBe(410);
    // Refused by the provider (401), or found dead by a refresh first (then the status says so).
    const gone = (await seed.conform('GET', `${AP}userinfo/`, goneRes)) as { errorFields: unknown[] };
    expect([[], [{ name: 'status', message: 'expired' }]]).toContainEqual(gone.errorFields);
    // The token endpoint finds out at the next refresh (10-second tokens): the authorization is dead, 410 (a documented extension).
    const deadline = Date.now() + 15_000;
    let status = 201;
    while (status === 201 && Date.now() < deadline) {
      const res = await call('POST', `${LIST}${authorizationId}/token/`);
      status = res.status;
      await seed.conform('POST', `${AP}token/`, res);
      if (status === 201) await sleep(500);
    }
    expect(status).toBe(410);
    expect(
      (
        (await seed.conform('GET', LIST, await call('GET', LIST))) as {
          data: { id: string; status: string }[];
        }
      ).data.find((a) => a.id === authorizationId)?.status,
    ).toBe('expired');

    await seed.conform('DELETE', AP, await call('DELETE', `${LIST}${UNKNOWN}/`));
    await seed.conform('DELETE', AP, await call('DELETE', `${LIST}not-an-id/`));
    await seed.conform('DELETE', AP, await call('DELETE', `${LIST}${authorizationId}/`));
  }, 60_000);

  it('walked every documented status of every operation', () => {
    expect(seed.notWalked(UNREACHABLE)).toEqual([]);
  });
});
