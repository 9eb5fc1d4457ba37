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
  scope?: string;
}

/**
 * How a provider call failed, in the terms of the token path:
 * - `transient`: network, timeout, 5xx, 429: retry later, the authorization stays active;
 * - `invalid_grant`: the grant is dead (unless a sibling rotated the refresh token meanwhile);
 * - `invalid_client`: the org's OAuth app credentials are refused;
 * - `rejected`: any other refusal of this request (bad code, bad verifier...).
 */
export class ProviderCallError extends Error {
  constructor(
    readonly kind: 'transient' | 'invalid_grant' | 'invalid_client' | 'rejected',
    message: string,
    readonly retryAfterSeconds?: number,
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

function server(p: ProviderClient['provider']): oauth.AuthorizationServer {
  const e = p.endpoints;
  return {
    issuer: e.issuer ?? new URL(e.tokenUrl).origin,
    authorization_endpoint: e.authorizationUrl,
    token_endpoint: e.tokenUrl,
    userinfo_endpoint: e.userinfoUrl,
    revocation_endpoint: e.revocationUrl,
  };
}

function clientAuth(c: ProviderClient): oauth.ClientAuth {
  return c.provider.tokenEndpointAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(c.clientSecret) : oauth.ClientSecretBasic(c.clientSecret);
}

function requestOptions(c: ProviderClient, url: string) {
  return {
    [oauth.customFetch]: c.fetch,
    [oauth.allowInsecureRequests]: url.startsWith('http:'),
    signal: AbortSignal.timeout(c.timeoutMs ?? 10_000),
  };
}

/** The authorization URL the user is sent to (PKCE S256 when given a challenge). */
export function authorizationUrl(
  provider: Pick<ResolvedProvider, 'endpoints' | 'scopeSeparator' | 'extraAuthorizationParams'>,
  params: { clientId: string; redirectUri: string; scopes: string[]; state: string; codeChallenge?: string },
): string {
  const url = new URL(provider.endpoints.authorizationUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', params.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  if (params.scopes.length) url.searchParams.set('scope', params.scopes.join(provider.scopeSeparator || ' '));
  url.searchParams.set('state', params.state);
  if (params.codeChallenge) {
    url.searchParams.set('code_challenge', params.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  for (const [k, v] of Object.entries(provider.extraAuthorizationParams ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

/** Exchanges an authorization code (with the PKCE verifier when one was used). */
export async function exchangeCode(c: ProviderClient, params: { code: string; redirectUri: string; codeVerifier?: string }): Promise<ProviderTokenSet> {
  const as = server(c.provider);
  const client: oauth.Client = { client_id: c.clientId };
  return call(async () => {
    // The state and `iss` were checked by the caller against its own records; only the code goes on.
    const body = oauth.validateAuthResponse(as, client, new URLSearchParams({ code: params.code }), oauth.skipStateCheck);
    const res = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth(c),
      body,
      params.redirectUri,
      params.codeVerifier ?? oauth.nopkce,
      requestOptions(c, c.provider.endpoints.tokenUrl),
    );
    throwIfTransient(res);
    return toTokenSet(await oauth.processGenericTokenEndpointResponse(as, client, res));
  });
}

/** Uses a refresh token; the answer may carry a new (rotated) refresh token or none. */
export async function refreshTokens(c: ProviderClient, refreshToken: string): Promise<ProviderTokenSet> {
  const as = server(c.provider);
  const client: oauth.Client = { client_id: c.clientId };
  return call(async () => {
    const res = await oauth.refreshTokenGrantRequest(as, client, clientAuth(c), refreshToken, requestOptions(c, c.provider.endpoints.tokenUrl));
    throwIfTransient(res);
    return toTokenSet(await oauth.processGenericTokenEndpointResponse(as, client, res));
  });
}

/** The provider's user behind an access token, normalized to seed 000's `oauth.User` (the answer kept in `raw`). */
export async function fetchUserInfo(c: Omit<ProviderClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
  const url = c.provider.endpoints.userinfoUrl;
  if (!url) return {};
  return call(async () => {
    const res = await c.fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(c.timeoutMs ?? 10_000) });
    throwIfTransient(res);
    if (res.status === 401 || res.status === 403) throw new ProviderCallError('invalid_grant', `the userinfo endpoint refused the token (${res.status})`);
    if (!res.ok) throw new ProviderCallError('rejected', `the userinfo endpoint answered ${res.status}`);
    const raw = (await res.json()) as Record<string, unknown>;
    return normalizeUser(raw);
  });
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
  return Object.fromEntries(Object.entries(user).filter(([, v]) => v !== undefined)) as OAuthUser;
}

function toTokenSet(r: oauth.TokenEndpointResponse): ProviderTokenSet {
  return {
    accessToken: r.access_token,
    tokenType: typeof r.token_type === 'string' ? r.token_type : 'Bearer',
    refreshToken: typeof r.refresh_token === 'string' && r.refresh_token ? r.refresh_token : undefined,
    expiresAt: typeof r.expires_in === 'number' ? new Date(Date.now() + r.expires_in * 1000) : undefined,
    scope: typeof r.scope === 'string' ? r.scope : undefined,
  };
}

function throwIfTransient(res: Response): void {
  if (res.status === 429 || res.status >= 500) {
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ProviderCallError('transient', `the provider answered ${res.status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
  }
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classify(err);
  }
}

/** The token path's view of any failure of a provider call (messages never carry a token). */
export function classify(err: unknown): ProviderCallError {
  if (err instanceof ProviderCallError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    if (err.error === 'invalid_grant') return new ProviderCallError('invalid_grant', 'the provider says the grant is invalid or expired');
    if (err.error === 'invalid_client' || err.error === 'unauthorized_client') return new ProviderCallError('invalid_client', `the provider refused the client (${err.error})`);
    if (err.error === 'temporarily_unavailable' || err.error === 'server_error') return new ProviderCallError('transient', `the provider answered ${err.error}`);
    return new ProviderCallError('rejected', `the provider refused: ${err.error}`);
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) return new ProviderCallError('invalid_client', 'the provider refused the client credentials');
  if (err instanceof oauth.OperationProcessingError) return new ProviderCallError('rejected', `unexpected answer from the provider (${err.message})`);
  return new ProviderCallError('transient', 'the provider could not be reached or did not answer in time');
}
