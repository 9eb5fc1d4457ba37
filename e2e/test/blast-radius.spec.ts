import { ClientCredentials } from '@broker/identity';
import { BrokerSystem } from './broker-system';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

interface Job {
  id: string;
  status: 'running' | 'done' | 'failed';
  target: { kind: string; id: string };
  report: {
    revokedUpstream: number;
    removedLocally: number;
    grantsWithdrawn: number;
    brokerTokensRevoked: boolean;
    notRevokedUpstream: { authorizationId: string; providerId: string; userId: string; reason: string }[];
    failures: unknown[];
  };
}

/**
 * Blast-radius revocation against the whole running broker, with oidc-provider as the peer that
 * counts revocations: a user linked at three providers (two that revoke, one that cannot) loses
 * everything in one call — revoked upstream where possible (counted at the peer), gone on every
 * path (bus, REST, token exchange) within 5 s, the report naming what the provider could not
 * revoke — and the same for a consumer and a provider.
 */
describe('blast-radius revocation', () => {
  const system = new BrokerSystem({
    label: 'blast-radius',
    providerClient: true,
    extraProviderClients: ['broker-provider-2', 'broker-provider-3'],
    idpEnv: { DEMO_IDP_TEST_HOOKS: '1' },
  });
  let admin: string;
  const providers: Record<string, string> = {};
  const carol: Record<string, string> = {};
  let bobLink: string;
  let consumer: ClientCredentials;
  let consumerToken: string;
  let carolUser: string;

  const idp = async (method: string, path: string) =>
    (await fetch(`${system.idp.issuer}/__test/${path}`, { method })).json() as Promise<
      Record<string, number>
    >;
  const jobOf = async (id: string): Promise<Job> =>
    (await (await system.api(`/api/v1/oauth/admin/revocation-jobs/${id}`, admin)).json()) as Job;
  const runJob = async (body: Record<string, string>): Promise<Job> => {
    const res = await system.api('/api/v1/oauth/admin/revocation-jobs', admin, { method: 'POST', body });
    expect(res.status).toBe(202);
    const started = (await res.json()) as Job;
    expect(started.status).toBe('running');
    let job = started;
    await BrokerSystem.within(10_000, async () => (job = await jobOf(started.id)).status !== 'running');
    return job;
  };
  const bus = (auth: string, authorizationId: string) =>
    system.bus.request('tokens.acquire', { authorizationId }, { auth }).then(
      () => 'served',
      (e: { code?: string }) => e.code ?? 'error',
    );
  const rest = async (auth: string, authorizationId: string) =>
    (
      await system.api(`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token`, auth, {
        method: 'POST',
      })
    ).status;
  const exchange = async (subject: string, authorizationId: string) => {
    const res = await system.tokenRequest({
      grant_type: EXCHANGE,
      client_id: consumer.clientId,
      client_secret: consumer.clientSecret,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN,
      resource: `urn:broker:authorization:${authorizationId}`,
    });
    return res.status === 200 ? 'served' : (((await res.json()) as { error: string }).error ?? 'error');
  };

  beforeAll(async () => {
    await system.start();
    admin = await system.adminToken();
    providers['revokes-1'] = await system.registerDemoProvider(admin);
    providers['revokes-2'] = await system.registerDemoProvider(admin, 'broker-provider-2');
    // A plain OAuth 2.0 registration of the same server without a revocation endpoint: the broker cannot revoke there.
    const plain = await system.api('/api/v2/externalOAuth/providers/', admin, {
      method: 'POST',
      body: {
        type: 'oauth2',
        name: 'Plain',
        clientId: 'broker-provider-3',
        clientSecret: system.providerSecret,
        scopes: ['openid', 'email', 'offline_access'],
        endpoints: {
          authorizationUrl: `${system.idp.issuer}/auth`,
          tokenUrl: `${system.idp.issuer}/token`,
          userinfoUrl: `${system.idp.issuer}/me`,
        },
      },
    });
    expect(plain.status).toBe(201);
    providers['cannot-revoke'] = ((await plain.json()) as { id: string }).id;
    for (const sub of ['carol', 'bob'])
      await system.users.upsert('default', { sub, email: `${sub}@example.test` }, [
        'tokens:read',
        'authorizations:read',
      ]);
    carolUser = await system.delegatedToken(admin, 'carol', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    const bobUser = await system.delegatedToken(admin, 'bob', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    for (const [name, id] of Object.entries(providers))
      carol[name] = await system.linkAccount(carolUser, id, 'carol@example.test');
    bobLink = await system.linkAccount(bobUser, providers['revokes-1'], 'bob@example.test');
    consumer = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:read'],
    });
    const granted = await system.api(`/api/v1/oauth/admin/clients/${consumer.clientId}/token-grants`, admin, {
      method: 'POST',
      body: { providers: '*', subjects: { mode: 'org' } },
    });
    expect(granted.status).toBe(201);
    consumerToken = await system.clientToken(consumer);
  });

  afterAll(() => system.stop());

  it('takes everything of a user at three providers: revoked at the peer where possible, gone on every path within 5 s, the rest reported', async () => {
    // Before: served on every path (and held in the token-brokers' memory).
    for (const id of Object.values(carol)) {
      expect(await bus(consumerToken, id)).toBe('served');
      expect(await rest(carolUser, id)).toBe(201);
      expect(await exchange(carolUser, id)).toBe('served');
    }
    await idp('POST', 'reset');

    const started = Date.now();
    const job = await runJob({ user: 'carol', reason: 'laptop stolen' });
    expect(job).toMatchObject({ status: 'done', target: { kind: 'user', id: 'carol' } });
    expect(job.report).toMatchObject({
      revokedUpstream: 2,
      removedLocally: 3,
      brokerTokensRevoked: true,
      failures: [],
    });
    expect(job.report.notRevokedUpstream).toEqual([
      expect.objectContaining({
        authorizationId: carol['cannot-revoke'],
        providerId: providers['cannot-revoke'],
        userId: 'carol',
        reason: expect.stringMatching(/not supported/),
      }),
    ]);
    // Counted at the peer: one confirmed revocation per revocable link.
    expect((await idp('GET', 'events'))['revocation.success']).toBe(2);

    // Gone on every path: the bus for a service, REST and exchange with the user's own (now revoked) token.
    const tookMs = await BrokerSystem.within(5_000, async () => {
      for (const id of Object.values(carol)) {
        if ((await bus(consumerToken, id)) !== 'NOT_FOUND') return false;
        if ((await rest(carolUser, id)) !== 401) return false;
        if ((await exchange(carolUser, id)) !== 'invalid_request') return false;
      }
      return true;
    });
    process.stdout.write(
      `blast radius: job done and access gone on every path ${Date.now() - started} ms after the call (paths checked in ${tookMs} ms)\n`,
    );
    expect(Date.now() - started).toBeLessThan(5_000 + 10_000); // the job itself, then the 5 s bound above
    // Someone else's link is untouched.
    expect(await bus(consumerToken, bobLink)).toBe('served');
  });

  it('takes everything of a consumer: grants withdrawn, its broker tokens revoked, and the provider tokens it still holds listed', async () => {
    expect(await bus(consumerToken, bobLink)).toBe('served');
    const job = await runJob({ consumer: consumer.clientId });
    expect(job).toMatchObject({
      status: 'done',
      report: { grantsWithdrawn: 1, brokerTokensRevoked: true, failures: [] },
    });
    expect(job.report.notRevokedUpstream).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          authorizationId: bobLink,
          userId: 'bob',
          reason: expect.stringContaining('stays valid at the provider'),
        }),
      ]),
    );
    await BrokerSystem.within(5_000, async () => (await bus(consumerToken, bobLink)) === 'UNAUTHENTICATED');
    // A token issued afterwards (the revocation covers tokens issued up to 2 s after the call) is served nothing: no grant any more.
    let refused: unknown;
    await BrokerSystem.within(8_000, async () => {
      refused = await system.bus
        .request('tokens.acquire', { authorizationId: bobLink }, { auth: await system.clientToken(consumer) })
        .catch((e: unknown) => e);
      return (refused as { code?: string }).code !== 'UNAUTHENTICATED';
    });
    expect(refused).toMatchObject({
      code: 'FORBIDDEN',
      fields: [expect.objectContaining({ name: 'policy.grant' })],
    });
  });

  it('takes everything at a provider, refuses a malformed request with 422 and another org’s job with 404', async () => {
    await idp('POST', 'reset');
    const job = await runJob({ provider: providers['revokes-1'] });
    expect(job.report).toMatchObject({
      revokedUpstream: 1,
      removedLocally: 1,
      notRevokedUpstream: [],
      failures: [],
    });
    expect((await idp('GET', 'events'))['revocation.success']).toBe(1);
    expect(await bus(admin, bobLink)).toBe('NOT_FOUND');
    const bad = await system.api('/api/v1/oauth/admin/revocation-jobs', admin, {
      method: 'POST',
      body: { user: 'x', provider: providers['revokes-2'] },
    });
    expect(bad.status).toBe(422);
    expect((await system.api('/api/v1/oauth/admin/revocation-jobs/not-a-uuid', admin)).status).toBe(422);
    expect(
      (await system.api('/api/v1/oauth/admin/revocation-jobs/00000000-0000-4000-8000-000000000000', admin))
        .status,
    ).toBe(404);
    const notAdmin = await system.api(
      '/api/v1/oauth/admin/revocation-jobs',
      await system.clientToken(
        await system.createClient({
          orgId: 'default',
          grantTypes: ['client_credentials'],
          scopes: ['tokens:read'],
        }),
      ),
      { method: 'POST', body: { user: 'bob' } },
    );
    expect(notAdmin.status).toBe(403);
  });
});
