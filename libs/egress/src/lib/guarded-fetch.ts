import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  checkUrlStatic,
  DEFAULT_EGRESS_POLICY,
  EgressDeniedError,
  redactUrl,
  type EgressPolicy,
} from './policy';
import { systemLookup, vettingLookup, type ResolvedAddress } from './vetting-lookup';

/** How a pool connects: shared by every fetch made on it. */
export interface EgressPoolOptions {
  /** Resolver (default: the OS resolver, `dns.lookup` with all answers). Tests inject a fake one. */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Extra trust anchors (PEM), added to Node's bundled roots: a self-hosted instance's private CA. */
  ca?: string | string[];
  /**
   * The pool's socket limits (connect, headers, body; default 60 000 ms): a backstop only, each
   * fetch's own deadline (`timeoutMs`) ends its exchange first.
   */
  socketTimeoutMs?: number;
}

/** One fetch's limits on a pool. */
export interface FetchLimits {
  /** Deadline for the whole exchange, redirects and body included (default 10 000 ms). */
  timeoutMs?: number;
  /** Redirects followed (each one re-checked) before giving up (default 3). */
  maxRedirects?: number;
  /** Largest response body accepted (default 1 MiB): provider answers are small; a huge one is refused mid-stream. */
  maxResponseBytes?: number;
}

export type GuardedFetchOptions = Omit<EgressPoolOptions, 'socketTimeoutMs'> & FetchLimits;

/**
 * One connection pool behind the egress guard. Every caller's fetch is a view on it with its own
 * limits, so a process opens one set of sockets and has one place where connections are configured.
 */
export interface Egress {
  readonly policy: Readonly<EgressPolicy>;
  /** A guarded fetch with these limits on this pool; its `close()` leaves the pool open (the Egress owns it). */
  fetch(limits?: FetchLimits): GuardedFetch;
  /** Closes the pool's sockets (every view's calls fail afterwards). */
  close(): Promise<void>;
}

/** A `fetch` that only reaches destinations the egress policy allows; `close()` frees its sockets. */
export type GuardedFetch = typeof fetch & { close(): Promise<void> };

const DEFAULT_TIMEOUT_MS = 10_000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
/** Headers that carry credentials: never forwarded to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];
/** Headers describing a request body: dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

type UndiciResponse = Awaited<ReturnType<typeof undiciFetch>>;

/** The EgressDeniedError somewhere in an error's cause chain (undici wraps socket errors). */
function egressCause(err: unknown): EgressDeniedError | null {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EgressDeniedError) return e;
  }
  return null;
}

function isReplayable(body: unknown): boolean {
  if (
    body == null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body)
  )
    return true;
  return body instanceof Blob || body instanceof FormData;
}

/** Caps a body stream at `max` bytes: past it the stream errors (and the connection is dropped). */
function capped(body: ReadableStream<Uint8Array>, max: number, url: string): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) controller.error(new EgressDeniedError(`response body exceeds ${max} bytes`, url));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/** Re-wraps undici's response as the global `Response` class (what callers and libraries check for). */
async function toGlobalResponse(
  res: UndiciResponse,
  url: string,
  redirected: boolean,
  maxBytes: number,
): Promise<Response> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new EgressDeniedError(`response body exceeds ${maxBytes} bytes`, url);
  }
  const stream = res.body as unknown as ReadableStream<Uint8Array> | null;
  const body = NULL_BODY_STATUSES.has(res.status) || !stream ? null : capped(stream, maxBytes, url);
  const out = new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: [...res.headers],
  });
  Object.defineProperty(out, 'url', { value: url });
  Object.defineProperty(out, 'redirected', { value: redirected });
  return out;
}

/**
 * A `fetch` for provider-controlled URLs, on a pool of its own (which its `close()` closes; a
 * process's modules take views of `sharedEgress` instead). Every hop is checked statically
 * (`checkUrlStatic`) and again at connection time: the host is resolved once, refused if any answer is a refused address,
 * and the socket connects to the vetted answers only. Redirects are followed manually (at most
 * `maxRedirects`, each re-checked; credentials are dropped on a change of origin; 301/302 after
 * POST and 303 become GET without body) unless the request asks for `redirect: 'manual'` (the 3xx
 * response is returned) or `'error'`. The whole exchange has a deadline (`timeoutMs`) and response
 * bodies a size cap (`maxResponseBytes`).
 */
