import { forbiddenAddressReason, isIpLiteral, isLoopbackAddress } from './ip-address';

/*
 * The egress policy and the checks a URL passes before any DNS (scheme, port, credentials, IP
 * literals, host names). The connection-time check is vetting-lookup.ts; the fetch, guarded-fetch.ts.
 */

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
