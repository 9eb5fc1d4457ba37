import { PROVIDER_TYPES, type ProviderType } from '@broker/contracts';
import { adapterFor, resolveOidcFromDiscovery, resolveProvider, type ResolvedProvider } from '../src';

/** One instance of each type (cloud where there is one). */
function instanceOf(type: ProviderType): ResolvedProvider {
  if (type === 'oidc') {
    return resolveOidcFromDiscovery({
      issuer: 'https://idp.example',
      authorizationUrl: 'https://idp.example/authorize',
      tokenUrl: 'https://idp.example/token',
      codeChallengeMethodsSupported: ['S256'],
      tokenEndpointAuthMethodsSupported: ['client_secret_basic'],
    });
  }
  if (type === 'oauth2')
    return resolveProvider('oauth2', {
      endpoints: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token' },
    });
  return resolveProvider(type, type === 'sharepoint' ? { host: 'contoso.sharepoint.com' } : {});
}

/** The `prompt` parameter of the authorization URL for a provider with `skipConsent` on or off. */
function promptOf(type: ProviderType, skipConsent: boolean): string | null {
  const provider = instanceOf(type);
  const url = adapterFor(type).authorizationUrl(provider, {
    clientId: 'c',
    redirectUri: 'https://broker.example/cb',
    scopes: provider.defaultScopes,
    state: 's',
    forceConsent: !skipConsent,
  });
  return new URL(url).searchParams.get('prompt');
}

describe('skipConsent in the authorization URL', () => {
  it.each(['oidc', 'google', 'microsoft', 'sharepoint'] as const)(
    '%s: prompt=consent unless the provider skips consent',
    (type) => {
      expect(adapterFor(type).capabilities(instanceOf(type)).consentPrompt).toBe('optional');
      expect(promptOf(type, false)).toBe('consent');
      expect(promptOf(type, true)).toBeNull();
    },
  );

  it.each(['jira', 'confluence'] as const)(
    '%s cloud: Atlassian requires prompt=consent on every authorization, whatever the setting',
    (type) => {
      expect(adapterFor(type).capabilities(instanceOf(type)).consentPrompt).toBe('always');
      expect(promptOf(type, false)).toBe('consent');
      expect(promptOf(type, true)).toBe('consent');
    },
  );

  it.each(['github', 'gitlab', 'bitbucket', 'box', 'oauth2'] as const)(
    '%s: no consent parameter exists, so none is sent either way',
    (type) => {
      expect(adapterFor(type).capabilities(instanceOf(type)).consentPrompt).toBe('unsupported');
      expect(promptOf(type, false)).toBeNull();
      expect(promptOf(type, true)).toBeNull();
    },
  );

  it('covers every provider type', () => {
    const covered = [
      'oidc',
      'google',
      'microsoft',
      'sharepoint',
      'jira',
      'confluence',
      'github',
      'gitlab',
      'bitbucket',
      'box',
      'oauth2',
    ];
    expect([...covered].sort()).toEqual([...PROVIDER_TYPES].sort());
  });
});
