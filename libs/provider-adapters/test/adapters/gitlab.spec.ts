import { adapterFor, resolveProvider, type AdapterClient, type ResolvedProvider } from '../../src';
import { GITLAB_CLIENT, startGitLabFake } from '../fakes/gitlab';
import { bodyOf, pkcePair, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must, deviceFlow } from '../support/must';

/** GitLab adapter against a GitLab Self-Managed fake, resolved by the catalogue with `baseUrl` = `{fake}/gitlab` (path prefix kept). */
describe('GitLab adapter (Self-Managed fake under a path prefix)', () => {
  let fake: OAuthFake;
  let provider: ResolvedProvider;
  const adapter = adapterFor('gitlab');
  const redirectUri = 'https://broker.example.test/callback';
  const client = (secret = GITLAB_CLIENT.secret): AdapterClient =>
    clientAtFake(provider, fake, GITLAB_CLIENT, secret);

  beforeAll(async () => {
    fake = await startGitLabFake();
    provider = resolveProvider(
      'gitlab',
      { baseUrl: `${fake.origin}/gitlab/` },
      { allowLoopback: true, allowedPorts: [fake.server.port] },
    );
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('is self-managed with PKCE, rotation, RFC 7009 and the device flow', () => {
    expect(provider.endpoints.tokenUrl).toBe(`${fake.origin}/gitlab/oauth/token`);
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
        clientId: GITLAB_CLIENT.id,
        redirectUri,
        scopes: ['read_user', 'api'],
        state: 'st',
        codeChallenge: 'ch',
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`${fake.origin}/gitlab/oauth/authorize`);
    expect(url.searchParams.get('scope')).toBe('read_user api');
    expect(url.searchParams.get('code_challenge')).toBe('ch');
  });

  it('exchanges with PKCE and rotates refresh tokens (the used one is revoked)', async () => {
    const { verifier, challenge } = pkcePair();
    const tokens = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri, codeChallenge: challenge }),
      redirectUri,
      codeVerifier: verifier,
    });
    expect(bodyOf(fake.requestsTo('/gitlab/oauth/token')[0])).toMatchObject({
      code_verifier: verifier,
      client_id: GITLAB_CLIENT.id,
      client_secret: GITLAB_CLIENT.secret,
    });
    const second = await adapter.refresh(client(), must(tokens.refreshToken));
    expect(second.refreshToken).not.toBe(tokens.refreshToken);
    await expect(adapter.refresh(client(), must(tokens.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
    await expect(adapter.refresh(client('bad'), must(second.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_client',
    });
  });

  it('validates with GET /oauth/token/info and reads /api/v4/user', async () => {
    const at = fake.accessToken('ada', 'read_user');
    expect(await adapter.validate(client(), at)).toEqual({ valid: true });
    const [info] = fake.requestsTo('/gitlab/oauth/token/info');
    expect(info.headers.authorization).toBe(`Bearer ${at}`);
    must(fake.accessTokens.get(at)).alive = false;
    expect(await adapter.validate(client(), at)).toEqual({
      valid: false,
      error: 'GitLab token info refused the token (401)',
    });
    expect(fake.requestsTo('/gitlab/api/v4/user')).toHaveLength(0);
    expect(await adapter.userInfo(client(), fake.accessToken('grace'))).toMatchObject({
      sub: '42',
      nickName: 'grace',
      name: 'Ada Lovelace',
      email: 'ada@gitlab.example',
    });
  });

  it('revokes at /oauth/revoke (RFC 7009, client credentials in the body)', async () => {
    const tokens = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri }),
      redirectUri,
    });
    expect(
      await adapter.revoke(client(), { value: must(tokens.refreshToken), hint: 'refresh_token' }),
    ).toEqual({ revoked: true });
    expect(bodyOf(fake.requestsTo('/gitlab/oauth/revoke')[0])).toEqual({
      token: tokens.refreshToken,
      token_type_hint: 'refresh_token',
      client_id: GITLAB_CLIENT.id,
      client_secret: GITLAB_CLIENT.secret,
    });
    await expect(adapter.refresh(client(), must(tokens.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
  });

  it('runs the device flow at /oauth/authorize_device', async () => {
    const started = await deviceFlow(adapter).start(client(), ['read_user']);
    expect(bodyOf(fake.requestsTo('/gitlab/oauth/authorize_device')[0])).toEqual({
      client_id: GITLAB_CLIENT.id,
      client_secret: GITLAB_CLIENT.secret,
      scope: 'read_user',
    });
    expect(await deviceFlow(adapter).poll(client(), started.deviceCode)).toEqual({ status: 'pending' });
    expect(await deviceFlow(adapter).poll(client(), started.deviceCode)).toMatchObject({
      status: 'authorized',
    });
    fake.device('dc-x', ['slow_down', 'access_denied']);
    expect(await deviceFlow(adapter).poll(client(), 'dc-x')).toEqual({ status: 'slow_down' });
    expect(await deviceFlow(adapter).poll(client(), 'dc-x')).toEqual({ status: 'denied' });
  });
});
