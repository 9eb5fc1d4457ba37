import { BrokerClientError, BrokerClientErrorCode } from './errors';
import type { AccessTokenProvider, ClientCredentials } from './options';

/** Where the client gets its own access token for the bus (never logged, never in an error). */
export interface AccessTokenSource {
  /**
   * A token to send. `refused` is the token the broker just refused: a different (newer) one is
   * fine, that one never. Unbounded: callers bound their wait.
   */
  get(refused?: string): Promise<string>;
  /** How many times a token was requested from the token endpoint (or the provider). */
  readonly fetches: number;
}

/** At most this long before expiry the cached token is replaced (half its life when shorter). */
export const OWN_TOKEN_REFRESH_MARGIN_MS = 60_000;
/** Kept this long when the token endpoint gives no `expires_in`. */
const NO_EXPIRY_CACHE_MS = 60_000;

interface TokenResponseBody {
  access_token?: unknown;
  expires_in?: unknown;
  error?: unknown;
}

/** `client_credentials` against the broker's token endpoint; one fetch at a time, cached until near expiry. */
export class ClientCredentialsSource implements AccessTokenSource {
  private current?: { token: string; refreshAt: number };
  private inflight?: Promise<string>;
  private count = 0;

  constructor(private readonly credentials: ClientCredentials) {}

  get fetches(): number {
    return this.count;
  }

  get(refused?: string): Promise<string> {
    if (refused !== undefined && this.current?.token === refused) this.current = undefined;
    if (this.current && Date.now() < this.current.refreshAt) return Promise.resolve(this.current.token);
    // Concurrent callers share one fetch; one under way is as fresh as a new one would be.
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<string> {
    this.count++;
    const { tokenUrl, clientId, clientSecret } = this.credentials;
    // RFC 6749 §2.3.1: each part form-urlencoded before Basic encoding.
    const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString(
      'base64',
    );
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.credentials.scope ?? 'tokens:read',
    });
    let response: Response;
    try {
      response = await fetch(tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: body.toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.credentials.requestTimeoutMs ?? 10_000),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new BrokerClientError(
        timedOut ? 'TIMEOUT' : 'UNAVAILABLE',
        timedOut
          ? 'the broker token endpoint did not answer in time'
          : 'the broker token endpoint could not be reached',
      );
    }

    let json: TokenResponseBody | undefined;
    try {
      json = (await response.json()) as TokenResponseBody;
    } catch {
      json = undefined;
    }
    if (!response.ok) throw tokenEndpointError(response.status, json);
    if (!json || typeof json.access_token !== 'string' || json.access_token === '') {
      throw new BrokerClientError('INTERNAL', 'the broker token endpoint answered without an access_token');
    }
    const now = Date.now();
    const lifetimeMs =
      typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in * 1000 : undefined;
    const refreshAt =
      lifetimeMs === undefined
        ? now + NO_EXPIRY_CACHE_MS
        : now + lifetimeMs - Math.min(OWN_TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2);
    this.current = { token: json.access_token, refreshAt };
    return json.access_token;
  }
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** An OAuth error answer as a typed error: only the (checked) error code and the status, never the body. */
function tokenEndpointError(status: number, body: TokenResponseBody | undefined): BrokerClientError {
  const oauthError =
    typeof body?.error === 'string' && /^[\w.-]{1,64}$/.test(body.error) ? body.error : undefined;
  let code: BrokerClientErrorCode;
  if (status === 401 || oauthError === 'invalid_client') code = 'UNAUTHENTICATED';
  else if (oauthError === 'invalid_scope' || oauthError === 'unauthorized_client' || status === 403)
    code = 'FORBIDDEN';
  else if (status === 429) code = 'RATE_LIMITED';
  else if (status >= 500) code = 'UNAVAILABLE';
  else code = 'INTERNAL';
  const what = oauthError ? `${oauthError} (HTTP ${status})` : `HTTP ${status}`;
  return new BrokerClientError(
    code,
    `the broker token endpoint refused this client's token request: ${what}`,
  );
}

/** A caller-supplied token function; no caching here (the caller's function owns it). */
export class ProvidedTokenSource implements AccessTokenSource {
  private count = 0;

  constructor(private readonly provider: AccessTokenProvider) {}

  get fetches(): number {
    return this.count;
  }

  async get(refused?: string): Promise<string> {
    this.count++;
    let token: unknown;
    try {
      token = await this.provider.getAccessToken({ forceRefresh: refused !== undefined });
    } catch (err) {
      if (err instanceof BrokerClientError) throw err;
      throw new BrokerClientError('UNAVAILABLE', 'getAccessToken failed to give an access token');
    }
    if (typeof token !== 'string' || token === '') {
      throw new BrokerClientError('INTERNAL', 'getAccessToken gave no access token');
    }
    return token;
  }
}
