import { PROVIDER_TYPES, ProviderType } from '@broker/contracts';
import {
  EgressPolicy,
  PROVIDER_CATALOGUE,
  ProviderConfigError,
  ProviderInstanceInput,
  resolveProvider,
  validateProviderInput,
} from '../src';

/** The field errors resolveProvider reports (fails the test when it resolves). */
function fieldErrors(type: ProviderType, input: unknown, policy?: EgressPolicy): Record<string, string> {
  try {
    resolveProvider(type, input as ProviderInstanceInput, policy);
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderConfigError);
    return Object.fromEntries((err as ProviderConfigError).fields.map((f) => [f.name, f.message]));
  }
  throw new Error(`${type} ${JSON.stringify(input)} resolved`);
}

describe('PROVIDER_CATALOGUE', () => {
  it('has an entry for every provider type, each with docs and coherent fields', () => {
    expect(Object.keys(PROVIDER_CATALOGUE).sort()).toEqual([...PROVIDER_TYPES].sort());
    for (const type of PROVIDER_TYPES) {
      const entry = PROVIDER_CATALOGUE[type];
      expect(entry.type).toBe(type);
      expect(entry.docsUrl).toMatch(/^https:\/\//);
      for (const field of entry.requires) expect(entry.accepts).toContain(field);
      if (entry.addressing === 'cloud-or-self-hosted') expect(entry.selfHosted).toBeDefined();
      for (const profile of [entry.cloud, entry.selfHosted]) {
        if (!profile) continue;
        expect(profile.scopeSeparator).toBe(' ');
        if (profile.revocation.kind !== 'none') expect(profile.revocation.url).toMatch(/^(https:\/\/|\{)/);
      }
    }
  });
});

describe('resolveProvider: cloud deployments', () => {
  it('github', () => {
    const p = resolveProvider('github', {});
    expect(p).toMatchObject({
      type: 'github',
      displayName: 'GitHub',
      selfHosted: false,
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
    });
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://github.com/login/oauth/authorize',
      tokenUrl: 'https://github.com/login/oauth/access_token',
      userinfoUrl: 'https://api.github.com/user',
      deviceAuthorizationUrl: 'https://github.com/login/device/code',
    });
    expect(p.revocation).toEqual({
      kind: 'github-grant',
      url: 'https://api.github.com/applications/{client_id}/grant',
    });
    expect(p.defaultScopes).toEqual(['read:user', 'user:email']);
    expect(p.metadata).toEqual({
      baseUrl: 'https://github.com',
      host: 'github.com',
      settingsUrl: 'https://github.com/settings/developers',
    });
    // Naming the cloud host explicitly is the cloud too.
    expect(resolveProvider('github', { host: 'github.com' })).toEqual(p);
    expect(resolveProvider('github', { baseUrl: 'https://github.com/' })).toEqual(p);
  });

  it('gitlab', () => {
    const p = resolveProvider('gitlab', {});
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://gitlab.com/oauth/authorize',
      tokenUrl: 'https://gitlab.com/oauth/token',
      userinfoUrl: 'https://gitlab.com/api/v4/user',
      revocationUrl: 'https://gitlab.com/oauth/revoke',
      deviceAuthorizationUrl: 'https://gitlab.com/oauth/authorize_device',
      issuer: 'https://gitlab.com',
    });
    expect(p.revocation).toEqual({ kind: 'rfc7009', url: 'https://gitlab.com/oauth/revoke' });
    expect(p).toMatchObject({
      displayName: 'GitLab',
      defaultScopes: ['read_user'],
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://gitlab.com',
      host: 'gitlab.com',
      settingsUrl: 'https://gitlab.com/-/user_settings/applications',
    });
    expect(resolveProvider('gitlab', { host: 'gitlab.com' })).toEqual(p);
  });

  it('bitbucket', () => {
    const p = resolveProvider('bitbucket', {});
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://bitbucket.org/site/oauth2/authorize',
      tokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
      userinfoUrl: 'https://api.bitbucket.org/2.0/user',
    });
    expect(p).toMatchObject({
      displayName: 'Bitbucket Cloud',
      revocation: { kind: 'none' },
      defaultScopes: ['account'],
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_basic',
      selfHosted: false,
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://bitbucket.org',
      host: 'bitbucket.org',
      settingsUrl: 'https://bitbucket.org/account/workspaces/',
    });
  });

  it('google', () => {
    const p = resolveProvider('google', {});
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
      revocationUrl: 'https://oauth2.googleapis.com/revoke',
      deviceAuthorizationUrl: 'https://oauth2.googleapis.com/device/code',
      issuer: 'https://accounts.google.com',
    });
    expect(p).toMatchObject({
      defaultScopes: ['openid', 'email', 'profile'],
      extraAuthorizationParams: { access_type: 'offline', prompt: 'consent' },
      pkce: true,
      rotatesRefreshTokens: false,
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://accounts.google.com',
      host: 'accounts.google.com',
      settingsUrl: 'https://console.cloud.google.com/apis/credentials',
    });
  });

  it('box', () => {
    const p = resolveProvider('box', {});
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://account.box.com/api/oauth2/authorize',
      tokenUrl: 'https://api.box.com/oauth2/token',
      userinfoUrl: 'https://api.box.com/2.0/users/me',
      revocationUrl: 'https://api.box.com/oauth2/revoke',
    });
    expect(p).toMatchObject({
      defaultScopes: [],
      pkce: false,
      rotatesRefreshTokens: true,
      revocation: { kind: 'rfc7009', url: 'https://api.box.com/oauth2/revoke' },
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://app.box.com',
      host: 'app.box.com',
      settingsUrl: 'https://app.box.com/developers/console',
    });
  });

  it('microsoft, with the common tenant by default or a given one', () => {
    const p = resolveProvider('microsoft', {});
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
      tokenUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      userinfoUrl: 'https://graph.microsoft.com/v1.0/me',
      deviceAuthorizationUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
    });
    expect(p).toMatchObject({
      defaultScopes: ['openid', 'profile', 'email', 'offline_access', 'User.Read'],
      revocation: { kind: 'none' },
      pkce: true,
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://login.microsoftonline.com/common',
      host: 'login.microsoftonline.com',
      settingsUrl: 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade',
    });

    const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const t = resolveProvider('microsoft', { tenant: tid });
    expect(t.endpoints.tokenUrl).toBe(`https://login.microsoftonline.com/${tid}/oauth2/v2.0/token`);
    expect(t.endpoints.issuer).toBe(`https://login.microsoftonline.com/${tid}/v2.0`);
    expect(
      resolveProvider('microsoft', { tenant: 'Contoso.onmicrosoft.com' }).endpoints.authorizationUrl,
    ).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize');
    expect(resolveProvider('microsoft', { tenant: 'organizations' }).endpoints.issuer).toBeUndefined();
  });

  it('sharepoint: the host gives the resource scopes; the tenant defaults to organizations', () => {
    const p = resolveProvider('sharepoint', { host: 'contoso.sharepoint.com' });
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize',
      tokenUrl: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
      userinfoUrl: 'https://contoso.sharepoint.com/_api/web/currentuser',
      deviceAuthorizationUrl: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode',
    });
    expect(p).toMatchObject({
      displayName: 'SharePoint Online',
      selfHosted: false,
      defaultScopes: ['https://contoso.sharepoint.com/AllSites.Read', 'offline_access'],
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://contoso.sharepoint.com',
      host: 'contoso.sharepoint.com',
      settingsUrl: 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade',
    });
    expect(
      resolveProvider('sharepoint', { host: 'contoso.sharepoint.com', tenant: 'contoso.com' }).endpoints
        .tokenUrl,
    ).toBe('https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token');
  });

  it.each([
    ['jira', 'Jira Cloud', 'read:jira-user'],
    ['confluence', 'Confluence Cloud', 'read:confluence-user'],
  ] as const)('%s cloud (Atlassian 3LO)', (type, displayName, productScope) => {
    const p = resolveProvider(type, {});
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://auth.atlassian.com/authorize',
      tokenUrl: 'https://auth.atlassian.com/oauth/token',
      userinfoUrl: 'https://api.atlassian.com/me',
    });
    expect(p).toMatchObject({
      displayName,
      selfHosted: false,
      revocation: { kind: 'none' },
      defaultScopes: [productScope, 'read:me', 'offline_access'],
      extraAuthorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      rotatesRefreshTokens: true,
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://auth.atlassian.com',
      host: 'auth.atlassian.com',
      settingsUrl: 'https://developer.atlassian.com/console/myapps/',
    });
  });

  it('returns fresh objects: callers may not corrupt the catalogue', () => {
    const p = resolveProvider('google', {});
    p.extraAuthorizationParams.prompt = 'none';
    p.defaultScopes.push('x');
    expect(resolveProvider('google', {}).extraAuthorizationParams.prompt).toBe('consent');
    expect(resolveProvider('google', {}).defaultScopes).toEqual(['openid', 'email', 'profile']);
  });
});

