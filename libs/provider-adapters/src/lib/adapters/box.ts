import * as oauth from 'oauth4webapi';
import type { OAuthUser, RestrictionPart, TokenRestriction } from '@broker/contracts';
import type { AdapterClient, NarrowedTokenSet } from '../adapter';
import { call, normalizeUser, throwIfTransient, withoutUndefined } from '../provider-call';
import type { ResolvedProvider } from '../resolve';
import { getJson } from './http';
import { StandardAdapter, asObject } from './standard';

/**
 * Box. Standard OAuth 2.0 (no PKCE, scopes fixed on the app), with two things to know:
 * - refresh tokens are single use: every refresh returns a new one and the used one is dead at
 *   once (reusing it gives `invalid_grant`), so rotation is mandatory (`refreshRotation`);
 * - revocation is `POST /oauth2/revoke` with `client_id`, `client_secret` and `token` in the body
 *   (RFC 7009 with client_secret_post, from the catalogue).
 * The user is `GET /2.0/users/me`, whose `login` is the e-mail address and `language` the locale.
 * Downscoping: the token endpoint exchanges a token for one with fewer scopes (RFC 8693 token
 * exchange, `subject_token` + `scope`, no client authentication); the downscoped token lives no
 * longer than its parent and cannot be refreshed (it is minted again from the parent).
 */
export class BoxAdapter extends StandardAdapter {
  constructor() {
    super('box');
  }

  narrowing(_provider: ResolvedProvider): RestrictionPart[] {
    return ['scopes'];
  }

  async narrow(
    c: AdapterClient,
    accessToken: string,
    want: TokenRestriction,
  ): Promise<NarrowedTokenSet | null> {
    if (!want.scopes?.length) return null;
    const scopes = want.scopes;
    const as = this.server(c.provider);
    return call(
      async () => {
        const params = new URLSearchParams({
          subject_token: accessToken,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          scope: scopes.join(' '),
        });
        const res = await oauth.genericTokenEndpointRequest(
          as,
          this.client(c),
          oauth.None(),
          'urn:ietf:params:oauth:grant-type:token-exchange',
          params,
          this.options(c, c.provider.endpoints.tokenUrl),
        );
        throwIfTransient(res);
        const answer = await oauth.processGenericTokenEndpointResponse(as, this.client(c), res);
        // `restricted_to` lists the scopes the new token carries (per object when a resource was named).
        const restricted = Array.isArray(answer['restricted_to'])
          ? (answer['restricted_to'] as unknown[])
          : [];
        const granted = [
          ...new Set(
            restricted
              .map((r) => (r && typeof r === 'object' ? (r as Record<string, unknown>)['scope'] : undefined))
              .filter((v): v is string => typeof v === 'string'),
          ),
        ];
        return {
          accessToken: answer.access_token,
          tokenType: 'Bearer',
          ...(typeof answer.expires_in === 'number'
            ? { expiresAt: new Date(Date.now() + answer.expires_in * 1000) }
            : {}),
          scopes: granted.length ? granted : scopes,
          enforced: ['scopes'],
        };
      },
      (err) => this.classify(err),
    );
  }

  override async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    return call(
      async () => {
        const raw = asObject((await getJson(c, url, accessToken, 'Box')).body);
        const user = normalizeUser(raw);
        return withoutUndefined({
          ...user,
          email: typeof raw['login'] === 'string' ? raw['login'] : user.email,
          nickName: undefined,
          locale: typeof raw['language'] === 'string' ? raw['language'] : user.locale,
        });
      },
      (err) => this.classify(err),
    );
  }
}
