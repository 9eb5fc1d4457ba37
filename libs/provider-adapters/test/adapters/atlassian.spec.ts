import { adapterFor, resolveProvider, type AdapterClient, type ResolvedProvider } from '../../src';
import { ATLASSIAN_CLIENT, startAtlassianCloudFake, startAtlassianDataCenterFake } from '../fakes/atlassian';
import { bodyOf, pkcePair, pointAt, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must } from '../support/must';

/**
 * Jira / Confluence adapters. Cloud: the catalogue's cloud providers with auth.atlassian.com and
 * api.atlassian.com rewritten to the fake. Data Center: resolved by the catalogue with `baseUrl`
 * = `{fake}/jira` and `{fake}/wiki`.
 */
describe('Atlassian adapters (Jira, Confluence)', () => {
  let cloudFake: OAuthFake;
  let dcFake: OAuthFake;
  let jira: ResolvedProvider;
  let confluence: ResolvedProvider;
  let jiraDc: ResolvedProvider;
  let confluenceDc: ResolvedProvider;
  const redirectUri = 'https://broker.example.test/callback';
  const client = (provider: ResolvedProvider, fake: OAuthFake): AdapterClient =>
    clientAtFake(provider, fake, ATLASSIAN_CLIENT);

  beforeAll(async () => {
    cloudFake = await startAtlassianCloudFake();
    dcFake = await startAtlassianDataCenterFake();
    const hosts = {
      'https://auth.atlassian.com': cloudFake.origin,
      'https://api.atlassian.com': cloudFake.origin,
    };
    jira = pointAt(resolveProvider('jira', {}), hosts);
    confluence = pointAt(resolveProvider('confluence', {}), hosts);
    const policy = { allowLoopback: true, allowedPorts: [dcFake.server.port] };
    jiraDc = resolveProvider('jira', { baseUrl: `${dcFake.origin}/jira` }, policy);
    confluenceDc = resolveProvider('confluence', { baseUrl: `${dcFake.origin}/wiki` }, policy);
  });
  afterAll(async () => {
    await cloudFake.close();
    await dcFake.close();
  });
  beforeEach(() => {
    cloudFake.reset();
    dcFake.reset();
  });

  it('Cloud: audience, consent prompt and offline_access on the authorization URL; no PKCE', () => {
    const adapter = adapterFor('jira');
    expect(adapter.capabilities(jira)).toEqual({
      pkce: false,
      refreshRotation: true,
      revocation: false,
      deviceFlow: false,
      selfHosted: true,
      userInfo: true,
      validate: true,
      consentPrompt: 'always',
      refreshTokenIdleSeconds: 7_776_000,
    });
    const url = new URL(
      adapter.authorizationUrl(jira, {
        clientId: ATLASSIAN_CLIENT.id,
        redirectUri,
        scopes: ['read:jira-work'],
        state: 'st',
        codeChallenge: 'ch',
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`${cloudFake.origin}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: ATLASSIAN_CLIENT.id,
      redirect_uri: redirectUri,
      scope: 'read:jira-work offline_access',
      state: 'st',
      audience: 'api.atlassian.com',
      prompt: 'consent',
    });
  });

  it.each(['jira', 'confluence'] as const)(
    'Cloud %s: rotates refresh tokens; the used one answers 403 invalid_grant',
    async (type) => {
      const provider = type === 'jira' ? jira : confluence;
      const adapter = adapterFor(type);
      const tokens = await adapter.exchangeCode(client(provider, cloudFake), {
        code: cloudFake.grantCode({ redirectUri }),
        redirectUri,
      });
      expect(bodyOf(cloudFake.requestsTo('/oauth/token')[0])).toEqual({
        grant_type: 'authorization_code',
        code: expect.any(String),
        redirect_uri: redirectUri,
        client_id: ATLASSIAN_CLIENT.id,
        client_secret: ATLASSIAN_CLIENT.secret,
      });
      const next = await adapter.refresh(client(provider, cloudFake), must(tokens.refreshToken));
      expect(next.refreshToken).not.toBe(tokens.refreshToken);
      await expect(
        adapter.refresh(client(provider, cloudFake), must(tokens.refreshToken)),
      ).rejects.toMatchObject({ kind: 'invalid_grant' });
      expect(
        await adapter.revoke(client(provider, cloudFake), {
          value: must(next.refreshToken),
          hint: 'refresh_token',
        }),
      ).toEqual({ revoked: false, unsupported: true });
    },
  );

  it('Cloud: userinfo is /me plus the accessible resources (cloud ids) in raw.accessibleResources', async () => {
    const at = cloudFake.accessToken();
    const user = await adapterFor('jira').userInfo(client(jira, cloudFake), at);
    expect(user).toMatchObject({
      sub: '112233aa-bb11-cc22-33dd-445566abcabc',
      name: 'Mia Krystof',
      email: 'mia@example.com',
      nickName: 'mkrystof',
      locale: 'en-US',
    });
    expect(user.raw?.['accessibleResources']).toEqual([
      {
        id: '1324a887-45db-1bf4-1e99-ef0ff456d421',
        name: 'Site name',
        url: 'https://your-domain.atlassian.net',
        scopes: ['write:jira-work', 'read:jira-user'],
        avatarUrl: 'https://site-admin-avatar-cdn.example/avatars/240/flag.png',
      },
    ]);
    expect(cloudFake.requestsTo('/oauth/token/accessible-resources')[0].headers.authorization).toBe(
      `Bearer ${at}`,
    );
  });

  it('Cloud: an expired token (401) or a refused one (403) is invalid_grant on userinfo and not valid on validate', async () => {
    const adapter = adapterFor('confluence');
    await expect(adapter.userInfo(client(confluence, cloudFake), 'expired')).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
    expect(await adapter.validate(client(confluence, cloudFake), 'expired')).toEqual({
      valid: false,
      error: 'Atlassian refused the token (401)',
    });
    cloudFake.apiOverrides.push({
      status: 403,
      body: { code: 403, message: 'Unauthorized; scope does not match' },
    });
    expect(await adapter.validate(client(confluence, cloudFake), cloudFake.accessToken())).toMatchObject({
      valid: false,
    });
    expect(await adapter.validate(client(confluence, cloudFake), cloudFake.accessToken())).toEqual({
      valid: true,
    });
  });

  it('Data Center: instance endpoints with PKCE, Jira myself and Confluence current user', async () => {
    const adapter = adapterFor('jira');
    expect(adapter.capabilities(jiraDc)).toEqual({
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
      adapter.authorizationUrl(jiraDc, {
        clientId: ATLASSIAN_CLIENT.id,
        redirectUri,
        scopes: jiraDc.defaultScopes,
        state: 'st',
        codeChallenge: 'ch',
      }),
    );
    expect(url.pathname).toBe('/jira/rest/oauth2/latest/authorize');
    expect(url.searchParams.get('scope')).toBe('READ');
    expect(url.searchParams.get('code_challenge')).toBe('ch');
    expect(url.searchParams.has('audience')).toBe(false);
    const { verifier, challenge } = pkcePair();
    const tokens = await adapter.exchangeCode(client(jiraDc, dcFake), {
      code: dcFake.grantCode({ redirectUri, codeChallenge: challenge }),
      redirectUri,
      codeVerifier: verifier,
    });
    expect(bodyOf(dcFake.requestsTo('/jira/rest/oauth2/latest/token')[0])).toMatchObject({
      code_verifier: verifier,
    });
    const next = await adapter.refresh(client(jiraDc, dcFake), must(tokens.refreshToken));
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect(await adapter.userInfo(client(jiraDc, dcFake), next.accessToken)).toMatchObject({
      sub: 'JIRAUSER10100',
      nickName: 'fred',
      name: 'Fred F. User',
      email: 'fred@example.com',
      picture: 'https://jira.example/avatar/fred',
    });
    expect(
      await adapterFor('confluence').userInfo(client(confluenceDc, dcFake), next.accessToken),
    ).toMatchObject({ sub: '8a7f808a6f0d7f8d016f0d7fb1bd0000', nickName: 'fred', name: 'Fred F. User' });
  });
});
