import type { ProviderType } from '@broker/contracts';
import { PROVIDER_TYPES } from '@broker/contracts';
import type { ProviderAdapter } from '../adapter';
import type { ResolvedProvider } from '../resolve';
import { AtlassianAdapter } from './atlassian';
import { BitbucketAdapter } from './bitbucket';
import { BoxAdapter } from './box';
import { OAuth2Adapter, OidcAdapter } from './generic';
import { GitHubAdapter } from './github';
import { GitLabAdapter } from './gitlab';
import { GoogleAdapter } from './google';
import { MicrosoftAdapter, SharePointAdapter } from './microsoft';
import { StandardAdapter } from './standard';

/** One adapter per provider type (the standard one for a type with no deviation handled yet). */
const ADAPTERS: Record<ProviderType, StandardAdapter> = {
  github: new GitHubAdapter(),
  gitlab: new GitLabAdapter(),
  bitbucket: new BitbucketAdapter(),
  google: new GoogleAdapter(),
  box: new BoxAdapter(),
  microsoft: new MicrosoftAdapter(),
  sharepoint: new SharePointAdapter(),
  jira: new AtlassianAdapter('jira'),
  confluence: new AtlassianAdapter('confluence'),
  oidc: new OidcAdapter(),
  oauth2: new OAuth2Adapter(),
};

/** The adapter of a provider type (or of a resolved provider's type). Adapters are stateless singletons. */
export function adapterFor(typeOrProvider: ProviderType | Pick<ResolvedProvider, 'type'>): ProviderAdapter {
  const type = typeof typeOrProvider === 'string' ? typeOrProvider : typeOrProvider?.type;
  const adapter = (PROVIDER_TYPES as readonly string[]).includes(type) ? ADAPTERS[type] : undefined;
  if (!adapter) throw new TypeError(`no adapter for provider type ${JSON.stringify(type)}`);
  return adapter;
}

export { StandardAdapter } from './standard';
export { OAuth2Adapter, OidcAdapter } from './generic';
