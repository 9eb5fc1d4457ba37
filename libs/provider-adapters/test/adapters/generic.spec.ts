import {
  adapterFor,
  ProviderCallError,
  resolveProvider,
  resolveProviderAsync,
  type AdapterClient,
  type ResolvedProvider,
} from '../../src';
import { startGenericFake } from '../fakes/generic';
import { basicCredentials, bodyOf, pkcePair, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must, deviceFlow } from '../support/must';

/** An unsigned-signature JWT (oauth4webapi checks a token-endpoint id_token's claims, not its signature: TLS vouches for it). */
function idToken(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('sig').toString('base64url')}`;
}

describe('generic adapters (oauth2 explicit endpoints, oidc discovery) against a standards-following fake', () => {
  let fake: OAuthFake;
  let oauth2: ResolvedProvider;
  let oidc: ResolvedProvider;
  const redirectUri = 'https://broker.example.test/callback';

  beforeAll(async () => {
    fake = await startGenericFake();
    const policy = { allowLoopback: true, allowedPorts: [fake.server.port] };
    // oauth2: explicit endpoints on the fake, as an org would configure them.
    oauth2 = resolveProvider(
      'oauth2',
      {
        endpoints: {
          authorizationUrl: `${fake.origin}/authorize`,
          tokenUrl: `${fake.origin}/token`,
          userinfoUrl: `${fake.origin}/userinfo`,
          revocationUrl: `${fake.origin}/revoke`,
          deviceAuthorizationUrl: `${fake.origin}/device_authorization`,
        },
      },
      policy,
    );
    // oidc: real discovery of the fake's document.
    oidc = await resolveProviderAsync('oidc', { issuer: fake.origin }, { fetch: fake.fetch, policy });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const client = (provider: ResolvedProvider, secret = 'generic-secret'): AdapterClient =>
    clientAtFake(provider, fake, { id: 'generic-app', secret });

  it('adapterFor picks the adapter by type or by provider', () => {
    expect(adapterFor('oauth2').type).toBe('oauth2');
    expect(adapterFor(oidc).type).toBe('oidc');
    expect(() => adapterFor('nope' as never)).toThrow(TypeError);
  });

  it('reports capabilities from the endpoints it was given / discovered', () => {
    expect(adapterFor(oauth2).capabilities(oauth2)).toEqual({
      pkce: true,
      refreshRotation: true,
      revocation: true,
      deviceFlow: true,
      selfHosted: false,
      userInfo: true,
      validate: true,
      consentPrompt: 'unsupported',
      refreshTokenIdleSeconds: 1_209_600,
    });
    expect(adapterFor(oidc).capabilities(oidc)).toEqual({
      pkce: true,
      refreshRotation: true,
      revocation: true,
      deviceFlow: true,
      selfHosted: false,
      userInfo: true,
      validate: true,
      consentPrompt: 'optional',
      refreshTokenIdleSeconds: 1_209_600,
    });
    const bare = resolveProvider(
      'oauth2',
      { endpoints: { authorizationUrl: `${fake.origin}/a`, tokenUrl: `${fake.origin}/t` } },
      { allowLoopback: true, allowedPorts: [fake.server.port] },
    );
    expect(adapterFor(bare).capabilities(bare)).toMatchObject({
      revocation: false,
      deviceFlow: false,
      userInfo: false,
      validate: false,
    });
  });

  it('builds the authorization URL with PKCE S256 and the state', () => {
    const url = new URL(
      adapterFor(oidc).authorizationUrl(oidc, {
        clientId: 'generic-app',
        redirectUri,
        scopes: oidc.defaultScopes,
        state: 's-1',
        codeChallenge: 'ch',
      }),
    );
    expect(url.origin + url.pathname).toBe(`${fake.origin}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'generic-app',
      redirect_uri: redirectUri,
      scope: 'openid profile email offline_access',
      state: 's-1',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
  });

  it('exchanges a code with the PKCE verifier and Basic client authentication, then refreshes with rotation', async () => {
    const adapter = adapterFor(oauth2);
    const { verifier, challenge } = pkcePair();
    const code = fake.grantCode({ redirectUri, codeChallenge: challenge });
    const tokens = await adapter.exchangeCode(client(oauth2), { code, redirectUri, codeVerifier: verifier });
    expect(tokens).toMatchObject({ tokenType: 'bearer', scope: 'read' });
    expect(tokens.accessToken).toMatch(/^at-/);
    expect(tokens.refreshToken).toMatch(/^rt-/);
    expect(must(tokens.expiresAt).getTime()).toBeGreaterThan(Date.now() + 3500_000);
    const [req] = fake.requestsTo('/token');
    expect(basicCredentials(req)).toEqual(['generic-app', 'generic-secret']);
    expect(bodyOf(req)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    expect(req.headers.accept).toBe('application/json');

    const refreshed = await adapter.refresh(client(oauth2), must(tokens.refreshToken));
    expect(refreshed.refreshToken).toMatch(/^rt-/);
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    // The rotated-out refresh token is dead: invalid_grant.
    await expect(adapter.refresh(client(oauth2), must(tokens.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
  });

  it('maps a refused client to invalid_client and a wrong verifier to invalid_grant, never echoing secrets', async () => {
    const adapter = adapterFor(oauth2);
    const code = fake.grantCode({ redirectUri });
    const err = await adapter
      .exchangeCode(client(oauth2, 'wrong-secret'), { code, redirectUri })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderCallError);
    expect(err).toMatchObject({ kind: 'invalid_client' });
    expect(String((err as Error).message)).not.toMatch(/wrong-secret|code-/);
    const { challenge } = pkcePair();
    const code2 = fake.grantCode({ redirectUri, codeChallenge: challenge });
    await expect(
      adapter.exchangeCode(client(oauth2), {
        code: code2,
        redirectUri,
        codeVerifier: 'not-the-verifier-at-all-0123456789abcdefghij',
      }),
    ).rejects.toMatchObject({ kind: 'invalid_grant' });
  });

  it('maps 5xx and 429 to transient with the advertised Retry-After', async () => {
    const adapter = adapterFor(oauth2);
    fake.apiOverrides.push({ status: 503, headers: { 'retry-after': '7' } });
    await expect(adapter.userInfo(client(oauth2), fake.accessToken())).rejects.toMatchObject({
      kind: 'transient',
      retryAfterSeconds: 7,
    });
    fake.apiOverrides.push({ status: 429, headers: { 'retry-after': '3' } });
    await expect(adapter.validate(client(oauth2), fake.accessToken())).rejects.toMatchObject({
      kind: 'transient',
      retryAfterSeconds: 3,
    });
    // Unreachable (here: a port the egress guard refuses): transient too.
    const gone = { ...oauth2, endpoints: { ...oauth2.endpoints, tokenUrl: 'http://127.0.0.1:9/token' } };
    const closedFetch = client(gone);
    await expect(adapter.refresh(closedFetch, 'rt')).rejects.toMatchObject({ kind: 'transient' });
  });

  it('reads userinfo and validates a token (refused → valid: false)', async () => {
    const adapter = adapterFor(oidc);
    const at = fake.accessToken('grace');
    expect(await adapter.userInfo(client(oidc), at)).toMatchObject({
      sub: 'sub-grace',
      name: 'Ada Lovelace',
      email: 'ada@example.test',
      nickName: 'grace',
    });
    expect(fake.requestsTo('/userinfo')[0].headers.authorization).toBe(`Bearer ${at}`);
    expect(await adapter.validate(client(oidc), at)).toEqual({ valid: true });
    expect(await adapter.validate(client(oidc), 'at-unknown')).toEqual({
      valid: false,
      error: 'the userinfo endpoint refused the token (401)',
    });
  });

  it('revokes through RFC 7009 with the type hint, and says unsupported without a revocation endpoint', async () => {
    const rt = fake.grantCode({ redirectUri });
    const tokens = await adapterFor(oidc).exchangeCode(client(oidc), { code: rt, redirectUri });
    expect(
      await adapterFor(oidc).revoke(client(oidc), {
        value: must(tokens.refreshToken),
        hint: 'refresh_token',
      }),
    ).toEqual({ revoked: true });
    const [req] = fake.requestsTo('/revoke');
    expect(bodyOf(req)).toEqual({ token: tokens.refreshToken, token_type_hint: 'refresh_token' });
    expect(basicCredentials(req)).toEqual(['generic-app', 'generic-secret']);
    const bare = {
      ...oauth2,
      revocation: { kind: 'none' as const },
      endpoints: { ...oauth2.endpoints, revocationUrl: undefined },
    };
    expect(await adapterFor(bare).revoke(client(bare), { value: 'x', hint: 'access_token' })).toEqual({
      revoked: false,
      unsupported: true,
    });
  });

  it('runs the device flow: start (interval default 5), pending, slow_down, denied, expired, authorized', async () => {
    const adapter = adapterFor(oidc);
    const started = await deviceFlow(adapter).start(client(oidc), ['openid']);
    expect(started).toEqual({
      deviceCode: expect.stringMatching(/^dc-/),
      userCode: 'WDJB-MJHT',
      verificationUri: `${fake.origin}/device`,
      expiresIn: 900,
      interval: 5,
    });
    expect(bodyOf(fake.requestsTo('/device_authorization')[0])).toEqual({
      client_id: 'generic-app',
      scope: 'openid',
    });
    expect(await deviceFlow(adapter).poll(client(oidc), started.deviceCode)).toEqual({ status: 'pending' });
    const done = await deviceFlow(adapter).poll(client(oidc), started.deviceCode);
    expect(done).toMatchObject({
      status: 'authorized',
      tokens: { accessToken: expect.stringMatching(/^at-/), refreshToken: expect.stringMatching(/^rt-/) },
    });
    expect(bodyOf(fake.requestsTo('/token')[0])).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: started.deviceCode,
    });

    fake.device('dc-slow', ['slow_down', 'access_denied']);
    expect(await deviceFlow(adapter).poll(client(oidc), 'dc-slow')).toEqual({ status: 'slow_down' });
    expect(await deviceFlow(adapter).poll(client(oidc), 'dc-slow')).toEqual({ status: 'denied' });
    fake.device('dc-old', ['expired_token']);
    expect(await deviceFlow(adapter).poll(client(oidc), 'dc-old')).toEqual({ status: 'expired' });
    const failed = await deviceFlow(adapter).poll(client(oidc), 'dc-unknown');
    expect(failed).toMatchObject({ status: 'failed', error: { kind: 'invalid_grant' } });
  });

  it('oidc: checks the RFC 9207 iss of the callback and validates a returned id_token against the issuer', async () => {
    const adapter = adapterFor(oidc);
    expect(adapter.expectedIssuer?.(oidc)).toBe(fake.origin);
    await expect(
      adapter.exchangeCode(client(oidc), {
        code: fake.grantCode({ redirectUri }),
        redirectUri,
        iss: 'https://evil.example',
      }),
    ).rejects.toMatchObject({ kind: 'rejected' });
    expect(fake.requestsTo('/token')).toHaveLength(0);
    await expect(
      adapter.exchangeCode(client(oidc), {
        code: fake.grantCode({ redirectUri }),
        redirectUri,
        iss: fake.origin,
      }),
    ).resolves.toMatchObject({ tokenType: 'bearer' });

    const now = Math.floor(Date.now() / 1000);
    const good = idToken({ iss: fake.origin, aud: 'generic-app', sub: 'sub-ada', iat: now, exp: now + 300 });
    const bad = idToken({
      iss: 'https://other.example',
      aud: 'generic-app',
      sub: 'sub-ada',
      iat: now,
      exp: now + 300,
    });
    fake.options.tokenExtras = { id_token: good };
    try {
      await expect(
        adapter.exchangeCode(client(oidc), { code: fake.grantCode({ redirectUri }), redirectUri }),
      ).resolves.toMatchObject({ tokenType: 'bearer' });
      fake.options.tokenExtras = { id_token: bad };
      await expect(
        adapter.exchangeCode(client(oidc), { code: fake.grantCode({ redirectUri }), redirectUri }),
      ).rejects.toMatchObject({ kind: 'rejected' });
      // oauth2 has no issuer to check an id_token against: it is dropped, not a failure.
      await expect(
        adapterFor(oauth2).exchangeCode(client(oauth2), {
          code: fake.grantCode({ redirectUri }),
          redirectUri,
        }),
      ).resolves.toMatchObject({ tokenType: 'bearer' });
    } finally {
      delete fake.options.tokenExtras;
    }
  });

  it('exchanges a code and revokes the token without a type hint (no token_type_hint sent)', async () => {
    const code = fake.grantCode({ redirectUri });
    const adapter = adapterFor(oauth2);
    const c = {
      provider: oauth2,
      clientId: 'generic-app',
      clientSecret: 'generic-secret',
      fetch: fake.fetch,
    };
    const tokens = await adapter.exchangeCode(c, { code, redirectUri });
    expect(tokens.accessToken).toMatch(/^at-/);
    expect(await adapter.revoke(c, { value: tokens.accessToken })).toEqual({ revoked: true });
    expect(bodyOf(fake.requestsTo('/revoke')[0])).toEqual({ token: tokens.accessToken });
  });
});
