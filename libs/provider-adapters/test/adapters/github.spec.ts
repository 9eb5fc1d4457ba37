import { adapterFor, resolveProvider, type AdapterClient, type ResolvedProvider } from '../../src';
import { GITHUB_CLIENT, startGitHubFake } from '../fakes/github';
import { basicCredentials, bodyOf, pkcePair, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must, deviceFlow } from '../support/must';

/**
 * GitHub adapter against a GitHub Enterprise Server fake: the provider is resolved by the catalogue
 * with `baseUrl` = the fake's origin (self-hosted profile: `{base}/login/oauth/*`, API `{base}/api/v3`).
 * The cloud profile differs only in those URLs.
 */
describe('GitHub adapter (Enterprise Server fake)', () => {
  let fake: OAuthFake & { formAlways: boolean };
  let provider: ResolvedProvider;
  const adapter = adapterFor('github');
  const redirectUri = 'https://broker.example.test/callback';
  const client = (secret = GITHUB_CLIENT.secret): AdapterClient =>
    clientAtFake(provider, fake, GITHUB_CLIENT, secret);

  beforeAll(async () => {
    fake = await startGitHubFake();
    provider = resolveProvider(
      'github',
      { baseUrl: fake.origin },
      { allowLoopback: true, allowedPorts: [fake.server.port] },
    );
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
    fake.formAlways = false;
  });

  it('is resolved as Enterprise Server with the grant API and device flow', () => {
    expect(provider.selfHosted).toBe(true);
    expect(provider.endpoints.userinfoUrl).toBe(`${fake.origin}/api/v3/user`);
    expect(adapter.capabilities(provider)).toEqual({
      pkce: true,
      refreshRotation: true,
      revocation: true,
      deviceFlow: true,
      selfHosted: true,
      userInfo: true,
      validate: true,
      consentPrompt: 'unsupported',
      refreshTokenIdleSeconds: null,
    });
    const url = new URL(
      adapter.authorizationUrl(provider, {
        clientId: GITHUB_CLIENT.id,
        redirectUri,
        scopes: provider.defaultScopes,
        state: 'st',
        codeChallenge: 'ch',
      }),
    );
    expect(url.pathname).toBe('/login/oauth/authorize');
    expect(url.searchParams.get('scope')).toBe('read:user user:email');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  });

  it('asks for JSON, authenticates in the body, and reads the 8-hour token with its rotating refresh token', async () => {
    const { verifier, challenge } = pkcePair();
    const code = fake.grantCode({ redirectUri, codeChallenge: challenge });
    const tokens = await adapter.exchangeCode(client(), { code, redirectUri, codeVerifier: verifier });
    const [req] = fake.requestsTo('/login/oauth/access_token');
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers.authorization).toBeUndefined();
    expect(bodyOf(req)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: GITHUB_CLIENT.id,
      client_secret: GITHUB_CLIENT.secret,
    });
    expect(must(tokens.expiresAt).getTime() - Date.now()).toBeGreaterThan(28_700_000);
    expect(must(tokens.refreshTokenExpiresAt).getTime() - Date.now()).toBeGreaterThan(15_897_000_000);
    const rotated = await adapter.refresh(client(), must(tokens.refreshToken));
    expect(rotated.refreshToken).toBeDefined();
    expect(rotated.refreshToken).not.toBe(tokens.refreshToken);
  });

  it('still parses a form-encoded answer (numbers included)', async () => {
    fake.formAlways = true;
    const tokens = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri }),
      redirectUri,
    });
    expect(tokens).toMatchObject({ tokenType: 'bearer', scope: 'read' });
    expect(tokens.accessToken).toMatch(/^at-/);
    expect(must(tokens.expiresAt).getTime() - Date.now()).toBeGreaterThan(28_700_000);
  });

  it.each([false, true])('maps the HTTP-200 errors (form-encoded answer: %s)', async (form) => {
    fake.formAlways = form;
    await expect(adapter.exchangeCode(client(), { code: 'code-unknown', redirectUri })).rejects.toMatchObject(
      { kind: 'invalid_grant', message: expect.stringContaining('bad_verification_code') },
    );
    await expect(
      adapter.exchangeCode(client('nope'), { code: fake.grantCode({ redirectUri }), redirectUri }),
    ).rejects.toMatchObject({ kind: 'invalid_client' });
    const tokens = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri }),
      redirectUri,
    });
    await adapter.refresh(client(), must(tokens.refreshToken));
    const reused = (await adapter
      .refresh(client(), must(tokens.refreshToken))
      .catch((e: Error) => e)) as Error;
    expect(reused).toMatchObject({
      kind: 'invalid_grant',
      message: expect.stringContaining('bad_refresh_token'),
    });
    expect(reused.message).not.toContain(must(tokens.refreshToken));
  });

  it('runs the device flow with the client id alone, honouring slow_down’s new interval', async () => {
    const started = await deviceFlow(adapter).start(client(), ['repo']);
    const [start] = fake.requestsTo('/login/device/code');
    expect(start.headers.accept).toBe('application/json');
    expect(start.headers.authorization).toBeUndefined();
    expect(bodyOf(start)).toEqual({ client_id: GITHUB_CLIENT.id, scope: 'repo' });
    expect(started).toMatchObject({ userCode: 'WDJB-MJHT', interval: 5, expiresIn: 900 });
    expect(await deviceFlow(adapter).poll(client(), started.deviceCode)).toEqual({ status: 'pending' });
    const done = await deviceFlow(adapter).poll(client(), started.deviceCode);
    expect(done).toMatchObject({ status: 'authorized', tokens: { refreshToken: expect.any(String) } });
    for (const poll of fake.requestsTo('/login/oauth/access_token')) {
      expect(bodyOf(poll)).toEqual({
        client_id: GITHUB_CLIENT.id,
        device_code: started.deviceCode,
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      });
    }

    fake.formAlways = true;
    fake.device('dc-gh', ['slow_down', 'access_denied']);
    expect(await deviceFlow(adapter).poll(client(), 'dc-gh')).toEqual({ status: 'slow_down', interval: 10 });
    expect(await deviceFlow(adapter).poll(client(), 'dc-gh')).toEqual({ status: 'denied' });
    fake.device('dc-late', ['expired_token']);
    expect(await deviceFlow(adapter).poll(client(), 'dc-late')).toEqual({ status: 'expired' });
    expect(await deviceFlow(adapter).poll(client(), 'dc-bogus')).toMatchObject({
      status: 'failed',
      error: { kind: 'invalid_grant' },
    });
  });

  it('reads /user and takes the primary e-mail from /user/emails when /user has none', async () => {
    const at = fake.accessToken('octocat');
    const user = await adapter.userInfo(client(), at);
    expect(user).toMatchObject({
      sub: '583231',
      nickName: 'octocat',
      name: 'The Octocat',
      email: 'octocat@example.test',
      picture: 'https://avatars.example/u/583231',
    });
    const [req] = fake.requestsTo('/api/v3/user');
    expect(req.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      authorization: `Bearer ${at}`,
    });
    expect(req.headers['user-agent']).toBeTruthy();
  });

  it('lists the GitHub App installations the user can reach, and none for an OAuth app’s token (403)', async () => {
    const at = fake.accessToken('octocat');
    expect(await adapter.installations?.(client(), at)).toEqual([
      {
        id: 1296269,
        account: {
          id: 9919,
          login: 'octo-org',
          name: 'octo-org',
          avatarUrl: 'https://avatars.example/u/9919',
          profileUrl: 'https://github.example/octo-org',
        },
        configureUrl: 'https://github.example/organizations/octo-org/settings/installations/1296269',
        appSlug: 'broker-app',
      },
    ]);
    const [req] = fake.requestsTo('/api/v3/user/installations');
    expect(req.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${at}`,
    });
    expect(await adapter.installations?.(client(), fake.accessToken('oauth-app-user'))).toEqual([]);
  });

  it('validates with GET /user; rate-limit 403s and 429s are transient, never a dead token', async () => {
    const at = fake.accessToken();
    expect(await adapter.validate(client(), at)).toEqual({ valid: true });
    expect(await adapter.validate(client(), 'gho_revoked')).toEqual({
      valid: false,
      error: 'GitHub refused the token (401)',
    });

    const reset = Math.floor(Date.now() / 1000) + 60;
    fake.apiOverrides.push({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: { message: 'API rate limit exceeded for user ID 1.' },
    });
    const primary = await adapter.validate(client(), at).catch((e: unknown) => e);
    expect(primary).toMatchObject({ kind: 'transient' });
    expect((primary as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(58);

    fake.apiOverrides.push({
      status: 403,
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      },
    });
    await expect(adapter.userInfo(client(), at)).rejects.toMatchObject({ kind: 'transient' });
    fake.apiOverrides.push({ status: 403, headers: { 'retry-after': '30' }, body: { message: 'secondary' } });
    await expect(adapter.validate(client(), at)).rejects.toMatchObject({
      kind: 'transient',
      retryAfterSeconds: 30,
    });
    fake.apiOverrides.push({ status: 429, headers: { 'retry-after': '2' } });
    await expect(adapter.validate(client(), at)).rejects.toMatchObject({
      kind: 'transient',
      retryAfterSeconds: 2,
    });
    // A 403 that is not a rate limit is a refused token.
    fake.apiOverrides.push({
      status: 403,
      body: { message: 'Resource protected by organization SAML enforcement.' },
    });
    expect(await adapter.validate(client(), at)).toEqual({
      valid: false,
      error: 'GitHub refused the token (403)',
    });
  });

  it('revokes through the applications grant API with Basic client auth', async () => {
    const at = fake.accessToken();
    expect(await adapter.revoke(client(), { value: at, hint: 'access_token' })).toEqual({ revoked: true });
    const [req] = fake.requestsTo(`/api/v3/applications/${GITHUB_CLIENT.id}/grant`);
    expect(req.method).toBe('DELETE');
    expect(basicCredentials(req)).toEqual([GITHUB_CLIENT.id, GITHUB_CLIENT.secret]);
    expect(JSON.parse(req.body)).toEqual({ access_token: at });
  });
});
