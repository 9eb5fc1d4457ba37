/**
 * IP address parsing and classification for the egress guard: which destinations a provider-controlled
 * URL may never reach (loopback, private, link-local, metadata services, translation prefixes that
 * embed such an address, ...). Pure functions, no I/O.
 */

/** Options of the classification; `allowLoopback` admits 127.0.0.0/8 and ::1 (local test providers). */
export interface AddressPolicy {
  allowLoopback: boolean;
}

interface Cidr {
  bytes: Uint8Array;
  bits: number;
  text: string;
}

interface Rule {
  cidr: Cidr;
  label: string;
}

/**
 * Strict dotted-decimal IPv4 (`a.b.c.d`, each 0-255, no leading zeros): the only form DNS answers and
 * the WHATWG URL parser produce. Anything else is not an IPv4 address here.
 */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/**
 * IPv6 in any RFC 4291 text form (`::` compression, trailing dotted quad), without brackets or zone
 * id, as 16 bytes; null when it is not one.
 */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.includes('%') || !text.includes(':')) return null;
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const tailPart = s.slice(lastColon + 1);
  if (tailPart.includes('.')) {
    const v4 = parseIPv4(tailPart);
    if (!v4) return null;
    s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-f]{1,4}$/i.test(groups[i])) return null;
    const n = parseInt(groups[i], 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  return out;
}

function cidr(text: string): Cidr {
  const [addr, bits] = text.split('/');
  const bytes = parseIPv4(addr) ?? parseIPv6(addr);
  if (!bytes) throw new Error(`bad CIDR ${text}`);
  return { bytes, bits: Number(bits), text };
}

function inCidr(bytes: Uint8Array, range: Cidr): boolean {
  if (bytes.length !== range.bytes.length) return false;
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}

const rule = (text: string, label: string): Rule => ({ cidr: cidr(text), label });

/** IPv4 ranges no provider call may reach, most specific first (the first match names the reason). */
const IPV4_RULES: Rule[] = [
  rule('255.255.255.255/32', 'limited broadcast'),
  rule('169.254.169.254/32', 'cloud metadata service'),
  rule('169.254.170.2/32', 'cloud metadata service (container credentials)'),
  rule('0.0.0.0/8', '"this network"'),
  rule('10.0.0.0/8', 'private'),
  rule('100.64.0.0/10', 'shared address space (CGNAT)'),
  rule('169.254.0.0/16', 'link-local'),
  rule('172.16.0.0/12', 'private'),
  rule('192.0.0.0/24', 'IETF protocol assignments'),
  rule('192.0.2.0/24', 'documentation'),
  rule('192.88.99.0/24', 'reserved (former 6to4 relay anycast)'),
  rule('192.168.0.0/16', 'private'),
  rule('198.18.0.0/15', 'benchmarking'),
  rule('198.51.100.0/24', 'documentation'),
  rule('203.0.113.0/24', 'documentation'),
  rule('224.0.0.0/4', 'multicast'),
  rule('240.0.0.0/4', 'reserved'),
];
const IPV4_LOOPBACK = rule('127.0.0.0/8', 'loopback');

const IPV6_LOOPBACK = rule('::1/128', 'loopback');
const IPV6_UNSPECIFIED = rule('::/128', 'unspecified');
const IPV6_METADATA = rule('fd00:ec2::254/128', 'cloud metadata service');
const IPV4_MAPPED = cidr('::ffff:0:0/96');
const IPV4_TRANSLATED = cidr('::ffff:0:0:0/96');
const IPV4_COMPATIBLE = cidr('::/96');
const NAT64_WELL_KNOWN = cidr('64:ff9b::/96');
const SIX_TO_FOUR = cidr('2002::/16');
const TEREDO = cidr('2001::/32');
const GLOBAL_UNICAST = cidr('2000::/3');

/** IPv6 ranges refused outright (after the embedded-IPv4 forms are handled), most specific first. */
const IPV6_RULES: Rule[] = [
  rule('64:ff9b:1::/48', 'NAT64 local-use prefix'),
  rule('100::/64', 'discard-only'),
  rule('2001:db8::/32', 'documentation'),
  rule('3fff::/20', 'documentation'),
  rule('2001::/23', 'IETF protocol assignments'),
  rule('fc00::/7', 'unique local (private)'),
  rule('fe80::/10', 'link-local'),
  rule('fec0::/10', 'site-local (deprecated)'),
  rule('ff00::/8', 'multicast'),
];

