import * as oauth from 'oauth4webapi';
import type { GitHubAppSettings, OAuthUser, RestrictionPart, TokenRestriction } from '@broker/contracts';
import type { AdapterClient, AppInstallation, NarrowedTokenSet, RevocationOutcome } from '../adapter';
import { ProviderCallError, call, normalizeUser, throwIfTransient } from '../provider-call';
import type { ResolvedProvider } from '../resolve';
import { getJson, getJsonBestEffort, isObject, jsonResponse, mediaType } from './http';
import { revocationFailure, revocationTimeoutMs } from './rfc7009-revocation';
import { StandardAdapter, asObject, validity } from './standard';

/** GitHub's REST API headers (a User-Agent is mandatory there). */
const API_HEADERS = {
  accept: 'application/vnd.github+json',
  'x-github-api-version': '2022-11-28',
  'user-agent': 'oauth-token-broker',
};

/** GitHub's token-endpoint error codes that are not RFC 6749's, by meaning. */
const GITHUB_ERRORS: Readonly<Record<string, ProviderCallError['kind']>> = {
  bad_verification_code: 'invalid_grant', // the code is wrong or expired (RFC: invalid_grant)
  bad_refresh_token: 'invalid_grant',
  incorrect_device_code: 'invalid_grant',
  incorrect_client_credentials: 'invalid_client',
  device_flow_disabled: 'rejected',
  redirect_uri_mismatch: 'rejected',
  unverified_user_email: 'rejected',
};

const NUMERIC_FIELDS = ['expires_in', 'refresh_token_expires_in', 'interval'];

/**
 * GitHub and GitHub Enterprise Server (OAuth Apps and GitHub Apps' user tokens). Deviations from
 * the standard, each handled here:
 * - the token and device endpoints answer `application/x-www-form-urlencoded` unless the request
 *   says `Accept: application/json` (oauth4webapi always does; a form answer is converted anyway);
 * - they answer errors with HTTP 200 and an `error` field, under their own names
 *   (`bad_verification_code`, `bad_refresh_token`, `incorrect_client_credentials`, ...);
 * - the device flow takes the client id alone (no client secret);
 * - revocation is the applications grant API (`github-grant` in the catalogue): `DELETE
 *   {api}/applications/{client_id}/grant`, Basic client credentials, JSON `{access_token}`; it
 *   removes the user's whole authorization of the app, and answers 404 both for a grant already
 *   gone and for wrong client credentials;
 * - the user is `GET {api}/user`, whose `email` is null unless public: the primary verified
 *   address comes from `GET {api}/user/emails` (best effort, needs `user:email`);
 * - rate limits are 403s (or 429s) with `x-ratelimit-remaining: 0` or `retry-after`, and
 *   secondary limits may say so only in the body: transient, never a dead token.
 * GitHub App user tokens expire after 8 h and come with a rotating refresh token that lives
 * `refresh_token_expires_in` seconds (reported as `refreshTokenExpiresAt`).
 * Narrowing (GitHub Apps only): `POST {api}/applications/{client_id}/token/scoped` with Basic
 * client credentials mints a user token limited to one account's chosen repositories and
 * permissions; an OAuth app's token is refused there (then nothing is narrowed).
 */
export class GitHubAdapter extends StandardAdapter {
  constructor() {
    super('github');
  }

  protected override async normalizeResponse(res: Response, provider: ResolvedProvider): Promise<Response> {
    let body: Record<string, unknown> | undefined;
    const type = mediaType(res);
    if (type === 'application/x-www-form-urlencoded' || type === 'text/plain') {
      const text = await res.clone().text();
      body = Object.fromEntries(new URLSearchParams(text));
      for (const field of NUMERIC_FIELDS)
        if (typeof body[field] === 'string' && body[field] !== '') body[field] = Number(body[field]);
    } else if (type === 'application/json') {
      const parsed = (await res
        .clone()
        .json()
        .catch(() => undefined)) as unknown;
      body = isObject(parsed) ? parsed : undefined;
    }
    if (!body) return super.normalizeResponse(res, provider);
    // HTTP 200 with an error: give oauth4webapi the 400 RFC 6749 §5.2 says it is.
    const status = res.status === 200 && typeof body['error'] === 'string' ? 400 : res.status;
    return super.normalizeResponse(jsonResponse(res, body, status), provider);
  }

