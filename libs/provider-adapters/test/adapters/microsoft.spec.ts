import { adapterFor, resolveProvider, type AdapterClient, type ResolvedProvider } from '../../src';
import { MS_CLIENT, MS_TENANT, aadsts, startMicrosoftFake } from '../fakes/microsoft';
import { bodyOf, pkcePair, pointAt, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must, deviceFlow } from '../support/must';

/**
 * Microsoft and SharePoint adapters against an Entra fake for one tenant: the catalogue's
 * providers with login.microsoftonline.com, graph.microsoft.com and the SharePoint site's
 * `/_api` rewritten to the fake (the SharePoint scopes keep the real site host).
 */
describe('Microsoft (Entra) and SharePoint adapters', () => {
  let fake: OAuthFake;
  let ms: ResolvedProvider;
  let otherTenant: ResolvedProvider;
  let sp: ResolvedProvider;
  const adapter = adapterFor('microsoft');
  const redirectUri = 'https://broker.example.test/callback';
  const client = (provider: ResolvedProvider, secret = MS_CLIENT.secret): AdapterClient =>
    clientAtFake(provider, fake, MS_CLIENT, secret);

  beforeAll(async () => {
    fake = await startMicrosoftFake();
    const hosts = {
      'https://login.microsoftonline.com': fake.origin,
      'https://graph.microsoft.com': fake.origin,
    };
    ms = pointAt(resolveProvider('microsoft', { tenant: MS_TENANT }), hosts);
    otherTenant = pointAt(resolveProvider('microsoft', { tenant: 'fabrikam.onmicrosoft.com' }), hosts);
    sp = pointAt(resolveProvider('sharepoint', { host: 'contoso.sharepoint.com', tenant: MS_TENANT }), {
      ...hosts,
      'https://contoso.sharepoint.com/_api': `${fake.origin}/_api`,
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('uses the tenant authority and adds offline_access', () => {
    expect(adapter.capabilities(ms)).toEqual({
      pkce: true,
      refreshRotation: true,
      revocation: false,
      deviceFlow: true,
      selfHosted: false,
      userInfo: true,
      validate: true,
      consentPrompt: 'optional',
      refreshTokenIdleSeconds: 7_776_000,
    });
    const url = new URL(
      adapter.authorizationUrl(ms, {
        clientId: MS_CLIENT.id,
        redirectUri,
        scopes: ['User.Read'],
        state: 'st',
        codeChallenge: 'ch',
      }),
    );
    expect(url.pathname).toBe(`/${MS_TENANT}/oauth2/v2.0/authorize`);
    expect(url.searchParams.get('scope')).toBe('User.Read offline_access');
    expect(adapter.expectedIssuer?.(ms)).toBe(`${fake.origin}/${MS_TENANT}/v2.0`);
  });

  it('exchanges and refreshes on the tenant path with rotation; another tenant’s path fails', async () => {
    const { verifier, challenge } = pkcePair();
    const tokens = await adapter.exchangeCode(client(ms), {
      code: fake.grantCode({ redirectUri, codeChallenge: challenge }),
      redirectUri,
      codeVerifier: verifier,
    });
    expect(fake.requests[0].url).toBe(`/${MS_TENANT}/oauth2/v2.0/token`);
    expect(bodyOf(fake.requests[0])).toMatchObject({
      client_id: MS_CLIENT.id,
      client_secret: MS_CLIENT.secret,
      code_verifier: verifier,
    });
    const next = await adapter.refresh(client(ms), must(tokens.refreshToken));
    expect(next.refreshToken).not.toBe(tokens.refreshToken);

    const wrong = await adapter.refresh(client(otherTenant), must(next.refreshToken)).catch((e: Error) => e);
    expect(must(fake.requests.at(-1)).url).toBe('/fabrikam.onmicrosoft.com/oauth2/v2.0/token');
    expect(wrong).toMatchObject({ kind: 'rejected', message: expect.stringContaining('AADSTS90002') });
  });

  it('maps AADSTS errors: expired refresh token → invalid_grant, bad or expired secret → invalid_client, MFA → invalid_grant', async () => {
    const expired = (await adapter.refresh(client(ms), 'rt-old').catch((e: Error) => e)) as Error;
    expect(expired).toMatchObject({ kind: 'invalid_grant', message: expect.stringContaining('AADSTS70008') });
    expect(expired.message).not.toMatch(/Trace ID|rt-old/);
    await expect(
      adapter.exchangeCode(client(ms, 'wrong'), { code: fake.grantCode({ redirectUri }), redirectUri }),
    ).rejects.toMatchObject({ kind: 'invalid_client', message: expect.stringContaining('AADSTS7000215') });
    fake.tokenOverrides.push(
      aadsts('invalid_grant', 700082, 'The refresh token has expired due to inactivity.'),
    );
    await expect(adapter.refresh(client(ms), 'rt')).rejects.toMatchObject({
      kind: 'invalid_grant',
      message: expect.stringContaining('AADSTS700082'),
    });
    fake.tokenOverrides.push(
      aadsts('invalid_request', 7000222, 'The provided client secret keys are expired.'),
    );
    await expect(adapter.refresh(client(ms), 'rt')).rejects.toMatchObject({ kind: 'invalid_client' });
    fake.tokenOverrides.push(
      aadsts(
        'interaction_required',
        50076,
        'Due to a configuration change made by your administrator, you must use multi-factor authentication.',
      ),
    );
    await expect(adapter.refresh(client(ms), 'rt')).rejects.toMatchObject({ kind: 'invalid_grant' });
    fake.tokenOverrides.push(
      aadsts(
        'temporarily_unavailable',
        50196,
        'The server terminated an operation because it encountered a client request loop.',
      ),
    );
    await expect(adapter.refresh(client(ms), 'rt')).rejects.toMatchObject({ kind: 'transient' });
  });

  it('has no RFC 7009 revocation', async () => {
    expect(await adapter.revoke(client(ms), { value: 'rt', hint: 'refresh_token' })).toEqual({
      revoked: false,
      unsupported: true,
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('runs the device flow at /{tenant}/oauth2/v2.0/devicecode, authorization_declined meaning denied', async () => {
    const started = await deviceFlow(adapter).start(client(ms), ['User.Read']);
    expect(fake.requests[0].url).toBe(`/${MS_TENANT}/oauth2/v2.0/devicecode`);
    expect(bodyOf(fake.requests[0])).toMatchObject({
      scope: 'User.Read offline_access',
      client_id: MS_CLIENT.id,
    });
    expect(started).toMatchObject({ userCode: 'WDJB-MJHT', interval: 5, expiresIn: 900 });
    expect(await deviceFlow(adapter).poll(client(ms), started.deviceCode)).toEqual({ status: 'pending' });
    expect(await deviceFlow(adapter).poll(client(ms), started.deviceCode)).toMatchObject({
      status: 'authorized',
    });
    fake.device('dc-ms', ['slow_down', 'access_denied']);
    expect(await deviceFlow(adapter).poll(client(ms), 'dc-ms')).toEqual({ status: 'slow_down' });
    expect(await deviceFlow(adapter).poll(client(ms), 'dc-ms')).toEqual({ status: 'denied' });
    fake.device('dc-exp', ['expired_token']);
    expect(await deviceFlow(adapter).poll(client(ms), 'dc-exp')).toEqual({ status: 'expired' });
    expect(await deviceFlow(adapter).poll(client(ms), 'dc-none')).toMatchObject({
      status: 'failed',
      error: { kind: 'invalid_grant' },
    });
    await expect(deviceFlow(adapter).start(client(otherTenant), ['User.Read'])).rejects.toMatchObject({
      kind: 'rejected',
    });
  });

  it('reads Graph /me', async () => {
    const at = fake.accessToken();
    expect(await adapter.userInfo(client(ms), at)).toMatchObject({
      sub: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
      name: 'Adele Vance',
      givenName: 'Adele',
      familyName: 'Vance',
      email: 'AdeleV@contoso.example',
      nickName: 'AdeleV@contoso.example',
      locale: 'en-US',
    });
    expect(await adapter.validate(client(ms), 'expired')).toEqual({
      valid: false,
      error: 'Microsoft Graph refused the token (401)',
    });
  });

  describe('SharePoint', () => {
    const spAdapter = adapterFor('sharepoint');

    it('asks the tenant authority for the site’s resource scopes', () => {
      const url = new URL(
        spAdapter.authorizationUrl(sp, {
          clientId: MS_CLIENT.id,
          redirectUri,
          scopes: sp.defaultScopes,
          state: 'st',
        }),
      );
      expect(url.pathname).toBe(`/${MS_TENANT}/oauth2/v2.0/authorize`);
      expect(url.searchParams.get('scope')).toBe(
        'https://contoso.sharepoint.com/AllSites.Read offline_access',
      );
      const custom = new URL(
        spAdapter.authorizationUrl(sp, {
          clientId: MS_CLIENT.id,
          redirectUri,
          scopes: ['AllSites.Write', 'https://contoso.sharepoint.com/.default'],
          state: 'st',
        }),
      );
      expect(custom.searchParams.get('scope')).toBe(
        'https://contoso.sharepoint.com/AllSites.Write https://contoso.sharepoint.com/.default offline_access',
      );
      expect(spAdapter.capabilities(sp)).toEqual({
        pkce: true,
        refreshRotation: true,
        revocation: false,
        deviceFlow: true,
        selfHosted: false,
        userInfo: true,
        validate: true,
        consentPrompt: 'optional',
        refreshTokenIdleSeconds: 7_776_000,
      });
    });

    it('refreshes at the tenant token endpoint and reads /_api/web/currentuser without OData metadata', async () => {
      const tokens = await spAdapter.exchangeCode(client(sp), {
        code: fake.grantCode({ redirectUri }),
        redirectUri,
      });
      expect(fake.requests[0].url).toBe(`/${MS_TENANT}/oauth2/v2.0/token`);
      const user = await spAdapter.userInfo(client(sp), tokens.accessToken);
      expect(fake.requestsTo('/_api/web/currentuser')[0].headers.accept).toBe(
        'application/json;odata=nometadata',
      );
      expect(user).toMatchObject({
        sub: '100320009d80e5c3',
        name: 'Adele Vance',
        email: 'AdeleV@contoso.example',
        nickName: 'adelev@contoso.example',
      });
      expect(await spAdapter.validate(client(sp), tokens.accessToken)).toEqual({ valid: true });
    });
  });
});