function formatIPv4(b: Uint8Array, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

function describe(r: Rule): string {
  return `${r.label} (${r.cidr.text})`;
}

function classifyIPv4(b: Uint8Array, policy: AddressPolicy): string | null {
  if (inCidr(b, IPV4_LOOPBACK.cidr)) return policy.allowLoopback ? null : describe(IPV4_LOOPBACK);
  const hit = IPV4_RULES.find((r) => inCidr(b, r.cidr));
  return hit ? describe(hit) : null;
}

/** The reason an IPv4 address carried inside an IPv6 one (at `offset`) is refused, if it is. */
function embedded(
  b: Uint8Array,
  offset: number,
  form: string,
  policy: AddressPolicy,
  invert = false,
): string | null {
  const v4 = b.slice(offset, offset + 4);
  if (invert) for (let i = 0; i < 4; i++) v4[i] = ~v4[i] & 0xff;
  const reason = classifyIPv4(v4, policy);
  return reason ? `${reason} embedded as ${formatIPv4(v4)} in ${form}` : null;
}

function classifyIPv6(b: Uint8Array, policy: AddressPolicy): string | null {
  if (inCidr(b, IPV6_UNSPECIFIED.cidr)) return describe(IPV6_UNSPECIFIED);
  if (inCidr(b, IPV6_LOOPBACK.cidr)) return policy.allowLoopback ? null : describe(IPV6_LOOPBACK);
  if (inCidr(b, IPV6_METADATA.cidr)) return describe(IPV6_METADATA);
  // The OS connects to the IPv4 address itself: judge it as IPv4 (loopback allowance included).
  if (inCidr(b, IPV4_MAPPED)) return embedded(b, 12, 'an IPv4-mapped IPv6 address (::ffff:0:0/96)', policy);
  if (inCidr(b, IPV4_TRANSLATED))
    return embedded(b, 12, 'an IPv4-translated IPv6 address (::ffff:0:0:0/96)', policy);
  // Translation and tunnelling forms reach the embedded IPv4 through a relay: never loopback-exempt.
  const strict: AddressPolicy = { allowLoopback: false };
  if (inCidr(b, IPV4_COMPATIBLE)) {
    return (
      embedded(b, 12, 'an IPv4-compatible IPv6 address (::/96)', strict) ??
      'deprecated IPv4-compatible IPv6 address (::/96)'
    );
  }
  if (inCidr(b, NAT64_WELL_KNOWN)) return embedded(b, 12, 'a NAT64 address (64:ff9b::/96)', strict);
  if (inCidr(b, SIX_TO_FOUR)) return embedded(b, 2, 'a 6to4 address (2002::/16)', strict);
  if (inCidr(b, TEREDO)) {
    return (
      embedded(b, 4, 'a Teredo address (server)', strict) ??
      embedded(b, 12, 'a Teredo address (client)', strict, true) ??
      'Teredo tunnel (2001::/32)'
    );
  }
  const hit = IPV6_RULES.find((r) => inCidr(b, r.cidr));
  if (hit) return describe(hit);
  if (!inCidr(b, GLOBAL_UNICAST)) return 'reserved (outside global unicast 2000::/3)';
  return null;
}

/**
 * Why a provider call may not connect to `ip` (a textual IPv4 or IPv6 address, IPv6 optionally in
 * brackets), or null when it may. Covers loopback (unless allowed), private, CGNAT, link-local,
 * cloud metadata (169.254.169.254, fd00:ec2::254, even with loopback allowed), "this network",
 * unspecified, multicast, broadcast, documentation, benchmarking and reserved ranges, and IPv6 forms
 * that embed a refused IPv4 address (IPv4-mapped / -translated / -compatible, NAT64, 6to4, Teredo).
 * Text that is not a canonical IP address (octal, hex, zone ids, ...) is refused too.
 */
export function forbiddenAddressReason(ip: string, policy: AddressPolicy): string | null {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const v4 = parseIPv4(text);
  if (v4) return classifyIPv4(v4, policy);
  const v6 = parseIPv6(text);
  if (v6) return classifyIPv6(v6, policy);
  return 'not a canonical IP address';
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback: the addresses `allowLoopback` admits. */
export function isLoopbackAddress(ip: string): boolean {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const v4 = parseIPv4(text);
  if (v4) return inCidr(v4, IPV4_LOOPBACK.cidr);
  const v6 = parseIPv6(text);
  if (!v6) return false;
  return inCidr(v6, IPV6_LOOPBACK.cidr) || (inCidr(v6, IPV4_MAPPED) && v6[12] === 127);
}

/** True when `text` is an IP literal (IPv4 dotted quad or IPv6, brackets allowed). */
export function isIpLiteral(text: string): boolean {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return parseIPv4(t) !== null || parseIPv6(t) !== null;
}