describe('resolveProvider: self-hosted deployments', () => {
  it('GitHub Enterprise Server from a host', () => {
    const p = resolveProvider('github', { host: 'GHE.Example.com' });
    expect(p).toMatchObject({ displayName: 'GitHub Enterprise Server', selfHosted: true });
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://ghe.example.com/login/oauth/authorize',
      tokenUrl: 'https://ghe.example.com/login/oauth/access_token',
      userinfoUrl: 'https://ghe.example.com/api/v3/user',
      deviceAuthorizationUrl: 'https://ghe.example.com/login/device/code',
    });
    expect(p.revocation).toEqual({
      kind: 'github-grant',
      url: 'https://ghe.example.com/api/v3/applications/{client_id}/grant',
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://ghe.example.com',
      host: 'ghe.example.com',
      settingsUrl: 'https://ghe.example.com/settings/developers',
    });
  });

  it('GitHub on GHE.com (data residency) uses the api. subdomain', () => {
    const p = resolveProvider('github', { host: 'octocorp.ghe.com' });
    expect(p.endpoints.authorizationUrl).toBe('https://octocorp.ghe.com/login/oauth/authorize');
    expect(p.endpoints.userinfoUrl).toBe('https://api.octocorp.ghe.com/user');
    expect(p.revocation).toEqual({
      kind: 'github-grant',
      url: 'https://api.octocorp.ghe.com/applications/{client_id}/grant',
    });
  });

  it('GitLab self-managed from a baseUrl with a path prefix', () => {
    const p = resolveProvider('gitlab', { baseUrl: 'https://git.example.com/gitlab/' });
    expect(p).toMatchObject({
      displayName: 'GitLab Self-Managed',
      selfHosted: true,
      defaultScopes: ['read_user'],
    });
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://git.example.com/gitlab/oauth/authorize',
      tokenUrl: 'https://git.example.com/gitlab/oauth/token',
      userinfoUrl: 'https://git.example.com/gitlab/api/v4/user',
      revocationUrl: 'https://git.example.com/gitlab/oauth/revoke',
      deviceAuthorizationUrl: 'https://git.example.com/gitlab/oauth/authorize_device',
      issuer: 'https://git.example.com/gitlab',
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://git.example.com/gitlab',
      host: 'git.example.com',
      settingsUrl: 'https://git.example.com/gitlab/admin/applications',
    });
  });

  it('GitLab self-managed on an allowed non-default port', () => {
    const policy = { allowLoopback: false, allowedPorts: [443, 8443] };
    const p = resolveProvider('gitlab', { host: 'gitlab.example.com:8443' }, policy);
    expect(p.endpoints.tokenUrl).toBe('https://gitlab.example.com:8443/oauth/token');
    expect(p.metadata.host).toBe('gitlab.example.com:8443');
    expect(resolveProvider('gitlab', { host: 'gitlab.example.com:443' }).metadata.host).toBe(
      'gitlab.example.com',
    );
  });

  it('Bitbucket Data Center', () => {
    const p = resolveProvider('bitbucket', { host: 'bitbucket.example.com' });
    expect(p).toMatchObject({
      displayName: 'Bitbucket Data Center',
      selfHosted: true,
      defaultScopes: ['PUBLIC_REPOS'],
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      revocation: { kind: 'none' },
    });
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://bitbucket.example.com/rest/oauth2/latest/authorize',
      tokenUrl: 'https://bitbucket.example.com/rest/oauth2/latest/token',
    });
    expect(p.metadata.settingsUrl).toBe(
      'https://bitbucket.example.com/plugins/servlet/applinks/listApplicationLinks',
    );
  });

  it.each([
    ['jira', 'Jira Data Center', 'https://jira.example.com/rest/api/2/myself'],
    ['confluence', 'Confluence Data Center', 'https://jira.example.com/rest/api/user/current'],
  ] as const)('%s Data Center', (type, displayName, userinfoUrl) => {
    const p = resolveProvider(type, { host: 'jira.example.com' });
    expect(p).toMatchObject({
      displayName,
      selfHosted: true,
      defaultScopes: ['READ'],
      pkce: true,
      extraAuthorizationParams: {},
    });
    expect(p.endpoints).toEqual({
      authorizationUrl: 'https://jira.example.com/rest/oauth2/latest/authorize',
      tokenUrl: 'https://jira.example.com/rest/oauth2/latest/token',
      userinfoUrl,
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://jira.example.com',
      host: 'jira.example.com',
      settingsUrl: 'https://jira.example.com/plugins/servlet/applinks/listApplicationLinks',
    });
    const prefixed = resolveProvider(type, {
      host: 'intranet.example.com',
      baseUrl: 'https://intranet.example.com/jira',
    });
    expect(prefixed.endpoints.tokenUrl).toBe('https://intranet.example.com/jira/rest/oauth2/latest/token');
  });

  it('a loopback test instance over http when the policy allows loopback', () => {
    const p = resolveProvider(
      'gitlab',
      { baseUrl: 'http://127.0.0.1:8929' },
      { allowLoopback: true, allowedPorts: [443, 8929] },
    );
    expect(p.endpoints.tokenUrl).toBe('http://127.0.0.1:8929/oauth/token');
    expect(p.metadata.host).toBe('127.0.0.1:8929');
  });
});

