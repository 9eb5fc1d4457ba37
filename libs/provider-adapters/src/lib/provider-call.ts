import * as oauth from 'oauth4webapi';
import type { OAuthUser } from '@broker/contracts';
import type { ResolvedProvider } from './resolve';

/** A token set as a provider issued it (in clear: keep it in memory only). */
export interface ProviderTokenSet {
  accessToken: string;
  tokenType: string;
  /** Absent when the provider omitted `refresh_token` (on refresh: keep the old one). */
  refreshToken?: string;
  expiresAt?: Date;
  /** When the refresh token itself expires, where the provider says (`refresh_token_expires_in`, GitHub). */
  refreshTokenExpiresAt?: Date;
  scope?: string;
}

/**
 * How a provider call failed, in the terms of the token path:
 * - `transient`: network, timeout, 5xx, 429, rate-limit 403: retry later, the authorization stays active;
 * - `invalid_grant`: the grant is dead (unless a sibling rotated the refresh token meanwhile);
 * - `invalid_client`: the org's OAuth app credentials are refused;
 * - `rejected`: any other refusal of this request (bad verifier, bad redirect URI...).
 */
export class ProviderCallError extends Error {
  constructor(
    readonly kind: 'transient' | 'invalid_grant' | 'invalid_client' | 'rejected',
    message: string,
    readonly retryAfterSeconds?: number,
    /** The provider's HTTP status, when a resource API (userinfo...) answered one (401: token refused; 403: not allowed). */
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'ProviderCallError';
  }
}

export interface ProviderClient {
  provider: Pick<ResolvedProvider, 'endpoints' | 'tokenEndpointAuthMethod'>;
  clientId: string;
  clientSecret: string;
  /** The guarded fetch (egress policy). */
  fetch: typeof fetch;
  /** Hard timeout of each call. */
  timeoutMs?: number;
}

/** Maps common OIDC / provider profile fields to `oauth.User`. */
export function normalizeUser(raw: Record<string, unknown>): OAuthUser {
  const str = (...names: string[]) => {
    for (const n of names) {
      const v = raw[n];
      if (typeof v === 'string' && v) return v;
      if (typeof v === 'number') return String(v);
    }
    return undefined;
  };
  const user: OAuthUser = {
    sub: str('sub', 'id', 'account_id', 'userPrincipalName'),
    name: str('name', 'display_name', 'displayName'),
    givenName: str('given_name', 'givenName', 'first_name'),
    familyName: str('family_name', 'surname', 'last_name'),
    nickName: str('nickname', 'preferred_username', 'login', 'username'),
    email: str('email', 'mail'),
    picture: str('picture', 'avatar_url'),
    locale: str('locale', 'preferredLanguage'),
    description: str('bio', 'description'),
    raw,
  };
  return withoutUndefined(user);
}

/** Drops undefined fields (an `oauth.User` lists only what the provider told). */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** An OAuth error code fit for a message: provider-controlled text is never echoed beyond a short code. */
export function safeCode(code: unknown): string {
  return typeof code === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(code) ? code : 'error';
}

/** The token path's view of any failure of a provider call (messages never carry a token). */
export function classify(err: unknown): ProviderCallError {
  if (err instanceof ProviderCallError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    if (err.error === 'invalid_grant')
      return new ProviderCallError('invalid_grant', 'the provider says the grant is invalid or expired');
    if (err.error === 'invalid_client' || err.error === 'unauthorized_client')
      return new ProviderCallError('invalid_client', `the provider refused the client (${err.error})`);
    if (err.error === 'temporarily_unavailable' || err.error === 'server_error')
      return new ProviderCallError('transient', `the provider answered ${err.error}`);
    return new ProviderCallError('rejected', `the provider refused: ${safeCode(err.error)}`);
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError)
    return new ProviderCallError('invalid_client', 'the provider refused the client credentials');
  if (err instanceof oauth.OperationProcessingError)
    return new ProviderCallError('rejected', `unexpected answer from the provider (${err.message})`);
  if (err instanceof oauth.UnsupportedOperationError)
    return new ProviderCallError('rejected', `unexpected answer from the provider (${err.message})`);
  return new ProviderCallError('transient', 'the provider could not be reached or did not answer in time');
}

/** Seconds to wait from `retry-after` (seconds or HTTP date) or, at an exhausted quota, `x-ratelimit-reset` (epoch seconds). */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.max(1, Math.ceil(seconds));
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(1, Math.ceil((date - now) / 1000));
  }
  if (headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return Math.max(1, Math.ceil(reset - now / 1000));
  }
  return undefined;
}

/**
 * A rate-limit answer: 429, or a 403 carrying `retry-after` or an exhausted `x-ratelimit-remaining`
 * (GitHub's primary and secondary limits, documented as 403 or 429).
 */
export function isRateLimited(res: Response): boolean {
  if (res.status === 429) return true;
  return (
    res.status === 403 && (res.headers.get('x-ratelimit-remaining') === '0' || res.headers.has('retry-after'))
  );
}

/** Throws `transient` for a 5xx or a rate-limit answer (with the advertised wait). */
export function throwIfTransient(res: Response): void {
  if (res.status >= 500 || isRateLimited(res)) {
    throw new ProviderCallError(
      'transient',
      res.status >= 500
        ? `the provider answered ${res.status}`
        : `the provider is rate limiting (${res.status})`,
      retryAfterSeconds(res.headers),
    );
  }
}

/** Runs a provider call, turning every failure into a ProviderCallError (through `classifyErr`). */
export async function call<T>(
  fn: () => Promise<T>,
  classifyErr: (err: unknown) => ProviderCallError = classify,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyErr(err);
  }
}

/** A token endpoint answer (already checked by oauth4webapi) as a ProviderTokenSet. */
export function toTokenSet(r: oauth.TokenEndpointResponse): ProviderTokenSet {
  const refreshExpiresIn = Number(r['refresh_token_expires_in']);
  return withoutUndefined({
    accessToken: r.access_token,
    tokenType: typeof r.token_type === 'string' ? r.token_type : 'Bearer',
    refreshToken: typeof r.refresh_token === 'string' && r.refresh_token ? r.refresh_token : undefined,
    expiresAt: typeof r.expires_in === 'number' ? new Date(Date.now() + r.expires_in * 1000) : undefined,
    refreshTokenExpiresAt:
      Number.isFinite(refreshExpiresIn) && refreshExpiresIn > 0
        ? new Date(Date.now() + refreshExpiresIn * 1000)
        : undefined,
    scope: typeof r.scope === 'string' ? r.scope : undefined,
  });
}
