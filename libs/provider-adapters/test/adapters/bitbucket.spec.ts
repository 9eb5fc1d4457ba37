import { adapterFor, resolveProvider, type AdapterClient, type ResolvedProvider } from '../../src';
import { BITBUCKET_CLIENT, startBitbucketFake } from '../fakes/bitbucket';
import { basicCredentials, bodyOf, pointAt, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must } from '../support/must';

/**
 * Bitbucket adapter. Cloud: the catalogue's cloud provider with bitbucket.org and
 * api.bitbucket.org rewritten to the fake. Data Center: resolved by the catalogue with
 * `baseUrl` = `{fake}/bbdc`.
 */
describe('Bitbucket adapter (Cloud fake, Data Center REST fake)', () => {
  let fake: OAuthFake;
  let cloud: ResolvedProvider;
  let dc: ResolvedProvider;
  const adapter = adapterFor('bitbucket');
  const redirectUri = 'https://broker.example.test/callback';
  const client = (provider: ResolvedProvider, secret = BITBUCKET_CLIENT.secret): AdapterClient =>
    clientAtFake(provider, fake, BITBUCKET_CLIENT, secret);

  beforeAll(async () => {
    fake = await startBitbucketFake();
    cloud = pointAt(resolveProvider('bitbucket', {}), {
      'https://api.bitbucket.org': fake.origin,
      'https://bitbucket.org': fake.origin,
    });
    dc = resolveProvider(
      'bitbucket',
      { baseUrl: `${fake.origin}/bbdc` },
      { allowLoopback: true, allowedPorts: [fake.server.port] },
    );
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('reports no PKCE and no revocation on Cloud, PKCE on Data Center', () => {
    expect(adapter.capabilities(cloud)).toEqual({
      pkce: false,
      refreshRotation: true,
      revocation: false,
      deviceFlow: false,
      selfHosted: true,
      userInfo: true,
      validate: true,
      consentPrompt: 'unsupported',
      refreshTokenIdleSeconds: null,
    });
    expect(adapter.capabilities(dc)).toEqual({
      pkce: true,
      refreshRotation: true,
      revocation: false,
      deviceFlow: false,
      selfHosted: true,
      userInfo: true,
      validate: true,
      consentPrompt: 'unsupported',
      refreshTokenIdleSeconds: 7_776_000,
    });
    const url = new URL(
      adapter.authorizationUrl(cloud, {
        clientId: BITBUCKET_CLIENT.id,
        redirectUri,
        scopes: ['account', 'email'],
        state: 'st',
        codeChallenge: 'ch',
      }),
    );
    expect(url.searchParams.has('code_challenge')).toBe(false);
  });

  it('authenticates the client with HTTP Basic (the fake refuses anything else) and rotates refresh tokens', async () => {
    const tokens = await adapter.exchangeCode(client(cloud), {
      code: fake.grantCode({ redirectUri }),
      redirectUri,
      codeVerifier: 'ignored-without-pkce',
    });
    const [req] = fake.requestsTo('/site/oauth2/access_token');
    expect(basicCredentials(req)).toEqual([BITBUCKET_CLIENT.id, BITBUCKET_CLIENT.secret]);
    expect(bodyOf(req)).toEqual({
      grant_type: 'authorization_code',
      code: expect.any(String),
      redirect_uri: redirectUri,
    });
    const next = await adapter.refresh(client(cloud), must(tokens.refreshToken));
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    await expect(adapter.refresh(client(cloud), must(tokens.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
    // The same request with the credentials in the body is refused by Bitbucket.
    const posting = { ...cloud, tokenEndpointAuthMethod: 'client_secret_post' as const };
    await expect(adapter.refresh(client(posting), must(next.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_client',
    });
  });

  it('has no revocation: unsupported, without a request', async () => {
    expect(await adapter.revoke(client(cloud), { value: 'rt', hint: 'refresh_token' })).toEqual({
      revoked: false,
      unsupported: true,
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('reads /2.0/user plus the primary e-mail, and validates', async () => {
    const at = fake.accessToken('ada');
    expect(await adapter.userInfo(client(cloud), at)).toMatchObject({
      sub: '557058:abc',
      name: 'Ada Lovelace',
      nickName: 'ada',
      email: 'ada@example.test',
      picture: 'https://avatar.bitbucket.example/ada.png',
    });
    expect(fake.requestsTo('/2.0/user/emails')[0].headers.authorization).toBe(`Bearer ${at}`);
    expect(await adapter.validate(client(cloud), at)).toEqual({ valid: true });
    expect(await adapter.validate(client(cloud), 'dead')).toEqual({
      valid: false,
      error: 'Bitbucket refused the token (401)',
    });
    // Without the email permission the user still comes back.
    fake.apiOverrides.push(
      { status: 200, body: { account_id: 'x', display_name: 'X' } },
      { status: 403, body: { error: { message: 'forbidden' } } },
    );
    expect(await adapter.userInfo(client(cloud), at)).toMatchObject({ sub: 'x', name: 'X' });
  });

  it('Data Center: the user from X-AUSERNAME and /users/{slug}', async () => {
    const at = fake.accessToken('ada');
    expect(await adapter.userInfo(client(dc), at)).toMatchObject({
      sub: '101',
      nickName: 'ada',
      name: 'Ada Lovelace',
      email: 'ada@dc.example',
    });
    expect(await adapter.validate(client(dc), 'dead')).toMatchObject({ valid: false });
  });
});
