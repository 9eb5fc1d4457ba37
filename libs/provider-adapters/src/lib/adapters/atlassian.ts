import type { OAuthUser } from '@broker/contracts';
import type { AdapterClient, ConsentPrompt } from '../adapter';
import { call, normalizeUser, withoutUndefined } from '../provider-call';
import type { ResolvedProvider } from '../resolve';
import { getJson, isObject } from './http';
import { StandardAdapter, asObject, validity } from './standard';

/** One Atlassian Cloud site a token reaches (`GET /oauth/token/accessible-resources`). */
export interface AccessibleResource {
  id: string;
  name?: string;
  url?: string;
  scopes?: string[];
  avatarUrl?: string;
}

/**
 * Jira and Confluence: Atlassian Cloud (OAuth 2.0 3LO) or Data Center.
 * Cloud deviations handled here and in the catalogue:
 * - `audience=api.atlassian.com` and `prompt=consent` on every authorization (catalogue);
 * - refresh tokens only with `offline_access`: added when the scopes lack it;
 * - refresh tokens rotate: every refresh returns a new one and disables the one used (a reuse
 *   answers 403 `invalid_grant`, mapped as such);
 * - no PKCE, no revocation endpoint (`unsupported`);
 * - a token is good for the sites listed by `GET https://api.atlassian.com/oauth/token/accessible-resources`
 *   (cloud ids, names, URLs, scopes): `userInfo` returns them in `raw.accessibleResources`
 *   next to `GET https://api.atlassian.com/me`;
 * - an expired or revoked token is reported by the APIs with 401 / 403 → invalid_grant.
 * Data Center (host / baseUrl): the instance's `/rest/oauth2/latest/*` endpoints with PKCE; the
 * user is Jira's `/rest/api/2/myself` or Confluence's `/rest/api/user/current`.
 */
export class AtlassianAdapter extends StandardAdapter {
  constructor(type: 'jira' | 'confluence') {
    super(type);
  }

  /** Cloud asks on every authorization (`prompt=consent`, required by Atlassian's 3LO); Data Center has no such parameter. */
  protected override consentPrompt(provider: ResolvedProvider): ConsentPrompt {
    return provider.selfHosted ? 'unsupported' : 'always';
  }

  protected override scopes(provider: ResolvedProvider, scopes: string[]): string[] {
    if (provider.selfHosted || scopes.includes('offline_access')) return scopes;
    return [...scopes, 'offline_access'];
  }

  override async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    return call(
      async () => {
        if (c.provider.selfHosted)
          return dataCenterUser(asObject((await getJson(c, url, accessToken, c.provider.displayName)).body));
        const resourcesUrl = new URL('/oauth/token/accessible-resources', url).toString();
        const [me, resources] = await Promise.all([
          getJson(c, url, accessToken, 'Atlassian'),
          getJson<unknown>(c, resourcesUrl, accessToken, 'Atlassian'),
        ]);
        const accessibleResources = (
          Array.isArray(resources.body) ? resources.body.filter(isObject) : []
        ).map(
          (r): AccessibleResource =>
            withoutUndefined({
              id: String(r['id']),
              name: typeof r['name'] === 'string' ? r['name'] : undefined,
              url: typeof r['url'] === 'string' ? r['url'] : undefined,
              scopes: Array.isArray(r['scopes'])
                ? r['scopes'].filter((s): s is string => typeof s === 'string')
                : undefined,
              avatarUrl: typeof r['avatarUrl'] === 'string' ? r['avatarUrl'] : undefined,
            }),
        );
        return normalizeUser({ ...asObject(me.body), accessibleResources });
      },
      (err) => this.classify(err),
    );
  }

  /** The user endpoint alone (`/me` on Cloud): 401 / 403 → not valid. */
  override async validate(
    c: AdapterClient,
    accessToken: string,
  ): Promise<{ valid: boolean; error?: string }> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return { valid: true };
    return validity(() =>
      getJson(c, url, accessToken, c.provider.selfHosted ? c.provider.displayName : 'Atlassian'),
    );
  }
}

/** Jira DC `myself` (`key`, `name`, `emailAddress`, `displayName`, `avatarUrls`) or Confluence DC `user/current` (`userKey`, `username`, `displayName`). */
function dataCenterUser(raw: Record<string, unknown>): OAuthUser {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const avatars = isObject(raw['avatarUrls']) ? raw['avatarUrls'] : {};
  const picture = isObject(raw['profilePicture'])
    ? str(raw['profilePicture']['path'])
    : str(avatars['48x48']);
  return withoutUndefined<OAuthUser>({
    sub: str(raw['key']) ?? str(raw['userKey']) ?? str(raw['accountId']),
    name: str(raw['displayName']),
    nickName: str(raw['name']) ?? str(raw['username']),
    email: str(raw['emailAddress']) ?? str(raw['email']),
    picture,
    locale: str(raw['locale']),
    raw,
  });
}
