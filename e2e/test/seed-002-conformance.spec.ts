import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { REGISTRY_SCHEMA } from '@broker/registry';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { signInAtDemoIdp } from '@broker/testing';
import { SeedChecker, loadSeed } from './seed-conformance';
import { SetupsSystem } from './setups-system';

const SEED = loadSeed('seed-002-api.json');
const LIST = '/api/v2/provider-deployments/{provider_deployment_id}/oauth-setups';
const ONE = `${LIST}/{provider_oauth_setup_id}`;
const APP = 'http://127.0.0.1:1/app/setup-done';

type Setup = {
  id: string;
  status: string;
  url: string | null;
  auth_config: { id: string } | null;
  metadata: Record<string, string> | null;
} & Record<string, unknown>;
type SetupPage = {
  items: Setup[];
  pagination: {
    has_more_before: boolean;
    has_more_after: boolean;
    next_cursor: string | null;
    previous_cursor: string | null;
  };
};

/**
 * Seed 002 field for field: every operation with every documented field, each answer checked
 * strictly against the schema transcribed from the seed (every field present, nothing undocumented
 * but the `user_id` extension), every error in the surface's one error shape; cursor pagination
 * walked both ways while another client inserts and deletes; the lifecycle enforced.
 */
describe('seed 002 conformance (OAuth setups)', () => {
  const sys = new SetupsSystem('seed002', { SETUP_EPHEMERAL_RETENTION_SECONDS: '0' });
  const seed = new SeedChecker(SEED, {
    nullable: {
      'provider.oauth_setup': [
        'name',
        'description',
        'metadata',
        'redirect_url',
        'url',
        'auth_config',
        'credentials',
        'auth_method',
        'deployment',
        'expires_at',
        'auth_config.name',
        'auth_config.description',
        'credentials.description',
      ],
      OAuthSetupList: [
        'pagination.next_cursor',
        'pagination.previous_cursor',
        'items.name',
        'items.description',
        'items.metadata',
        'items.redirect_url',
        'items.url',
        'items.auth_config',
        'items.credentials.description',
        'items.expires_at',
      ],
    },
  });
  let registry: DataSource;
  const path = (template: string, setupId?: string) =>
    template
      .replace('{provider_deployment_id}', sys.deploymentId)
      .replace('{provider_oauth_setup_id}', setupId ?? '');
  const call = (
    method: string,
    template: string,
    opts: { token?: string | null; body?: unknown; setupId?: string; query?: string } = {},
  ) =>
    sys.api(
      `${path(template, opts.setupId)}${opts.query ? `?${opts.query}` : ''}`,
      opts.token === null ? undefined : (opts.token ?? sys.ada),
      { method, body: opts.body },
    );

  beforeAll(async () => {
    await sys.start();
    registry = await new DataSource(
      domainDataSourceOptions(sys.db.url, REGISTRY_SCHEMA, 'e2e-seed002', 2),
    ).initialize();
  }, 120_000);

  afterAll(async () => {
    await registry?.destroy();
    await sys.stop();
  });

  it('transcribes the seed’s four operations', () => {
    expect(SEED.operations.map((o) => `${o.method} ${o.path}`)).toEqual([
      `GET ${LIST}`,
      `GET ${ONE}`,
      `POST ${LIST}`,
      `PATCH ${ONE}`,
    ]);
  });

  it('creates with every documented field, then gets, updates and lists it, every answer strict', async () => {
    const created = (await seed.conform(
      'POST',
      LIST,
      await call('POST', LIST, {
        body: {
          name: 'Connect the demo provider',
          description: 'So the app can read your profile',
          metadata: { environment: 'production' },
          redirect_url: APP,
          is_ephemeral: false,
          provider_auth_credentials_id: (
            (await (
              await sys.api(`/api/v2/externalOAuth/providers/${sys.deploymentId}/`, sys.admin)
            ).json()) as { secureConfigId: string }
          ).secureConfigId,
          provider_auth_method_id: 'oauth2-oidc',
          config: { scopes: ['openid', 'email'] },
        },
      }),
    )) as Setup & {
      auth_method: { scopes: { scope: string; name: string }[]; input_schema: Record<string, unknown> };
      deployment: { id: string };
      credentials: { client_id: string };
    };
    expect(created).toMatchObject({
      object: 'provider.oauth_setup',
      status: 'unused',
      is_ephemeral: false,
      provider_id: 'oidc',
      user_id: 'ada',
      redirect_url: APP,
      auth_config: null,
    });
    expect(created.url).toMatch(new RegExp(`^${sys.base}/connect/setup/[A-Za-z0-9_-]{43}$`));
    expect(created.url).not.toContain(created.id);
    expect(created.deployment.id).toBe(sys.deploymentId);
    expect(created.credentials.client_id).toBe('broker-provider');
    expect(JSON.stringify(created)).not.toContain(sys.providerSecret);
    expect(created.auth_method.scopes.map((s) => s.scope)).toEqual(
      expect.arrayContaining(['openid', 'email']),
    );
    expect(created.auth_method.scopes.find((s) => s.scope === 'email')?.name).toBe('Email address');
    const got = await seed.conform('GET', ONE, await call('GET', ONE, { setupId: created.id }));
    expect(got).toEqual(created);
    const patched = (await seed.conform(
      'PATCH',
      ONE,
      await call('PATCH', ONE, {
        setupId: created.id,
        body: { name: 'Renamed', description: 'New words', metadata: { team: 'a' } },
      }),
    )) as Setup;
    expect(patched).toMatchObject({
      name: 'Renamed',
      description: 'New words',
      metadata: { team: 'a' },
      status: 'unused',
    });
    const listed = (await seed.conform('GET', LIST, await call('GET', LIST))) as SetupPage;
    expect(listed.items.map((s) => s.id)).toContain(created.id);
    // A minimal body: only the required fields; everything else null or its default.
    const minimal = (await seed.conform(
      'POST',
      LIST,
      await call('POST', LIST, { body: { name: 'min', config: {} } }),
    )) as Setup;
    expect(minimal).toMatchObject({
      description: null,
      metadata: null,
      redirect_url: null,
      is_ephemeral: false,
    });
  });

  it('validates config against the auth method’s input_schema and every field, naming each problem (422)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', config: { scopes: ['admin:everything'] } }, 'config.scopes.0'],
      [{ name: 'x', config: { color: 'blue' } }, 'config.color'],
      [{ name: 'x', config: { scopes: [] } }, 'config.scopes'],
      [{ name: 'x' }, 'config'],
      [{ config: {} }, 'name'],
      [{ name: 'x', config: {}, redirect_url: 'javascript:alert(1)' }, 'redirect_url'],
      [{ name: 'x', config: {}, metadata: { n: 1 } }, 'metadata.n'],
      [{ name: 'x', config: {}, provider_auth_method_id: 'oauth2-github' }, 'provider_auth_method_id'],
      [{ name: 'x', config: {}, provider_auth_credentials_id: randomUUID() }, 'provider_auth_credentials_id'],
      [{ name: 'x', config: {}, surprise: true }, 'surprise'],
      [{ name: 'x', config: {}, expires_at: new Date(Date.now() - 1000).toISOString() }, 'expires_at'],
    ];
    for (const [body, field] of cases) {
      const error = (await seed.conform('POST', LIST, await call('POST', LIST, { body }))) as {
        status: number;
        errors: { field: string }[];
      };
      expect({ body, status: error.status, fields: error.errors.map((e) => e.field) }).toEqual({
        body,
        status: 422,
        fields: expect.arrayContaining([field]),
      });
    }
  });

  it('links the calling person; a service names the user; a person cannot name another', async () => {
    const byService = (await seed.conform(
      'POST',
      LIST,
      await call('POST', LIST, { token: sys.admin, body: { name: 'for ada', config: {}, user_id: 'ada' } }),
    )) as Setup;
    expect(byService.user_id).toBe('ada');
    const missing = (await seed.conform(
      'POST',
      LIST,
      await call('POST', LIST, { token: sys.admin, body: { name: 'for whom?', config: {} } }),
    )) as { errors: { field: string }[] };
    expect(missing.errors.map((e) => e.field)).toContain('user_id');
    const other = await call('POST', LIST, {
      body: { name: 'for someone else', config: {}, user_id: 'mallory' },
    });
    expect(other.status).toBe(403);
    await seed.conform('POST', LIST, other);
    // A person sees only their own setups; the service sees the org's.
    await sys.users.upsert('default', { sub: 'bob', email: 'bob@example.test' });
    const bob = await sys.delegatedToken(sys.admin, 'bob', ['setups:read', 'setups:write']);
    const bobs = await sys.createSetup({ name: 'bob’s' }, bob);
    expect((await call('GET', ONE, { setupId: bobs.id })).status).toBe(404);
    expect((await call('GET', ONE, { setupId: bobs.id, token: sys.admin })).status).toBe(200);
  });

  it('answers every error in one shape: 401, 403, 404, 400', async () => {
    await seed.conform('GET', LIST, await call('GET', LIST, { token: null }));
    const weak = await sys.delegatedToken(sys.admin, 'ada', ['authorizations:read']);
    const forbidden = await call('POST', LIST, { token: weak, body: { name: 'x', config: {} } });
    expect(forbidden.status).toBe(403);
    await seed.conform('POST', LIST, forbidden);
    for (const [template, setupId] of [
      [ONE, randomUUID()],
      [ONE, 'not-an-id'],
    ] as const) {
      const res = await call('GET', template, { setupId });
      expect(res.status).toBe(404);
      await seed.conform('GET', ONE, res);
    }
    const unknownDeployment = await sys.api(
      `/api/v2/provider-deployments/${randomUUID()}/oauth-setups`,
      sys.ada,
    );
    expect(unknownDeployment.status).toBe(404);
    await seed.conform('GET', LIST, unknownDeployment);
    const notJson = await fetch(`${sys.base}${path(LIST)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sys.ada}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(400);
    await seed.conform('POST', LIST, notJson);
    const some = await sys.createSetup();
    const empty = await call('PATCH', ONE, { setupId: some.id, body: {} });
    expect(empty.status).toBe(422);
    await seed.conform('PATCH', ONE, empty);
    const status = await call('PATCH', ONE, { setupId: some.id, body: { status: 'completed' } });
    expect(status.status).toBe(422);
    await seed.conform('PATCH', ONE, status);
  });

  it('refuses a bad limit, order or cursor with a 400 naming it', async () => {
    const first = (await (await call('GET', LIST, { query: 'limit=1' })).json()) as SetupPage;
    const good = first.pagination.next_cursor as string;
    const tampered = `${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`;
    const forged = `${Buffer.from(JSON.stringify({ a: randomUUID(), d: 'after', o: 'asc' })).toString('base64url')}.${good.split('.')[1]}`;
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['order=sideways', 'order'],
      ['cursor=garbage', 'cursor'],
      [`cursor=${tampered}`, 'cursor'],
      [`cursor=${forged}`, 'cursor'],
      [`after=${randomUUID()}&before=${randomUUID()}`, 'cursor'],
      ['after=not-an-id', 'after'],
      [
        `cursor=${good}&order=${good.includes('.') ? (JSON.parse(Buffer.from(good.split('.')[0], 'base64url').toString()).o === 'asc' ? 'desc' : 'asc') : 'asc'}`,
        'order',
      ],
    ]) {
      const res = await call('GET', LIST, { query });
      const body = (await seed.conform('GET', LIST, res)) as { status: number; errors: { field: string }[] };
      expect({ query, status: body.status, fields: body.errors.map((e) => e.field) }).toEqual({
        query,
        status: 400,
        fields: [field],
      });
    }
    // A cursor of another deployment's list is not one of this list's.
    const otherDeployment = await sys.registerDemoProvider(sys.admin);
    const elsewhere = await sys.api(
      `/api/v2/provider-deployments/${otherDeployment}/oauth-setups?cursor=${good}`,
      sys.ada,
    );
    expect(elsewhere.status).toBe(400);
  });

  it('walks forwards and backwards with no gap and no repeat while another client inserts and deletes', async () => {
    // A deployment of its own, so nothing else changes its list.
    const deployment = await sys.registerDemoProvider(sys.admin);
    const listPath = `/api/v2/provider-deployments/${deployment}/oauth-setups`;
    const create = async (name: string) => {
      const res = await sys.api(listPath, sys.ada, { method: 'POST', body: { name, config: {} } });
      expect(res.status).toBe(201);
      return ((await res.json()) as Setup).id;
    };
    const initial: string[] = [];
    for (let i = 0; i < 40; i++) initial.push(await create(`initial-${i}`));
    const deleted = new Set<string>();
    // The other client: inserts through the API and deletes rows as the ephemeral sweep does, until told to stop.
    let stop = false;
    let churn = 0;
    const other = (async () => {
      while (!stop && churn < 200) {
        churn++;
        await create(`concurrent-${churn}`);
        const victim = initial[(churn * 7) % initial.length];
        if (!deleted.has(victim) && churn % 3 === 0) {
          deleted.add(victim);
          await registry.query(`DELETE FROM registry.oauth_setups WHERE id = $1`, [victim]);
        }
      }
    })();
    try {
      for (const order of ['asc', 'desc'] as const) {
        for (const direction of ['forwards', 'backwards'] as const) {
          const seen: string[] = [];
          if (direction === 'backwards') {
            // From the far end: "before" an id past every other one in this order (the largest for asc, the smallest for desc).
            const edge =
              order === 'asc'
                ? 'ffffffff-ffff-7fff-bfff-ffffffffffff'
                : '00000000-0000-7000-8000-000000000000';
            let page = (await seed.conform(
              'GET',
              LIST,
              await sys.api(`${listPath}?limit=7&order=${order}&before=${edge}`, sys.ada),
            )) as SetupPage;
            seen.unshift(...page.items.map((s) => s.id));
            while (page.pagination.has_more_before) {
              page = (await seed.conform(
                'GET',
                LIST,
                await sys.api(
                  `${listPath}?cursor=${encodeURIComponent(page.pagination.previous_cursor as string)}&limit=7`,
                  sys.ada,
                ),
              )) as SetupPage;
              seen.unshift(...page.items.map((s) => s.id));
            }
          } else {
            let page = (await seed.conform(
              'GET',
              LIST,
              await sys.api(`${listPath}?limit=7&order=${order}`, sys.ada),
            )) as SetupPage;
            seen.push(...page.items.map((s) => s.id));
            while (page.pagination.has_more_after) {
              page = (await seed.conform(
                'GET',
                LIST,
                await sys.api(
                  `${listPath}?cursor=${encodeURIComponent(page.pagination.next_cursor as string)}&limit=7`,
                  sys.ada,
                ),
              )) as SetupPage;
              seen.push(...page.items.map((s) => s.id));
            }
          }
          const label = `${order} ${direction}`;
          expect({ label, repeats: seen.length - new Set(seen).size }).toEqual({ label, repeats: 0 });
          // Ids are in the list's order throughout (UUIDv7 order = creation order).
          const sorted = [...seen].sort();
          expect({
            label,
            ordered: JSON.stringify(seen) === JSON.stringify(order === 'asc' ? sorted : sorted.reverse()),
          }).toEqual({ label, ordered: true });
          // Every item that existed before the walk and was never deleted was seen (no gap).
          const missing = initial.filter((id) => !deleted.has(id) && !seen.includes(id));
          expect({ label, missing }).toEqual({ label, missing: [] });
        }
      }
    } finally {
      stop = true;
      await other;
    }
    expect(churn).toBeGreaterThan(5);
    expect(deleted.size).toBeGreaterThan(0);
  });

  it('runs the lifecycle: unused → opened → completed, then the link is spent; expired links and ephemeral setups', async () => {
    const setup = await sys.createSetup({ redirect_url: APP, config: { scopes: ['openid', 'email'] } });
    const landed = await signInAtDemoIdp(setup.url, 'ada@example.test', (u) => u.startsWith(APP));
    expect(Object.fromEntries(landed.searchParams)).toEqual({ status: 'completed', setup_id: setup.id });
    const done = (await seed.conform('GET', ONE, await call('GET', ONE, { setupId: setup.id }))) as Setup;
    expect(done).toMatchObject({ status: 'completed', url: null });
    // The auth config is the user's authorization: listed, and it serves a token.
    const authorizations = (await (
      await sys.api('/api/v2/externalOAuth/authorizedProviders/', sys.ada)
    ).json()) as { data: { id: string }[] };
    expect(authorizations.data.map((a) => a.id)).toContain(done.auth_config?.id);
    expect(
      (
        await sys.api(`/api/v2/externalOAuth/authorizedProviders/${done.auth_config?.id}/token/`, sys.ada, {
          method: 'POST',
        })
      ).status,
    ).toBe(201);
    // The link is spent.
    const again = await fetch(setup.url);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already been used');
    // Expiry: default 24 h; settable; past it the link is refused and the sweep records `expired`.
    expect(new Date(String(done.expires_at)).getTime() - new Date(String(done.created_at)).getTime()).toBe(
      24 * 3_600_000,
    );
    const short = await sys.createSetup({ expires_at: new Date(Date.now() + 1500).toISOString() });
    await new Promise((r) => setTimeout(r, 1700));
    const expiredPage = await fetch(short.url);
    expect(expiredPage.status).toBe(410);
    expect(await expiredPage.text()).toContain('expired');
    expect(((await (await call('GET', ONE, { setupId: short.id })).json()) as Setup).status).toBe('expired');
    await BrokerWait.until(
      async () =>
        (
          (await registry.query(`SELECT status FROM registry.oauth_setups WHERE id = $1`, [short.id])) as {
            status: string;
          }[]
        )[0]?.status === 'expired',
    );
    // Ephemeral: removed by the worker once ended (retention 0 here).
    const ephemeral = await sys.createSetup({
      is_ephemeral: true,
      expires_at: new Date(Date.now() + 1000).toISOString(),
    });
    await BrokerWait.until(async () => (await call('GET', ONE, { setupId: ephemeral.id })).status === 404);
    // A non-ephemeral expired one stays readable.
    expect((await call('GET', ONE, { setupId: short.id })).status).toBe(200);
  });

  it('walked every documented operation', () => {
    expect(seed.notWalked()).toEqual([]);
  });
});

/** Polls until a condition holds (bounded). */
const BrokerWait = {
  async until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error(`not true after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  },
};
