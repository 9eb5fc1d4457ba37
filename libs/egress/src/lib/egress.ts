import { promises as dns, LookupAddress, LookupOptions } from 'node:dns';
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { forbiddenAddressReason, isIpLiteral, isLoopbackAddress } from './ip-address';

export { forbiddenAddressReason } from './ip-address';

/**
 * Where provider calls may go. Production uses the default: HTTPS on port 443 to public addresses
 * only. `allowLoopback` admits 127.0.0.0/8, ::1 and `localhost` names (and plain http to them) for
 * local test providers in development; private, link-local and metadata addresses stay refused. The
 * caller decides (this library reads no environment variables).
 */
export interface EgressPolicy {
  allowLoopback: boolean;
  /** Ports a URL may name (explicitly or implicitly: 443 for https, 80 for http). */
  allowedPorts: readonly number[];
}

export const DEFAULT_EGRESS_POLICY: Readonly<EgressPolicy> = Object.freeze({
  allowLoopback: false,
  allowedPorts: Object.freeze([443]),
});

/**
 * A provider call refused by the egress guard. `url` is redacted to scheme, host and path (queries,
 * fragments and credentials may hold secrets), and so is the message.
 */
export class EgressDeniedError extends Error {
  readonly url: string;

  constructor(
    readonly reason: string,
    url: string,
    options?: { cause?: unknown },
  ) {
    const safe = redactUrl(url);
    super(`egress denied: ${reason} (${safe})`, options);
    this.name = 'EgressDeniedError';
    this.url = safe;
  }
}

/** `scheme://host/path` of a URL: no credentials, query or fragment. */
export function redactUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);
/** Special-use and private-use DNS suffixes that never name a provider on the internet. */
const PRIVATE_SUFFIXES = [
  'local',
  'localdomain',
  'internal',
  'intranet',
  'home.arpa',
  'arpa',
  'onion',
  'invalid',
];

function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost');
}

/**
 * Static checks of a provider URL, before any DNS: https only (plain http only to a loopback
 * destination when the policy allows loopback), a port from `allowedPorts`, no credentials, no IP
 * literal in a refused range (the WHATWG parser has already turned `2130706433`, `0x7f.1`, `017.1`
 * ... into dotted quads), no `localhost` names unless loopback is allowed, no single-label or
 * private-use names (`.local`, `.internal`, ...). Returns the parsed URL.
 */
export function checkUrlStatic(url: string | URL, policy: EgressPolicy = DEFAULT_EGRESS_POLICY): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EgressDeniedError('not a valid absolute URL', String(url));
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new EgressDeniedError(`scheme ${u.protocol} is not allowed`, u.href);
  if (u.username || u.password) throw new EgressDeniedError('credentials in the URL are not allowed', u.href);

  const host = u.hostname.toLowerCase();
  let loopback: boolean;
  if (isIpLiteral(host)) {
    const reason = forbiddenAddressReason(host, policy);
    if (reason) throw new EgressDeniedError(`destination is ${reason}`, u.href);
    loopback = isLoopbackAddress(host);
  } else {
    const name = host.replace(/\.+$/, '');
    loopback = isLoopbackName(name);
    if (loopback && !policy.allowLoopback)
      throw new EgressDeniedError('destination is a loopback host name', u.href);
    if (!loopback) {
      if (!name.includes('.')) throw new EgressDeniedError('single-label host names are not allowed', u.href);
      const suffix = PRIVATE_SUFFIXES.find((s) => name === s || name.endsWith(`.${s}`));
      if (suffix) throw new EgressDeniedError(`host names under .${suffix} are not allowed`, u.href);
    }
  }

  if (u.protocol === 'http:' && !(policy.allowLoopback && loopback)) {
    throw new EgressDeniedError('plain http is not allowed (https only)', u.href);
  }
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  if (!policy.allowedPorts.includes(port)) throw new EgressDeniedError(`port ${port} is not allowed`, u.href);
  return u;
}

/** One DNS answer. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface GuardedFetchOptions {
  /** Resolver (default: the OS resolver, `dns.lookup` with all answers). Tests inject a fake one. */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Deadline for the whole exchange, redirects and body included (default 10 000 ms). */
  timeoutMs?: number;
  /** Redirects followed (each one re-checked) before giving up (default 3). */
  maxRedirects?: number;
  /** Largest response body accepted (default 1 MiB): provider answers are small; a huge one is refused mid-stream. */
  maxResponseBytes?: number;
  /** Extra trust anchors (PEM), added to Node's bundled roots: a self-hosted instance's private CA. */
  ca?: string | string[];
}

/** A `fetch` that only reaches destinations the egress policy allows; `close()` frees its sockets. */
export type GuardedFetch = typeof fetch & { close(): Promise<void> };

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
type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The `lookup` given to every socket the guarded agent opens: resolves once, refuses the connection
 * when ANY answer is a refused address, and hands exactly the vetted answers to the socket, so the
 * address connected to is the address checked (no second resolution, no DNS rebinding window).
 */
function vettingLookup(policy: EgressPolicy, resolve: (hostname: string) => Promise<ResolvedAddress[]>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const vet = (answers: ResolvedAddress[]): ResolvedAddress[] => {
      if (answers.length === 0)
        throw Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENOTFOUND' });
      for (const a of answers) {
        const reason = forbiddenAddressReason(a.address, policy);
        if (reason)
          throw new EgressDeniedError(
            `${hostname} resolves to ${a.address}: ${reason}`,
            `https://${hostname}/`,
          );
      }
      const wanted =
        options.family === 4 || options.family === 6
          ? answers.filter((a) => a.family === options.family)
          : answers;
      if (wanted.length === 0)
        throw Object.assign(new Error(`no IPv${options.family} address for ${hostname}`), {
          code: 'ENOTFOUND',
        });
      return wanted.map((a) => ({ address: a.address, family: a.family }));
    };
    resolve(hostname)
      .then(vet)
      .then(
        (list) => (options.all ? callback(null, list) : callback(null, list[0].address, list[0].family)),
        (err: NodeJS.ErrnoException) => callback(err, ''),
      );
  };
}

async function systemLookup(hostname: string): Promise<ResolvedAddress[]> {
  return dns.lookup(hostname, { all: true, verbatim: true });
}

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
 * A `fetch` for provider-controlled URLs. Every hop is checked statically (`checkUrlStatic`) and
 * again at connection time: the host is resolved once, refused if any answer is a refused address,
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
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxRedirects = opts.maxRedirects ?? 3;
  const maxResponseBytes = opts.maxResponseBytes ?? 1024 * 1024;
  const extraCa = opts.ca === undefined ? undefined : Array.isArray(opts.ca) ? opts.ca : [opts.ca];
  const agent = new Agent({
    connect: {
      lookup: vettingLookup(policy, opts.lookup ?? systemLookup),
      timeout: timeoutMs,
      ...(extraCa ? { ca: [...rootCertificates, ...extraCa] } : {}),
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

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

  return Object.assign(guarded as typeof fetch, { close: () => agent.close() });
}
