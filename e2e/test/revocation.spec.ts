import { BusRemoteError } from '@broker/bus';
import { ClientCredentials } from '@broker/identity';
import { BrokerSystem } from './broker-system';

/** Revocation must reach every verifier within this long (issue 13). */
const BOUND_MS = 5_000;

/**
 * Access that can be taken away, attacked from outside: a leaked token of a client that is then
 * disabled or deleted, of a user who is then deleted, a refresh-token family revoked — refused on
 * every gateway (REST) and every service (bus) within 5 s, and not renewable by any path
 * (principal-token, delegated-token, refresh, client_credentials). Two gateways and two
 * token-brokers: the revocation must reach replicas that did not make it.
 */
describe('revocation of the broker’s own tokens', () => {
  const system = new BrokerSystem({ label: 'revocation', gateways: 2, brokers: 2 });
  let admin: string;
  let app: ClientCredentials;
  const measured: Record<string, number> = {};

  beforeAll(async () => {
    await system.start();
    admin = await system.adminToken();
    app = await system.createClient({
      orgId: 'default',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['providers:read', 'authorizations:read', 'tokens:read'],
      redirectUris: ['http://127.0.0.1:1/app/callback'],
    });
  });

  afterAll(async () => {
    process.stdout.write(`revocation reached every verifier in (ms): ${JSON.stringify(measured)}\n`);
    await system.stop();
  });

  /** What a holder of `token` can still do: REST on each gateway, bus calls to the token-broker and the registry. */
  async function uses(token: string): Promise<{ rest: number[]; bus: string[] }> {
    const rest = await Promise.all(
      system.gateways.map((_, i) =>
        system.api('/api/v2/externalOAuth/providers/', token, { gateway: i }).then((r) => r.status),
      ),
    );
    const busCode = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof BusRemoteError ? e.code : String(e)),
      );
    // Several calls each: a request lands on either token-broker replica.
    const bus = await Promise.all([
      ...Array.from({ length: 4 }, () =>
        busCode(system.bus.request('identity.userinfo', {}, { auth: token })),
      ),
      busCode(system.bus.request('providers.list', {}, { auth: token })),
      busCode(system.bus.request('authorizations.list', {}, { auth: token })),
    ]);
    return { rest, bus };
  }

  const refusedEverywhere = async (token: string) => {
    const u = await uses(token);
    return u.rest.every((s) => s === 401) && u.bus.every((c) => c === 'UNAUTHENTICATED');
  };

  const renew = (token: string) => system.api('/api/v1/oauth/principal-token', token).then((r) => r.status);

  it('refuses a disabled client’s tokens on REST and the bus within 5 s, and stops its renewals', async () => {
    const svc = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['providers:read', 'authorizations:read', 'tokens:delegate'],
    });
    await system.users.upsert('default', { sub: 'victim-of-svc' });
    const leaked = await system.clientToken(svc);
    // Before: it works everywhere, and renews itself in a chain (what the attacker did, three times).
    expect(await uses(leaked)).toEqual({ rest: [200, 200], bus: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'] });
    let chained = leaked;
    for (let i = 0; i < 3; i++) {
      const res = await system.api('/api/v1/oauth/principal-token', chained);
      expect(res.status).toBe(200);
      chained = ((await res.json()) as { access_token: string }).access_token;
    }
    const delegated = (
      (await (
        await system.api('/api/v1/oauth/delegated-token', leaked, {
          method: 'POST',
          body: { sub: 'victim-of-svc' },
        })
      ).json()) as { access_token: string }
    ).access_token;

    const disabled = await system.api(`/api/v1/oauth/admin/clients/${svc.clientId}/disable`, admin, {
      method: 'POST',
    });
    expect(disabled.status).toBe(200);
    measured['client disabled (admin API)'] = await BrokerSystem.within(
      BOUND_MS,
      async () =>
        (await refusedEverywhere(leaked)) &&
        (await refusedEverywhere(chained)) &&
        (await refusedEverywhere(delegated)),
    );
    expect(await renew(leaked)).toBe(401);
    expect(await renew(chained)).toBe(401);
    expect(
      (
        await system.api('/api/v1/oauth/delegated-token', leaked, {
          method: 'POST',
          body: { sub: 'victim-of-svc' },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await system.tokenRequest({
          grant_type: 'client_credentials',
          client_id: svc.clientId,
          client_secret: svc.clientSecret,
        })
      ).status,
    ).toBe(401);
  });

  it('refuses a deleted client’s tokens within 5 s when the row is deleted directly (as by the admin CLI: no announcement, polling only)', async () => {
    const svc = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['providers:read', 'authorizations:read'],
    });
    const leaked = await system.clientToken(svc);
    const renewed = (
      (await (await system.api('/api/v1/oauth/principal-token', leaked)).json()) as { access_token: string }
    ).access_token;
    expect(await uses(renewed)).toEqual({ rest: [200, 200], bus: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'] });
    expect(await system.clients.delete(svc.clientId)).toBe(true);
    measured['client deleted (domain lib, like the CLI)'] = await BrokerSystem.within(
      BOUND_MS,
      async () => (await refusedEverywhere(leaked)) && (await refusedEverywhere(renewed)),
    );
    expect(await renew(renewed)).toBe(401);
    expect(
      (
        await system.tokenRequest({
          grant_type: 'client_credentials',
          client_id: svc.clientId,
          client_secret: svc.clientSecret,
        })
      ).status,
    ).toBe(401);
  });

  it('refuses a deleted user’s tokens within 5 s, and neither refresh nor principal-token renews them', async () => {
    await system.users.upsert('default', { sub: 'leaver', email: 'leaver@example.test' }, [
      'providers:read',
      'authorizations:read',
      'tokens:read',
    ]);
    const tokens = await system.userTokens(
      app,
      'leaver@example.test',
      'openid providers:read authorizations:read',
    );
    const renewed = (
      (await (await system.api('/api/v1/oauth/principal-token', tokens.access_token)).json()) as {
        access_token: string;
      }
    ).access_token;
    const delegated = (
      (await (
        await system.api('/api/v1/oauth/delegated-token', admin, {
          method: 'POST',
          body: { sub: 'leaver', scopes: ['providers:read'] },
        })
      ).json()) as {
        access_token: string;
      }
    ).access_token;
    expect((await uses(tokens.access_token)).rest).toEqual([200, 200]);

    const deleted = await system.api('/api/v1/oauth/admin/users/leaver', admin, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    measured['user deleted (admin API)'] = await BrokerSystem.within(
      BOUND_MS,
      async () =>
        (await refusedEverywhere(tokens.access_token)) &&
        (await refusedEverywhere(renewed)) &&
        (await refusedEverywhere(delegated)),
    );
    const refresh = await system.tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await renew(renewed)).toBe(401);
    // Gone is gone: a sign-in as that person is not an invitation any more.
    const again = await system.signIn(app, 'leaver@example.test');
    expect(again.callback.searchParams.get('error')).toBe('access_denied');
  });

  it('revokes a sign-in session (RFC 7009 on its refresh token): every access token of the family stops, on every verifier', async () => {
    await system.users.upsert('default', { sub: 'rita', email: 'rita@example.test' }, ['providers:read']);
    const tokens = await system.userTokens(app, 'rita@example.test', 'openid providers:read');
    const refreshed = await system.tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    });
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    const introspect = async (token: string, hint?: string) =>
      (await (
        await system.tokenRequest(
          {
            token,
            ...(hint ? { token_type_hint: hint } : {}),
            client_id: app.clientId,
            client_secret: app.clientSecret,
          },
          { path: '/api/v1/oauth/introspect' },
        )
      ).json()) as { active: boolean };
    expect(await introspect(next.access_token)).toMatchObject({
      active: true,
      sub: 'rita',
      token_type: 'Bearer',
    });
    expect(await introspect(next.refresh_token, 'refresh_token')).toMatchObject({
      active: true,
      sub: 'rita',
      token_type: 'refresh_token',
    });

    const revoked = await system.tokenRequest(
      {
        token: next.refresh_token,
        token_type_hint: 'refresh_token',
        client_id: app.clientId,
        client_secret: app.clientSecret,
      },
      { path: '/api/v1/oauth/revoke' },
    );
    expect(revoked.status).toBe(200);
    measured['session revoked (RFC 7009)'] = await BrokerSystem.within(BOUND_MS, async () => {
      const rest = await Promise.all(
        [tokens.access_token, next.access_token].flatMap((t) =>
          system.gateways.map((_, i) =>
            system.api('/api/v1/oauth/userinfo', t, { gateway: i }).then((r) => r.status),
          ),
        ),
      );
      return rest.every((s) => s === 401);
    });
    expect(await introspect(next.access_token)).toEqual({ active: false });
    expect(await introspect(next.refresh_token)).toEqual({ active: false });
    const after = await system.tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: next.refresh_token,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    });
    expect(await after.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('lets an operator revoke one token, or everything of a client, without disabling it; other orgs’ ids are 404', async () => {
    const svc = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['providers:read', 'authorizations:read'],
    });
    const one = await system.clientToken(svc);
    const two = await system.clientToken(svc);
    expect(
      (await system.api('/api/v1/oauth/admin/revoke', admin, { method: 'POST', body: { token: one } }))
        .status,
    ).toBe(200);
    await BrokerSystem.within(BOUND_MS, () => refusedEverywhere(one));
    expect((await uses(two)).rest).toEqual([200, 200]);
    expect(
      (
        await system.api('/api/v1/oauth/admin/revoke', admin, {
          method: 'POST',
          body: { client_id: svc.clientId },
        })
      ).status,
    ).toBe(200);
    await BrokerSystem.within(BOUND_MS, () => refusedEverywhere(two));
    await new Promise((r) => setTimeout(r, 2_100)); // tokens issued in the seconds after a revocation are refused too
    const fresh = await system.clientToken(svc);
    expect((await uses(fresh)).rest).toEqual([200, 200]);

    // An operator of another org: its admin API cannot see this org's clients, users or tokens.
    await system.clients.ensureOrg('other', 'Other');
    const otherAdmin = await system.createClient({
      orgId: 'other',
      grantTypes: ['client_credentials'],
      scopes: ['identity:admin'],
    });
    const otherToken = await system.clientToken(otherAdmin);
    for (const [method, path, body] of [
      ['POST', `/api/v1/oauth/admin/clients/${svc.clientId}/disable`, undefined],
      ['DELETE', `/api/v1/oauth/admin/users/rita`, undefined],
      ['POST', '/api/v1/oauth/admin/revoke', { token: fresh }],
      ['POST', '/api/v1/oauth/admin/revoke', { client_id: svc.clientId }],
      ['POST', `/api/v1/oauth/admin/clients/no-such-client/disable`, undefined],
    ] as const) {
      const res = await system.api(path, otherToken, { method, body });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    expect((await uses(fresh)).rest).toEqual([200, 200]);
    // Without the admin scope: 403.
    expect(
      (await system.api(`/api/v1/oauth/admin/clients/${svc.clientId}/disable`, fresh, { method: 'POST' }))
        .status,
    ).toBe(403);
  });

  it('fails closed: with no token-broker to read the revocation list from, the gateway answers 503, never a revoked token', async () => {
    const svc = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['providers:read'],
    });
    const token = await system.clientToken(svc);
    expect((await system.api('/api/v1/oauth/userinfo', token)).status).toBe(200);
    await Promise.all(system.brokers.map((b) => b.stop()));
    try {
      const status = await BrokerSystem.within(
        8_000,
        async () => (await system.api('/api/v2/externalOAuth/providers/', token)).status === 503,
      );
      expect(status).toBeLessThan(8_000);
    } finally {
      for (const b of system.brokers) b.start();
      await Promise.all(system.brokers.map((b) => b.ready()));
    }
    await BrokerSystem.within(
      8_000,
      async () => (await system.api('/api/v2/externalOAuth/providers/', token)).status === 200,
    );
  });
});
