import { adapterFor, resolveProvider, type AdapterClient, type ResolvedProvider } from '../../src';
import { GOOGLE_CLIENT, startGoogleFake } from '../fakes/google';
import { bodyOf, pkcePair, pointAt, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must, deviceFlow } from '../support/must';

/** Google adapter against a Google fake: the catalogue's Google provider with its three hosts rewritten to the fake. */
describe('Google adapter', () => {
  let fake: OAuthFake;
  let provider: ResolvedProvider;
  const adapter = adapterFor('google');
  const redirectUri = 'https://broker.example.test/callback';
  const client = (): AdapterClient => clientAtFake(provider, fake, GOOGLE_CLIENT);

  beforeAll(async () => {
    fake = await startGoogleFake();
    provider = pointAt(resolveProvider('google', {}), {
      'https://accounts.google.com/o': `${fake.origin}/o`,
      'https://oauth2.googleapis.com': fake.origin,
      'https://openidconnect.googleapis.com': fake.origin,
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('asks for offline access with consent and incremental scopes', () => {
    expect(adapter.capabilities(provider)).toEqual({
      pkce: true,
      refreshRotation: false,
      revocation: true,
      deviceFlow: true,
      selfHosted: false,
      userInfo: true,
      validate: true,
      consentPrompt: 'optional',
      refreshTokenIdleSeconds: 15_724_800,
    });
    const url = new URL(
      adapter.authorizationUrl(provider, {
        clientId: GOOGLE_CLIENT.id,
        redirectUri,
        scopes: provider.defaultScopes,
        state: 'st',
        codeChallenge: 'ch',
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      scope: 'openid email profile',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
  });

  it('returns no refresh token on a repeated consent or a refresh, and the old one keeps working', async () => {
    const { verifier, challenge } = pkcePair();
    const first = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri, codeChallenge: challenge }),
      redirectUri,
      codeVerifier: verifier,
    });
    expect(first.refreshToken).toBeDefined();
    // The token answer carries an id_token with iss "accounts.google.com": not a failure (it is not used).
    const again = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri, withRefreshToken: false }),
      redirectUri,
    });
    expect(again.accessToken).toBeDefined();
    expect(again.refreshToken).toBeUndefined();
    const refreshed = await adapter.refresh(client(), must(first.refreshToken));
    expect(refreshed.refreshToken).toBeUndefined();
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    await expect(adapter.refresh(client(), must(first.refreshToken))).resolves.toMatchObject({
      tokenType: 'bearer',
    });
    expect(bodyOf(fake.requestsTo('/token')[0])).toMatchObject({
      client_id: GOOGLE_CLIENT.id,
      client_secret: GOOGLE_CLIENT.secret,
      code_verifier: verifier,
    });
  });

  it('maps a revoked refresh token to invalid_grant', async () => {
    await expect(adapter.refresh(client(), 'rt-revoked')).rejects.toMatchObject({ kind: 'invalid_grant' });
  });

  it('runs the device flow: verification_url, 428 pending, 403 slow_down and access_denied, expired_token', async () => {
    const started = await deviceFlow(adapter).start(client(), ['openid', 'email']);
    expect(started).toMatchObject({
      verificationUri: `${fake.origin}/device`,
      userCode: 'WDJB-MJHT',
      interval: 5,
      expiresIn: 900,
    });
    expect(await deviceFlow(adapter).poll(client(), started.deviceCode)).toEqual({ status: 'pending' });
    expect(await deviceFlow(adapter).poll(client(), started.deviceCode)).toMatchObject({
      status: 'authorized',
      tokens: { refreshToken: expect.any(String) },
    });
    fake.device('dc-g', ['slow_down', 'access_denied']);
    expect(await deviceFlow(adapter).poll(client(), 'dc-g')).toEqual({ status: 'slow_down' });
    expect(await deviceFlow(adapter).poll(client(), 'dc-g')).toEqual({ status: 'denied' });
    fake.device('dc-e', ['expired_token']);
    expect(await deviceFlow(adapter).poll(client(), 'dc-e')).toEqual({ status: 'expired' });
  });

  it('validates at /tokeninfo with the token in the body (whatever its scopes), checking it is ours', async () => {
    const at = fake.accessToken('ada', 'https://www.googleapis.com/auth/drive.readonly');
    expect(await adapter.validate(client(), at)).toEqual({ valid: true });
    const [req] = fake.requestsTo('/tokeninfo');
    expect(req.url).toBe('/tokeninfo');
    expect(bodyOf(req)).toEqual({ access_token: at });
    expect(fake.requestsTo('/v1/userinfo')).toHaveLength(0);
    expect(await adapter.validate(client(), 'ya29.dead')).toEqual({
      valid: false,
      error: 'Google token info refused the token (400)',
    });
    expect(await adapter.validate(client(), fake.accessToken('other-client'))).toEqual({
      valid: false,
      error: 'the token was issued to another client',
    });
    fake.apiOverrides.push({ status: 503 });
    await expect(adapter.validate(client(), at)).rejects.toMatchObject({ kind: 'transient' });
  });

  it('revokes with the token alone (no client secret sent), reads OIDC userinfo', async () => {
    expect(await adapter.revoke(client(), { value: 'rt-1', hint: 'refresh_token' })).toEqual({
      revoked: true,
    });
    const [req] = fake.requestsTo('/revoke');
    expect(req.headers.authorization).toBeUndefined();
    expect(bodyOf(req)).toEqual({
      token: 'rt-1',
      token_type_hint: 'refresh_token',
      client_id: GOOGLE_CLIENT.id,
    });
    const user = await adapter.userInfo(client(), fake.accessToken());
    expect(user).toMatchObject({
      sub: '1100',
      name: 'Ada Lovelace',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@gmail.example',
      locale: 'en',
    });
  });
});