  protected override errorKind(error: string): ProviderCallError['kind'] | undefined {
    return GITHUB_ERRORS[error];
  }

  /** GitHub's device flow authenticates the client by its id alone. */
  protected override deviceClientAuth(): oauth.ClientAuth {
    return oauth.None();
  }

  override async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    return call(
      async () => {
        const raw = asObject((await getJson(c, url, accessToken, 'GitHub', API_HEADERS)).body);
        const user = normalizeUser(raw);
        if (!user.email) {
          const emails = await getJsonBestEffort<unknown>(
            c,
            `${url}/emails`,
            accessToken,
            'GitHub',
            API_HEADERS,
          );
          const list = Array.isArray(emails) ? emails.filter(isObject) : [];
          const primary =
            list.find((e) => e['primary'] === true && e['verified'] !== false) ??
            list.find((e) => e['verified'] === true);
          if (primary && typeof primary['email'] === 'string') user.email = primary['email'];
        }
        return user;
      },
      (err) => this.classify(err),
    );
  }

  /** GitHub's grant API (see the class comment); another revocation descriptor gets the standard one. */
  override async revoke(
    c: AdapterClient,
    token: { value: string; hint?: 'refresh_token' | 'access_token' },
  ): Promise<RevocationOutcome> {
    const revocation = c.provider.revocation;
    if (revocation.kind !== 'github-grant') return super.revoke(c, token);
    try {
      const res = await c.fetch(revocation.url.replace('{client_id}', encodeURIComponent(c.clientId)), {
        method: 'DELETE',
        headers: {
          authorization: basicAuth(c),
          accept: API_HEADERS.accept,
          'content-type': 'application/json',
          'x-github-api-version': API_HEADERS['x-github-api-version'],
        },
        body: JSON.stringify({ access_token: token.value }),
        signal: AbortSignal.timeout(revocationTimeoutMs(c)),
      });
      if (res.status === 204) return { revoked: true };
      // GitHub hides which of the two a 404 is: not a confirmed revocation, so say what it may mean.
      if (res.status === 404)
        return {
          revoked: false,
          error: 'GitHub answered 404: the grant is already gone, or the app’s client credentials are wrong',
        };
      return { revoked: false, error: `GitHub answered ${res.status}` };
    } catch (err) {
      return revocationFailure(err);
    }
  }

  /** `{web}/apps/{slug}/installations/new`, unless the org configured the install URL itself (which wins). */
  appInstallUrl(
    provider: ResolvedProvider,
    app: GitHubAppSettings | undefined,
    installations: AppInstallation[],
  ): string {
    if (app?.installUrl) return app.installUrl;
    const slug = app?.slug ?? installations.find((i) => i.appSlug)?.appSlug;
    return slug ? `${provider.metadata.baseUrl}/apps/${encodeURIComponent(slug)}/installations/new` : '';
  }

  /**
   * `GET {api}/user/installations`: the GitHub App installations the user's token can reach. A
   * token of an OAuth app (not a GitHub App) is refused there (403): no installations.
   */
  async installations(
    c: Omit<AdapterClient, 'clientSecret'>,
    accessToken: string,
  ): Promise<AppInstallation[]> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return [];
    const body = await getJsonBestEffort<unknown>(
      c,
      `${url}/installations?per_page=100`,
      accessToken,
      'GitHub',
      API_HEADERS,
    );
    const list =
      isObject(body) && Array.isArray(body['installations']) ? body['installations'].filter(isObject) : [];
    return list.map((i) => {
      const account = isObject(i['account']) ? i['account'] : {};
      const text = (v: unknown) => (typeof v === 'string' ? v : '');
      return {
        id: typeof i['id'] === 'number' ? i['id'] : 0,
        account: {
          id: typeof account['id'] === 'number' ? account['id'] : 0,
          login: text(account['login']),
          name: text(account['name']) || text(account['login']),
          avatarUrl: text(account['avatar_url']),
          profileUrl: text(account['html_url']),
        },
        configureUrl: text(i['html_url']),
        ...(text(i['app_slug']) ? { appSlug: text(i['app_slug']) } : {}),
      };
    });
  }

  narrowing(provider: ResolvedProvider): RestrictionPart[] {
    return provider.revocation.kind === 'github-grant' ? ['repositories', 'permissions'] : [];
  }

  async narrow(
    c: AdapterClient,
    accessToken: string,
    want: TokenRestriction,
  ): Promise<NarrowedTokenSet | null> {
    const revocation = c.provider.revocation;
    if (revocation.kind !== 'github-grant' || (!want.repositories && !want.permissions)) return null;
    // One account per scoped token: the repositories' owner, else the only installation the user reaches.
    const owners = [...new Set((want.repositories ?? []).map((r) => r.split('/')[0].toLowerCase()))];
    if (owners.length > 1)
      throw new ProviderCallError(
        'rejected',
        'GitHub scopes a token to the repositories of one account: name repositories of a single owner',
      );
    const target = owners[0] ?? (await this.onlyInstallation(c, accessToken));
    if (!target)
      throw new ProviderCallError(
        'rejected',
        'name the repositories to narrow to: the user reaches several (or no) installations of the app',
      );
    const url = revocation.url
      .replace('{client_id}', encodeURIComponent(c.clientId))
      .replace(/\/grant$/, '/token/scoped');
    return call(
      async () => {
        const res = await c.fetch(url, {
          method: 'POST',
          headers: {
            ...API_HEADERS,
            authorization: basicAuth(c),
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            access_token: accessToken,
            target,
            ...(want.repositories ? { repositories: want.repositories.map((r) => r.split('/')[1]) } : {}),
            ...(want.permissions ? { permissions: want.permissions } : {}),
          }),
          signal: AbortSignal.timeout(c.timeoutMs ?? 10_000),
        });
        throwIfTransient(res);
        // 404 for a token GitHub does not know (or an OAuth app's), 422 for repositories or permissions beyond the token's.
        if (!res.ok)
          throw new ProviderCallError(
            'rejected',
            `GitHub refused to narrow the token (${res.status})`,
            undefined,
            res.status,
          );
        const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
        const token = body?.['token'];
        if (typeof token !== 'string' || !token)
          throw new ProviderCallError('rejected', 'GitHub answered a scoped token without a token');
        const expires = typeof body?.['expires_at'] === 'string' ? new Date(body['expires_at']) : undefined;
        return {
          accessToken: token,
          tokenType: 'Bearer',
          ...(expires && !Number.isNaN(expires.getTime()) ? { expiresAt: expires } : {}),
          scopes: [],
          enforced: [
            ...(want.repositories ? ['repositories' as const] : []),
            ...(want.permissions ? ['permissions' as const] : []),
          ],
        };
      },
      (err) => this.classify(err),
    );
  }

  private async onlyInstallation(c: AdapterClient, accessToken: string): Promise<string | undefined> {
    const reachable = await this.installations(c, accessToken);
    return reachable.length === 1 ? reachable[0].account.login : undefined;
  }

  /** `GET {api}/user` with the token: 401 → not valid; rate limits → thrown as transient. */
  override async validate(
    c: AdapterClient,
    accessToken: string,
  ): Promise<{ valid: boolean; error?: string }> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return { valid: true };
    return validity(() => getJson(c, url, accessToken, 'GitHub', API_HEADERS));
  }
}

/** HTTP Basic with the app's raw client id and secret (GitHub's applications API; not RFC 6749's form-encoding). */
function basicAuth(c: Pick<AdapterClient, 'clientId' | 'clientSecret'>): string {
  return `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;
}