describe('resolveProvider: oauth2 (explicit endpoints)', () => {
  it('takes the given endpoints', () => {
    const endpoints = {
      authorizationUrl: 'https://idp.example.com/authorize',
      tokenUrl: 'https://api.idp.example.com/token',
      userinfoUrl: 'https://api.idp.example.com/me',
      revocationUrl: 'https://api.idp.example.com/revoke',
      deviceAuthorizationUrl: 'https://api.idp.example.com/device',
      issuer: 'https://idp.example.com',
    };
    const p = resolveProvider('oauth2', { endpoints });
    expect(p).toMatchObject({
      type: 'oauth2',
      displayName: 'OAuth 2.0',
      selfHosted: false,
      endpoints,
      revocation: { kind: 'rfc7009', url: 'https://api.idp.example.com/revoke' },
      defaultScopes: [],
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    expect(p.metadata).toEqual({
      baseUrl: 'https://idp.example.com',
      host: 'idp.example.com',
      settingsUrl: 'https://idp.example.com',
    });
    const minimal = resolveProvider('oauth2', {
      endpoints: { authorizationUrl: 'https://a.example.com/auth', tokenUrl: 'https://a.example.com/token' },
    });
    expect(minimal.revocation).toEqual({ kind: 'none' });
    expect(minimal.endpoints).toEqual({
      authorizationUrl: 'https://a.example.com/auth',
      tokenUrl: 'https://a.example.com/token',
    });
  });
});

describe('resolveProvider: validation', () => {
  it('rejects fields that do not apply to the type, and unknown ones', () => {
    expect(
      fieldErrors('github', { tenant: 'common', issuer: 'https://x.example.com', colour: 'red' }),
    ).toEqual({
      tenant: 'does not apply to GitHub providers',
      issuer: 'does not apply to GitHub providers',
      colour: 'unknown field',
    });
    expect(fieldErrors('google', { host: 'accounts.google.com' })).toEqual({
      host: 'does not apply to Google providers',
    });
    expect(fieldErrors('box', { baseUrl: 'https://app.box.com' })).toEqual({
      baseUrl: 'does not apply to Box providers',
    });
    expect(fieldErrors('microsoft', { host: 'login.microsoftonline.com' })).toEqual({
      host: 'does not apply to Microsoft providers',
    });
    expect(
      fieldErrors('sharepoint', {
        host: 'contoso.sharepoint.com',
        baseUrl: 'https://contoso.sharepoint.com',
      }),
    ).toEqual({
      baseUrl: 'does not apply to SharePoint providers',
    });
    expect(fieldErrors('oidc', { issuer: 'https://idp.example.com', endpoints: {} })).toEqual({
      endpoints: 'does not apply to OpenID Connect providers',
    });
    expect(
      fieldErrors('oauth2', {
        host: 'x.example.com',
        endpoints: { authorizationUrl: 'https://a.example.com/a', tokenUrl: 'https://a.example.com/t' },
      }),
    ).toEqual({
      host: 'does not apply to OAuth 2.0 providers',
    });
  });

  it('treats null and undefined as absent', () => {
    expect(
      resolveProvider('github', { host: undefined, tenant: null } as unknown as ProviderInstanceInput)
        .selfHosted,
    ).toBe(false);
    expect(resolveProvider('google', null).type).toBe('google');
  });

  it('requires sharepoint host, oidc issuer, oauth2 endpoints', () => {
    expect(fieldErrors('sharepoint', {})).toEqual({
      host: 'is required for SharePoint providers (the SharePoint Online host, e.g. contoso.sharepoint.com)',
    });
    expect(fieldErrors('oidc', {})).toEqual({ issuer: 'is required for OpenID Connect providers' });
    expect(fieldErrors('oauth2', {})).toEqual({ endpoints: 'is required for OAuth 2.0 providers' });
    expect(fieldErrors('oauth2', { endpoints: { userinfoUrl: 'https://a.example.com/me' } })).toEqual({
      'endpoints.authorizationUrl': 'is required',
      'endpoints.tokenUrl': 'is required',
    });
  });

  it.each([
    ['https://ghe.example.com', /without a scheme/],
    ['ghe.example.com/path', /without a path/],
    ['ghe.example.com?x=1', /without a path, query/],
    ['admin@ghe.example.com', /user info/],
    ['10.0.0.1', /not an IP address/],
    ['2130706433', /not an IP address/],
    ['0x7f.1', /not an IP address/],
    ['[::1]', /DNS name/],
    ['ghe.example.com:8443', /port 8443 is not allowed/],
    ['ghe.example.com:0', /invalid port/],
    ['-bad-.example.com', /not a valid DNS name/],
    ['ghe_example.com', /not a valid DNS name/],
    ['ghe', /single-label/],
    ['localhost', /loopback host name/],
    ['git.corp.internal', /\.internal/],
    ['', /non-empty string/],
  ])('rejects the host %j', (host, message) => {
    expect(fieldErrors('github', { host })).toEqual({ host: expect.stringMatching(message) });
  });

  it.each([
    ['http://git.example.com', /plain http/],
    ['https://10.1.2.3/gitlab', /private/],
    ['https://169.254.169.254', /metadata/],
    ['https://user:pw@git.example.com', /credentials/],
    ['https://git.example.com:8443', /port 8443/],
    ['https://git.example.com/gitlab?x=1', /query or fragment/],
    ['git.example.com', /not a valid absolute URL/],
    [42, /non-empty string/],
  ])('rejects the baseUrl %j', (baseUrl, message) => {
    expect(fieldErrors('gitlab', { baseUrl })).toEqual({ baseUrl: expect.stringMatching(message) });
  });

  it('rejects host and baseUrl that disagree, and cloud hosts with a path', () => {
    expect(fieldErrors('gitlab', { host: 'a.example.com', baseUrl: 'https://b.example.com' })).toEqual({
      baseUrl: 'must be on host a.example.com when both host and baseUrl are given',
    });
    expect(fieldErrors('github', { baseUrl: 'https://github.com/enterprises/x' })).toEqual({
      baseUrl: expect.stringMatching(/github\.com is GitHub/),
    });
  });

  it('rejects an Atlassian Cloud site as a Data Center host', () => {
    expect(fieldErrors('jira', { host: 'acme.atlassian.net' })).toEqual({
      host: expect.stringMatching(/Jira Cloud site.*leave host and baseUrl empty/),
    });
    expect(fieldErrors('confluence', { baseUrl: 'https://acme.atlassian.net/wiki' })).toEqual({
      baseUrl: expect.stringMatching(/Confluence Cloud site/),
    });
  });

  it('validates tenants', () => {
    expect(fieldErrors('microsoft', { tenant: 'not a tenant' })).toEqual({
      tenant: expect.stringMatching(/common, organizations, consumers/),
    });
    expect(fieldErrors('microsoft', { tenant: '../common' })).toEqual({
      tenant: expect.stringMatching(/tenant id/),
    });
    expect(fieldErrors('sharepoint', { host: 'contoso.sharepoint.com', tenant: 'consumers' })).toEqual({
      tenant: expect.stringMatching(/no personal/),
    });
    expect(resolveProvider('microsoft', { tenant: 'consumers' }).endpoints.tokenUrl).toBe(
      'https://login.microsoftonline.com/consumers/oauth2/v2.0/token',
    );
  });

  it('requires a SharePoint Online host for sharepoint', () => {
    expect(fieldErrors('sharepoint', { host: 'sharepoint.example.com' })).toEqual({
      host: expect.stringMatching(/SharePoint Online host/),
    });
    expect(fieldErrors('sharepoint', { host: 'a.b.sharepoint.com' })).toEqual({
      host: expect.stringMatching(/SharePoint Online host/),
    });
  });

  it('validates explicit endpoints one by one', () => {
    expect(
      fieldErrors('oauth2', {
        endpoints: {
          authorizationUrl: 'http://idp.example.com/authorize',
          tokenUrl: 'https://169.254.169.254/token',
          userinfoUrl: 'https://idp.example.com/me#frag',
          revocationUrl: 7,
          extra: 'https://idp.example.com/x',
        },
      }),
    ).toEqual({
      'endpoints.authorizationUrl': expect.stringMatching(/plain http/),
      'endpoints.tokenUrl': expect.stringMatching(/metadata/),
      'endpoints.userinfoUrl': 'must not have a fragment',
      'endpoints.revocationUrl': 'must be a non-empty string',
      'endpoints.extra': 'unknown field',
    });
    expect(fieldErrors('oauth2', { endpoints: 'https://idp.example.com' })).toEqual({
      endpoints: 'must be an object',
    });
  });

  it('validates the oidc issuer statically', () => {
    expect(fieldErrors('oidc', { issuer: 'http://idp.example.com' })).toEqual({
      issuer: expect.stringMatching(/plain http/),
    });
    expect(fieldErrors('oidc', { issuer: 'https://idp.example.com/?tenant=x' })).toEqual({
      issuer: 'must not have a query',
    });
    expect(() => validateProviderInput('oidc', { issuer: 'https://idp.example.com' })).not.toThrow();
    expect(() => resolveProvider('oidc', { issuer: 'https://idp.example.com' })).toThrow(
      /resolveProviderAsync/,
    );
  });

  it('collects every error in one ProviderConfigError', () => {
    const err = (() => {
      try {
        resolveProvider('github', {
          host: 'localhost',
          baseUrl: 'http://x.example.com',
          tenant: 'common',
          nope: 1,
        } as unknown as ProviderInstanceInput);
      } catch (e) {
        return e as ProviderConfigError;
      }
      throw new Error('resolved');
    })();
    expect(err.fields.map((f) => f.name).sort()).toEqual(['baseUrl', 'host', 'nope', 'tenant']);
    expect(err.message).toMatch(/^Invalid provider settings: /);
  });

  it('rejects an unknown type', () => {
    expect(fieldErrors('gitea' as ProviderType, {})).toEqual({
      type: expect.stringMatching(/must be one of github, gitlab/),
    });
  });
});
