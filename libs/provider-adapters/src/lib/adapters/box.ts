import type { OAuthUser } from '@broker/contracts';
import type { AdapterClient } from '../adapter';
import { call, normalizeUser, withoutUndefined } from '../provider-call';
import { getJson } from './http';
import { StandardAdapter, asObject } from './standard';

/**
 * Box. Standard OAuth 2.0 (no PKCE, scopes fixed on the app), with two things to know:
 * - refresh tokens are single use: every refresh returns a new one and the used one is dead at
 *   once (reusing it gives `invalid_grant`), so rotation is mandatory (`refreshRotation`);
 * - revocation is `POST /oauth2/revoke` with `client_id`, `client_secret` and `token` in the body
 *   (RFC 7009 with client_secret_post, from the catalogue).
 * The user is `GET /2.0/users/me`, whose `login` is the e-mail address and `language` the locale.
 */
export class BoxAdapter extends StandardAdapter {
  constructor() {
    super('box');
  }

  override async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    return call(async () => {
      const raw = asObject((await getJson(c, url, accessToken, 'Box')).body);
      const user = normalizeUser(raw);
      return withoutUndefined({ ...user, email: typeof raw['login'] === 'string' ? raw['login'] : user.email, nickName: undefined, locale: typeof raw['language'] === 'string' ? raw['language'] : user.locale });
    }, (err) => this.classify(err));
  }
}
