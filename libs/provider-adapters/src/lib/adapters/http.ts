import { ProviderCallError, isRateLimited, retryAfterSeconds, throwIfTransient } from '../provider-call';

/** Default bound of one provider call. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** A fetch whose every answer goes through `filter` first (how a provider's deviations are straightened out before oauth4webapi reads them). */
export function filteredFetch(
  fetchImpl: typeof fetch,
  filter: (res: Response) => Promise<Response>,
): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    filter(await fetchImpl(input, init))) as typeof fetch;
}

/** A copy of `res` with a JSON body `body` (and another status if given); keeps the rate-limit headers. */
export function jsonResponse(res: Response, body: unknown, status = res.status): Response {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const name of ['retry-after', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'www-authenticate']) {
    const v = res.headers.get(name);
    if (v !== null) headers.set(name, v);
  }
  return new Response(JSON.stringify(body), { status, statusText: res.statusText, headers });
}

/** The media type of a response, lower case, without parameters. */
export function mediaType(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/** Parses a JSON object body; undefined if the body is not one. */
export async function readJsonObject(res: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body = (await res.clone().json()) as unknown;
    return body && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export interface ApiCall {
  fetch: typeof fetch;
  timeoutMs?: number;
}

export interface ApiAnswer<T> {
  body: T;
  headers: Headers;
}

/**
 * GET a provider API with a bearer token, mapped to the token path's terms: 5xx, 429 and
 * rate-limit 403s (headers, or a body saying "rate limit") → transient; 401 / other 403 →
 * invalid_grant (the token is refused); other failures → rejected.
 */
export async function getJson<T = unknown>(
  c: ApiCall,
  url: string,
  accessToken: string,
  what: string,
  headers: Record<string, string> = {},
): Promise<ApiAnswer<T>> {
  const res = await c.fetch(url, {
    headers: { accept: 'application/json', ...headers, authorization: `Bearer ${accessToken}` },
    signal: AbortSignal.timeout(c.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
  throwIfTransient(res);
  if (res.status === 403 && !isRateLimited(res)) {
    // GitHub's secondary rate limits are 403s that may come without any rate-limit header.
    const text = await res
      .clone()
      .text()
      .catch(() => '');
    if (/rate limit/i.test(text))
      throw new ProviderCallError(
        'transient',
        `${what} is rate limiting (403)`,
        retryAfterSeconds(res.headers),
      );
  }
  if (res.status === 401 || res.status === 403)
    throw new ProviderCallError(
      'invalid_grant',
      `${what} refused the token (${res.status})`,
      undefined,
      res.status,
    );
  if (!res.ok)
    throw new ProviderCallError('rejected', `${what} answered ${res.status}`, undefined, res.status);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ProviderCallError('rejected', `${what} did not answer JSON`);
  }
  return { body: body as T, headers: res.headers };
}

/** `getJson`, but any non-transient failure gives undefined (for best-effort extras such as e-mail lists). */
export async function getJsonBestEffort<T = unknown>(
  c: ApiCall,
  url: string,
  accessToken: string,
  what: string,
  headers: Record<string, string> = {},
): Promise<T | undefined> {
  try {
    return (await getJson<T>(c, url, accessToken, what, headers)).body;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
