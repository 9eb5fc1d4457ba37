import type { OAuthUser } from '@broker/contracts';
import type { AdapterClient } from '../adapter';
import type { ResolvedProvider } from '../resolve';
import { ProviderCallError, call, normalizeUser, withoutUndefined } from '../provider-call';
import { getJson, getJsonBestEffort, isObject } from './http';
import { StandardAdapter, asObject, validity } from './standard';

/**
 * Bitbucket Cloud and Bitbucket Data Center.
 * - Cloud: the token endpoint wants HTTP Basic client authentication (catalogue:
 *   client_secret_basic); no PKCE; refresh tokens rotate; no revocation API at all, so `revoke`
 *   answers `{revoked: false, unsupported: true}` (the user removes the consumer in their
 *   settings). The user is `GET /2.0/user` (`account_id`, `display_name`, `nickname`,
 *   `links.avatar.href`); its e-mail comes from `GET /2.0/user/emails` (best effort: the primary
 *   confirmed address; needs the `email` permission).
 * - Data Center: an OAuth 2.0 provider through incoming application links (PKCE, post
 *   authentication) with no JSON "current user" endpoint: the user slug comes back in the
 *   `X-AUSERNAME` header of any REST answer, and `GET /rest/api/latest/users/{slug}` describes it.
 */
export class BitbucketAdapter extends StandardAdapter {
  constructor() {
    super('bitbucket');
  }

  /** Data Center has no userinfo endpoint but always the whoami answer (see above). */
  protected override hasUserEndpoint(provider: ResolvedProvider): boolean {
    return provider.selfHosted || super.hasUserEndpoint(provider);
  }

  override async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    return call(
      () => (c.provider.selfHosted ? this.dataCenterUser(c, accessToken) : this.cloudUser(c, accessToken)),
      (err) => this.classify(err),
    );
  }

  override async validate(
    c: AdapterClient,
    accessToken: string,
  ): Promise<{ valid: boolean; error?: string }> {
    const url = c.provider.selfHosted ? whoamiUrl(c) : c.provider.endpoints.userinfoUrl;
    if (!url) return { valid: true };
    return validity(() => getJson(c, url, accessToken, 'Bitbucket'));
  }

  private async cloudUser(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    const raw = asObject((await getJson(c, url, accessToken, 'Bitbucket')).body);
    const links = isObject(raw['links']) ? raw['links'] : {};
    const avatar =
      isObject(links['avatar']) && typeof links['avatar']['href'] === 'string'
        ? links['avatar']['href']
        : undefined;
    const user = normalizeUser(raw);
    const emails = await getJsonBestEffort<unknown>(c, `${url}/emails`, accessToken, 'Bitbucket');
    const values =
      isObject(emails) && Array.isArray(emails['values']) ? emails['values'].filter(isObject) : [];
    const primary =
      values.find((e) => e['is_primary'] === true && e['is_confirmed'] !== false) ??
      values.find((e) => e['is_confirmed'] === true);
    return withoutUndefined({
      ...user,
      picture: user.picture ?? avatar,
      email: user.email ?? (typeof primary?.['email'] === 'string' ? primary['email'] : undefined),
    });
  }

  private async dataCenterUser(
    c: Omit<AdapterClient, 'clientSecret'>,
    accessToken: string,
  ): Promise<OAuthUser> {
    const { headers } = await getJson(c, whoamiUrl(c), accessToken, 'Bitbucket Data Center');
    const slug = headers.get('x-ausername');
    if (!slug)
      throw new ProviderCallError(
        'rejected',
        'Bitbucket Data Center did not name the user (no X-AUSERNAME header)',
      );
    const base = c.provider.metadata.baseUrl.replace(/\/+$/, '');
    const raw = (await getJsonBestEffort<unknown>(
      c,
      `${base}/rest/api/latest/users/${encodeURIComponent(slug)}`,
      accessToken,
      'Bitbucket Data Center',
    )) ?? { slug };
    const profile = isObject(raw) ? raw : { slug };
    return withoutUndefined({
      ...normalizeUser(profile),
      sub:
        typeof profile['id'] === 'number' || typeof profile['id'] === 'string' ? String(profile['id']) : slug,
      name: typeof profile['displayName'] === 'string' ? profile['displayName'] : undefined,
      nickName: typeof profile['slug'] === 'string' ? profile['slug'] : slug,
      email: typeof profile['emailAddress'] === 'string' ? profile['emailAddress'] : undefined,
    });
  }
}

function whoamiUrl(c: Pick<AdapterClient, 'provider'>): string {
  return `${c.provider.metadata.baseUrl.replace(/\/+$/, '')}/rest/api/latest/application-properties`;
}
