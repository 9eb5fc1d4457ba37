import { createHash, randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { ClientCredentials, TokenGrantsService } from '@broker/identity';
import { APP_REDIRECT, BrokerSystem } from './broker-system';
import { pgDump } from './pg-dump';
import { redisSnapshot } from './redis-snapshot';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

type Grant = {
  providers: '*' | { ids?: string[]; types?: string[] };
  subjects: { mode: 'self' | 'users' | 'org'; users?: string[] };
  maxScopes?: string[] | null;
  maxLifetimeSeconds?: number | null;
};
type Outcome =
  | { served: true; token: string; authorizationId: string }
  | { served: false; rule?: string; status?: number | string };

/**
 * Least privilege against the whole running broker (gateways, token-brokers and the registry as
 * processes; oidc-provider as the upstream sign-in and as the provider the users link): consumer
 * policies over REST, bus and token exchange (RFC 8693 through openid-client), several accounts
 * of one provider per user, and the provenance ledger (its two queries, and no token in it).
 */
describe('least privilege: consumer policies, token exchange, several accounts, the ledger', () => {
  const system = new BrokerSystem({ label: 'least-privilege', providerClient: true });
  const started = new Date(Date.now() - 1000).toISOString();
  let admin: string;
  let providerId: string;
  /** Each user's authorization(s) at the demo provider: bob one, alice two (a personal and a work account). */
  const links: Record<string, string> = {};
  /** Every provider token any test was served: none may appear in the database or Redis. */
  const served = new Set<string>();

  const grant = async (clientId: string, g: Grant) => {
    const res = await system.api(`/api/v1/oauth/admin/clients/${clientId}/token-grants`, admin, {
      method: 'POST',
      body: g,
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  const link = (userToken: string, email: string) => system.linkAccount(userToken, providerId, email);

  /** A confidential client of the default org (client_credentials, tokens:read), with no grant yet. */
  const consumer = () =>
    system.createClient({ orgId: 'default', grantTypes: ['client_credentials'], scopes: ['tokens:read'] });
  /** A first-party app people sign in through (its tokens act for them). */
  const app = () =>
    system.createClient({
      orgId: 'default',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['tokens:read', 'authorizations:read'],
      redirectUris: [APP_REDIRECT],
    });

  const outcome = async (
    p: Promise<{
      accessToken?: string;
      access_token?: string;
      authorizationId?: string;
      authorization_id?: string;
    }>,
  ): Promise<Outcome> => {
    try {
      const t = await p;
      const token = t.accessToken ?? t.access_token ?? '';
      served.add(token);
      return { served: true, token, authorizationId: t.authorizationId ?? t.authorization_id ?? '' };
    } catch (err) {
      const e = err as { code?: string; fields?: { name: string }[]; error?: string; status?: number };
      return {
        served: false,
        rule: e.fields?.find((f) => f.name.startsWith('policy.'))?.name,
        status: e.code ?? e.error,
      };
    }
  };
  const bus = (token: string, req: Record<string, unknown>) =>
    outcome(system.bus.request('tokens.acquire', req as never, { auth: token }));
  const rest = async (token: string, authorizationId: string): Promise<Outcome> => {
    const res = await system.api(
      `/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token`,
      token,
      { method: 'POST' },
    );
    const body = (await res.json()) as {
      accessToken?: string;
      message?: string;
      errorFields?: { name: string }[];
    };
    if (res.status === 201) {
      served.add(body.accessToken ?? '');
      return { served: true, token: body.accessToken ?? '', authorizationId };
    }
    return {
      served: false,
      rule: body.errorFields?.find((f) => f.name.startsWith('policy.'))?.name,
      status: res.status,
    };
  };
  const exchangeRaw = (client: ClientCredentials, form: Record<string, string>) =>
    system.tokenRequest({
      grant_type: EXCHANGE,
      client_id: client.clientId,
      client_secret: client.clientSecret,
      subject_token_type: ACCESS_TOKEN,
      ...form,
    });
  const exchange = async (
    client: ClientCredentials,
    subjectToken: string,
    target: Record<string, string>,
  ): Promise<Outcome> => {
    const res = await exchangeRaw(client, { subject_token: subjectToken, ...target });
    const body = (await res.json()) as {
      access_token?: string;
      authorization_id?: string;
      error?: string;
      error_description?: string;
    };
    if (res.status === 200) {
      served.add(body.access_token ?? '');
      return { served: true, token: body.access_token ?? '', authorizationId: body.authorization_id ?? '' };
    }
    const rule = /consumer policy \((\w+)\)/.exec(body.error_description ?? '')?.[1];
    return { served: false, rule: rule ? `policy.${rule}` : undefined, status: body.error };
  };

  let aliceUser: string; // alice's own token, as the admin delegates it (for linking)
  let bobUser: string;

  beforeAll(async () => {
    await system.start();
    admin = await system.adminToken();
    providerId = await system.registerDemoProvider(admin);
    for (const sub of ['alice', 'bob'])
      await system.users.upsert('default', { sub, email: `${sub}@example.test` }, [
        'tokens:read',
        'authorizations:read',
      ]);
    aliceUser = await system.delegatedToken(admin, 'alice', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    bobUser = await system.delegatedToken(admin, 'bob', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    links['alice-personal'] = await link(aliceUser, 'alice.personal@example.test');
    links['alice-work'] = await link(aliceUser, 'alice.work@example.test');
    links['bob'] = await link(bobUser, 'bob@example.test');
  });

  afterAll(() => system.stop());

  describe('several accounts per provider', () => {
    it('links two accounts of the demo provider for one user, each its own authorization, acquired separately', async () => {
      expect(links['alice-personal']).not.toBe(links['alice-work']);
      const listed = (await (
        await system.api('/api/v2/externalOAuth/authorizedProviders/', aliceUser)
      ).json()) as { data: { id: string }[] };
      expect(listed.data.map((a) => a.id).sort()).toEqual(
        [links['alice-personal'], links['alice-work']].sort(),
      );
      // By the account's identity at the provider (its label, the e-mail it signed in with)...
      const personal = await bus(admin, {
        userId: 'alice',
        providerId,
        account: 'alice.personal@example.test',
      });
      const work = await bus(admin, { userId: 'alice', providerId, account: 'ALICE.WORK@example.test' });
      expect(personal).toMatchObject({ served: true, authorizationId: links['alice-personal'] });
      expect(work).toMatchObject({ served: true, authorizationId: links['alice-work'] });
      if (!personal.served || !work.served) throw new Error('unreachable');
      expect(personal.token).not.toBe(work.token);
      // ...or by id; each served token is that account's at the provider.
      const byId = await bus(admin, { authorizationId: links['alice-work'] });
      expect(byId).toMatchObject({ served: true, token: work.token });
      const who = async (token: string) =>
        (
          (await (
            await fetch(`${system.idp.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })
          ).json()) as { email?: string }
        ).email;
      expect(await who(personal.token)).toBe('alice.personal@example.test');
      expect(await who(work.token)).toBe('alice.work@example.test');
    });

    it('refuses user + provider without an account when the user linked several, naming the accounts', async () => {
      const refused = await system.bus
        .request('tokens.acquire', { userId: 'alice', providerId }, { auth: admin })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'CONFLICT' });
      const names = ((refused as { fields?: { message: string }[] }).fields ?? [])
        .map((f) => f.message)
        .join(' ');
      expect(names).toContain('alice.personal@example.test');
      expect(names).toContain('alice.work@example.test');
      // The single-account case keeps working without naming one.
      expect(await bus(admin, { userId: 'bob', providerId })).toMatchObject({
        served: true,
        authorizationId: links['bob'],
      });
    });
  });

  describe('consumer policies', () => {
    it('serves a new client nothing until granted, by bus, REST and token exchange, naming the rule', async () => {
      const fresh = await consumer();
      const token = await system.clientToken(fresh);
      expect(await bus(token, { userId: 'bob', providerId })).toMatchObject({
        served: false,
        rule: 'policy.grant',
        status: 'FORBIDDEN',
      });
      expect(await bus(token, { authorizationId: links['bob'] })).toMatchObject({
        served: false,
        rule: 'policy.grant',
      });
      expect(await exchange(fresh, bobUser, { resource: `urn:broker:provider:${providerId}` })).toMatchObject(
        { served: false, status: 'unauthorized_client', rule: 'policy.grant' },
      );
      const freshApp = await app();
      const bobViaApp = (await system.userTokens(freshApp, 'bob@example.test', 'openid tokens:read'))
        .access_token;
      expect(await rest(bobViaApp, links['bob'])).toMatchObject({
        served: false,
        status: 403,
        rule: 'policy.grant',
      });
    });

    it('matrix: consumers × providers × subjects × scopes over REST, bus and exchange — every out-of-policy acquire refused, every in-policy one served', async () => {
      const tokenScopes = (
        (await system.bus.request('tokens.acquire', { authorizationId: links['bob'] }, { auth: admin })) as {
          scopes: string[];
        }
      ).scopes;
      expect(tokenScopes.length).toBeGreaterThan(1);
      const otherProvider = randomUUID();
      type Row = { name: string; grant: Grant | null; want: Record<string, boolean | string> };
      // want: bus-bob, bus-alice (by id), exchange-self (bob for bob), exchange-other (bob's token, alice's authorization), rest-self
      const rows: Row[] = [
        {
          name: 'nothing granted',
          grant: null,
          want: {
            busBob: 'policy.grant',
            busAlice: 'policy.grant',
            xSelf: 'policy.grant',
            restSelf: 'policy.grant',
          },
        },
        {
          name: 'another provider',
          grant: { providers: { ids: [otherProvider] }, subjects: { mode: 'org' } },
          want: {
            busBob: 'policy.providers',
            busAlice: 'policy.providers',
            xSelf: 'policy.providers',
            restSelf: 'policy.providers',
          },
        },
        {
          name: 'another provider type',
          grant: { providers: { types: ['github'] }, subjects: { mode: 'org' } },
          want: {
            busBob: 'policy.providers',
            busAlice: 'policy.providers',
            xSelf: 'policy.providers',
            restSelf: 'policy.providers',
          },
        },
        {
          name: 'its type, self only',
          grant: { providers: { types: ['oidc'] }, subjects: { mode: 'self' } },
          want: { busBob: 'policy.subjects', busAlice: 'policy.subjects', xSelf: true, restSelf: true },
        },
        {
          name: 'named user bob',
          grant: { providers: { ids: [providerId] }, subjects: { mode: 'users', users: ['bob'] } },
          want: { busBob: true, busAlice: 'policy.subjects', xSelf: true, restSelf: true },
        },
        {
          name: 'whole org',
          grant: { providers: '*', subjects: { mode: 'org' } },
          want: { busBob: true, busAlice: true, xSelf: true, restSelf: true },
        },
        {
          name: 'whole org, fewer scopes than the token has (oidc cannot narrow)',
          grant: { providers: '*', subjects: { mode: 'org' }, maxScopes: [tokenScopes[0]] },
          want: {
            busBob: 'policy.scopes',
            busAlice: 'policy.scopes',
            xSelf: 'policy.scopes',
            restSelf: 'policy.scopes',
          },
        },
        {
          name: 'whole org, the token’s scopes',
          grant: { providers: '*', subjects: { mode: 'org' }, maxScopes: tokenScopes },
          want: { busBob: true, busAlice: true, xSelf: true, restSelf: true },
        },
        {
          name: 'whole org, a 60 s life at most (the token lives longer)',
          grant: { providers: '*', subjects: { mode: 'org' }, maxLifetimeSeconds: 60 },
          want: {
            busBob: 'policy.lifetime',
            busAlice: 'policy.lifetime',
            xSelf: 'policy.lifetime',
            restSelf: 'policy.lifetime',
          },
        },
      ];
      const results: string[] = [];
      for (const row of rows) {
        // One client per row, used as a service (bus), as the exchanging party and as the app a person signs in through (REST).
        const client = await system.createClient({
          orgId: 'default',
          grantTypes: ['client_credentials', 'authorization_code'],
          scopes: ['tokens:read'],
          redirectUris: [APP_REDIRECT],
        });
        if (row.grant) await grant(client.clientId, row.grant);
        const service = await system.clientToken(client);
        const bobViaClient = (await system.userTokens(client, 'bob@example.test', 'openid tokens:read'))
          .access_token;
        const got = {
          busBob: await bus(service, { userId: 'bob', providerId }),
          busAlice: await bus(service, { authorizationId: links['alice-work'] }),
          xSelf: await exchange(client, bobUser, { audience: providerId }),
          restSelf: await rest(bobViaClient, links['bob']),
        };
        for (const [path, want] of Object.entries(row.want)) {
          const o = got[path as keyof typeof got];
          const ok = want === true ? o.served : !o.served && o.rule === want;
          results.push(
            `${ok ? 'ok  ' : 'FAIL'} ${row.name} / ${path}: want ${want}, got ${o.served ? 'served' : `${o.status} ${o.rule}`}`,
          );
        }
        // Whatever the grant, a person's token never reaches another person's authorization, by any path.
        expect(
          await exchange(client, bobUser, { resource: `urn:broker:authorization:${links['alice-work']}` }),
        ).toMatchObject({ served: false });
        expect(await rest(bobViaClient, links['alice-work'])).toMatchObject({ served: false });
      }
      expect(results.filter((r) => r.startsWith('FAIL'))).toEqual([]);
      expect(results).toHaveLength(rows.length * 4);
    });

    it('applies a withdrawn grant within seconds on every path', async () => {
      const client = await consumer();
      const id = await grant(client.clientId, { providers: '*', subjects: { mode: 'org' } });
      const token = await system.clientToken(client);
      expect(await bus(token, { userId: 'bob', providerId })).toMatchObject({ served: true });
      const gone = await system.api(`/api/v1/oauth/admin/token-grants/${id}`, admin, { method: 'DELETE' });
      expect(gone.status).toBe(204);
      const ms = await BrokerSystem.within(5_000, async () => {
        const [b, x] = await Promise.all([
          bus(token, { userId: 'bob', providerId }),
          exchange(client, bobUser, { audience: providerId }),
        ]);
        return !b.served && !x.served;
      });
      expect(ms).toBeLessThan(5_000);
    });

    it('answers a bad grant with a 422 naming the field, and a non-admin with 403', async () => {
      const client = await consumer();
      const bad = await system.api(`/api/v1/oauth/admin/clients/${client.clientId}/token-grants`, admin, {
        method: 'POST',
        body: { providers: '*', subjects: { mode: 'everyone' } },
      });
      expect(bad.status).toBe(422);
      expect(JSON.stringify(await bad.json())).toContain('subjects');
      const notAdmin = await system.api(
        `/api/v1/oauth/admin/clients/${client.clientId}/token-grants`,
        await system.clientToken(client),
        { method: 'POST', body: { providers: '*', subjects: { mode: 'org' } } },
      );
      expect(notAdmin.status).toBe(403);
    });
  });

  describe('token exchange (RFC 8693)', () => {
    let mcp: ClientCredentials;
    let config: oidc.Configuration;

    beforeAll(async () => {
      mcp = await consumer();
      await grant(mcp.clientId, { providers: { types: ['oidc'] }, subjects: { mode: 'self' } });
      config = await oidc.discovery(
        new URL(system.base),
        mcp.clientId,
        {},
        oidc.ClientSecretPost(mcp.clientSecret),
        { execute: [oidc.allowInsecureRequests] },
      );
    });

    it('advertises the grant, and exchanges a user’s broker token for their provider token with openid-client', async () => {
      expect(config.serverMetadata().grant_types_supported).toContain(EXCHANGE);
      const answer = await oidc.genericGrantRequest(config, EXCHANGE, {
        subject_token: bobUser,
        subject_token_type: ACCESS_TOKEN,
        requested_token_type: ACCESS_TOKEN,
        resource: `urn:broker:provider:${providerId}`,
      });
      expect(answer.issued_token_type).toBe(ACCESS_TOKEN);
      expect(answer.token_type).toBe('bearer');
      expect(answer.expires_in).toBeGreaterThan(0);
      expect(answer['attenuated']).toBe(false);
      expect(answer['authorization_id']).toBe(links['bob']);
      served.add(answer.access_token);
      // It is bob's token at the provider.
      const me = (await (
        await fetch(`${system.idp.issuer}/me`, {
          headers: { authorization: `Bearer ${answer.access_token}` },
        })
      ).json()) as { email?: string };
      expect(me.email).toBe('bob@example.test');
      // One of alice's two accounts, named by authorization.
      const work = await oidc.genericGrantRequest(config, EXCHANGE, {
        subject_token: aliceUser,
        subject_token_type: ACCESS_TOKEN,
        audience: links['alice-work'],
      });
      expect(work['authorization_id']).toBe(links['alice-work']);
      served.add(work.access_token);
    });

    it('answers RFC 8693 errors: bad or foreign subject tokens, unknown or several targets, other token types, bad clients', async () => {
      const err = async (form: Record<string, string>, client = mcp) => {
        const res = await exchangeRaw(client, form);
        return {
          status: res.status,
          ...((await res.json()) as { error: string; error_description: string }),
        };
      };
      const target = { resource: `urn:broker:provider:${providerId}` };
      expect(await err({ subject_token: 'not-a-token', ...target })).toMatchObject({
        status: 400,
        error: 'invalid_request',
      });
      const forged = `${bobUser.slice(0, -4)}AAAA`;
      expect(await err({ subject_token: forged, ...target })).toMatchObject({
        status: 400,
        error: 'invalid_request',
      });
      // A service account's token stands for no user.
      expect(await err({ subject_token: await system.clientToken(mcp), ...target })).toMatchObject({
        error: 'invalid_request',
        error_description: expect.stringContaining('user'),
      });
      expect(
        await err({
          subject_token: bobUser,
          subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
          ...target,
        }),
      ).toMatchObject({ error: 'invalid_request' });
      expect(
        await err({
          subject_token: bobUser,
          requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
          ...target,
        }),
      ).toMatchObject({ error: 'invalid_request' });
      expect(await err({ subject_token: bobUser })).toMatchObject({ error: 'invalid_target' });
      expect(await err({ subject_token: bobUser, resource: 'https://elsewhere.example/' })).toMatchObject({
        error: 'invalid_target',
      });
      expect(
        await err({ subject_token: bobUser, resource: `urn:broker:provider:${randomUUID()}` }),
      ).toMatchObject({ error: 'invalid_target' });
      const both = await system.tokenRequest({
        grant_type: EXCHANGE,
        client_id: mcp.clientId,
        client_secret: mcp.clientSecret,
        subject_token_type: ACCESS_TOKEN,
        subject_token: bobUser,
        resource: `urn:broker:provider:${providerId}`,
        audience: links['alice-work'],
      });
      expect(await both.json()).toMatchObject({ error: 'invalid_target' });
      expect(
        await err({ subject_token: bobUser, ...target }, { clientId: mcp.clientId, clientSecret: 'wrong' }),
      ).toMatchObject({ status: 401, error: 'invalid_client' });
      // A client of another org, even granted everything in its own org, cannot exchange this org's user tokens.
      await system.clients.ensureOrg('rival', 'Rival');
      const rival = await system.createClient({
        orgId: 'rival',
        grantTypes: ['client_credentials'],
        scopes: ['tokens:read'],
      });
      await new TokenGrantsService(system.identity).create('rival', rival.clientId, {
        providers: '*',
        subjects: { mode: 'org', users: [] },
        maxScopes: null,
        maxLifetimeSeconds: null,
        description: '',
      });
      expect(await err({ subject_token: bobUser, ...target }, rival)).toMatchObject({
        status: 400,
        error: 'invalid_request',
        error_description: expect.stringContaining('not a token of this org'),
      });
      // A revoked subject token is refused (RFC 7009 at the broker, then the exchange).
      const revoked = await system.delegatedToken(admin, 'bob', ['tokens:read']);
      const r = await system.tokenRequest(
        { token: revoked, client_id: 'admin', client_secret: system.adminSecret },
        { path: '/api/v1/oauth/revoke' },
      );
      expect(r.status).toBe(200);
      await BrokerSystem.within(
        5_000,
        async () => (await err({ subject_token: revoked, ...target })).error === 'invalid_request',
      );
    });
  });

  describe('the provenance ledger', () => {
    type Page = {
      items: {
        consumer: string;
        subject: string;
        authorizationId: string;
        path: string;
        actor: { client_id: string } | null;
        tokenFingerprint: string;
      }[];
    };
    const ledger = async (query: string) => {
      const res = await system.api(`/api/v1/oauth/admin/ledger?${query}`, admin);
      expect(res.status).toBe(200);
      return (await res.json()) as Page;
    };

    it('answers "who received tokens of this user since …" and "which consumer got this token", by token or GitHub-style hashed_token', async () => {
      const client = await consumer();
      await grant(client.clientId, { providers: '*', subjects: { mode: 'org' } });
      const got = await bus(await system.clientToken(client), { authorizationId: links['alice-personal'] });
      if (!got.served) throw new Error('not served');
      // Writes are batched off the caller's path: the row shows up shortly after.
      await BrokerSystem.within(5_000, async () =>
        (await ledger(`subject=alice&since=${encodeURIComponent(started)}`)).items.some(
          (i) => i.consumer === client.clientId,
        ),
      );
      const whoGotAlice = await ledger(`subject=alice&since=${encodeURIComponent(started)}`);
      expect(whoGotAlice.items.every((i) => i.subject === 'alice')).toBe(true);
      // The admin (by bus, linking tests), the client above, and the exchanging client of the exchange tests.
      expect(whoGotAlice.items.map((i) => i.consumer)).toEqual(
        expect.arrayContaining(['admin', client.clientId]),
      );
      expect(whoGotAlice.items.map((i) => i.path)).toEqual(expect.arrayContaining(['bus', 'exchange']));
      // An exchange records who acted: the exchanging client.
      const exchanged = whoGotAlice.items.find((i) => i.path === 'exchange');
      expect(exchanged?.actor?.client_id).toBe(exchanged?.consumer);
      // Nothing from before `since`.
      expect(
        (
          await ledger(
            `subject=alice&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
          )
        ).items,
      ).toEqual([]);

      const lookup = async (body: unknown) => {
        const res = await system.api('/api/v1/oauth/admin/ledger/lookup', admin, { method: 'POST', body });
        expect(res.status).toBe(200);
        return ((await res.json()) as Page).items;
      };
      const byToken = await lookup({ token: got.token });
      expect(byToken.map((i) => i.consumer)).toContain(client.clientId);
      const hashed = createHash('sha256').update(got.token).digest('base64');
      expect(await lookup({ sha256: hashed })).toEqual(byToken);
      expect(await lookup({ fingerprint: byToken[0].tokenFingerprint })).toEqual(byToken);
      expect(await lookup({ token: 'never-served' })).toEqual([]);
      expect(
        (
          await system.api('/api/v1/oauth/admin/ledger/lookup', admin, {
            method: 'POST',
            body: { sha256: 'short' },
          })
        ).status,
      ).toBe(422);
      expect((await system.api('/api/v1/oauth/admin/ledger', await system.clientToken(client))).status).toBe(
        403,
      );
    });

    it('keeps no token anywhere: a canary scan of the database and Redis finds none of the tokens served', async () => {
      // Every distinct provider token served above (the same authorization serves the same token on every path).
      expect(served.size).toBeGreaterThanOrEqual(3);
      const dump = pgDump(system.db.url);
      const redis = await redisSnapshot(system.env['REDIS_URL'], system.env['BUS_PREFIX']);
      const logs = system.logs();
      for (const token of served) {
        expect(token.length).toBeGreaterThan(10);
        for (const [where, text] of [
          ['database', dump],
          ['redis', redis],
          ['logs', logs],
        ] as const) {
          if (text.includes(token)) throw new Error(`a served token was found in the ${where}`);
        }
      }
      // The ledger holds rows (so the scan covered them).
      expect(dump).toMatch(/token_ledger/);
    });
  });
});