export function createGuardedFetch(
  policy: EgressPolicy = DEFAULT_EGRESS_POLICY,
  opts: GuardedFetchOptions = {},
): GuardedFetch {
  const egress = createEgress(policy, { ...opts, socketTimeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  return Object.assign(egress.fetch(opts), { close: () => egress.close() });
}

/** A pool behind the guard (see `Egress`); a process normally has one, from `sharedEgress`. */
export function createEgress(
  policy: EgressPolicy = DEFAULT_EGRESS_POLICY,
  opts: EgressPoolOptions = {},
): Egress {
  const socketTimeoutMs = opts.socketTimeoutMs ?? 60_000;
  const extraCa = opts.ca === undefined ? undefined : Array.isArray(opts.ca) ? opts.ca : [opts.ca];
  const agent = new Agent({
    connect: {
      lookup: vettingLookup(policy, opts.lookup ?? systemLookup),
      timeout: socketTimeoutMs,
      ...(extraCa ? { ca: [...rootCertificates, ...extraCa] } : {}),
    },
    headersTimeout: socketTimeoutMs,
    bodyTimeout: socketTimeoutMs,
  });
  return {
    policy,
    fetch: (limits = {}) =>
      Object.assign(guardedFetchOn(agent, policy, limits), { close: () => Promise.resolve() }),
    close: () => agent.close(),
  };
}

/** The guarded fetch function over `agent` (see createGuardedFetch for what it checks). */
function guardedFetchOn(agent: Agent, policy: EgressPolicy, limits: FetchLimits): typeof fetch {
  const timeoutMs = limits.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = limits.maxRedirects ?? 3;
  const maxResponseBytes = limits.maxResponseBytes ?? 1024 * 1024;

  const guarded = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : null;
    let url = request ? request.url : String(input);
    let method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(request?.headers);
    new Headers(init.headers).forEach((value, name) => headers.set(name, value));
    let body: unknown = init.body ?? (request?.body ? await request.arrayBuffer() : undefined);
    const mode = init.redirect ?? 'follow';
    const signals = [AbortSignal.timeout(timeoutMs), init.signal ?? request?.signal].filter(
      (s): s is AbortSignal => !!s,
    );
    const signal = AbortSignal.any(signals);

    for (let hop = 0; ; hop++) {
      const target = checkUrlStatic(url, policy);
      let res: UndiciResponse;
      try {
        res = await undiciFetch(target.href, {
          method,
          headers: [...headers],
          body: body as never,
          redirect: 'manual',
          signal,
          dispatcher: agent,
          ...(init.duplex ? { duplex: init.duplex } : {}),
        } as Parameters<typeof undiciFetch>[1]);
      } catch (err) {
        const denied = egressCause(err);
        if (denied) throw new EgressDeniedError(denied.reason, target.href, { cause: err });
        throw err;
      }
      const location = res.headers.get('location');
      if (!REDIRECT_STATUSES.has(res.status) || mode === 'manual' || location === null)
        return toGlobalResponse(res, target.href, hop > 0, maxResponseBytes);
      await res.body?.cancel().catch(() => undefined);
      if (mode === 'error') throw new TypeError(`unexpected redirect from ${redactUrl(target)}`);
      if (hop >= maxRedirects)
        throw new EgressDeniedError(`more than ${maxRedirects} redirects`, target.href);

      let next: URL;
      try {
        next = new URL(location, target);
      } catch {
        throw new EgressDeniedError('redirect to an invalid URL', target.href);
      }
      if (
        (res.status === 303 && method !== 'HEAD') ||
        ((res.status === 301 || res.status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        for (const name of BODY_HEADERS) headers.delete(name);
      } else if (!isReplayable(body)) {
        throw new TypeError(`cannot follow a ${res.status} redirect with a streamed request body`);
      }
      if (next.origin !== target.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
      url = next.href;
    }
  };

  return guarded as typeof fetch;
}
