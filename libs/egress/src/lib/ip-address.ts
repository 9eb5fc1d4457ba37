import { IPv4, IPv6, fromByteArray, parseCIDR } from 'ipaddr.js';

/**
 * IP address classification for the egress guard: which destinations a provider-controlled URL may
 * never reach (loopback, private, link-local, metadata services, translation prefixes that embed
 * such an address, ...). Parsing and range matching are ipaddr.js's; the tables below are ours
 * (ipaddr.js's own `range()` names differ and would not say which range refused an address).
 * Pure functions, no I/O.
 */

/** Options of the classification; `allowLoopback` admits 127.0.0.0/8 and ::1 (local test providers). */
export interface AddressPolicy {
  allowLoopback: boolean;
}

interface Rule {
  range: [IPv4 | IPv6, number];
  label: string;
  text: string;
}

const rule = (text: string, label: string): Rule => ({ range: parseCIDR(text), label, text });
const range = (text: string): [IPv4 | IPv6, number] => parseCIDR(text);

/**
 * Strict dotted-decimal IPv4 (`a.b.c.d`, each 0-255, no leading zeros): the only form DNS answers and
 * the WHATWG URL parser produce. Octal, hex, fewer parts or one integer are not IPv4 here.
 */
const DIGITS_AND_DOTS = /^[0-9.]+$/;

function parseV4(text: string): IPv4 | null {
  // Only digits and dots are asked: ipaddr.js's validity check of other text (a host name, an IPv6
  // address) costs an exception (~15 µs), paid on every URL check and IPv6 connection otherwise.
  if (!DIGITS_AND_DOTS.test(text) || !IPv4.isValidFourPartDecimal(text)) return null;
  return IPv4.parse(text);
}

/**
 * IPv6 in any RFC 4291 text form (`::` compression, trailing dotted quad, which must be strict
 * dotted-decimal too), without brackets; a zone id (`%eth0`) is refused: it names an interface,
 * not a destination the policy can judge.
 */
function parseV6(text: string): IPv6 | null {
  if (text.includes('%') || !text.includes(':')) return null;
  const colon = text.lastIndexOf(':');
  const tail = text.slice(colon + 1);
  let hex = text;
  if (tail.includes('.')) {
    // ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d` (IPv4-mapped), not RFC 4291's IPv4-compatible
    // `::/96`: the dotted tail becomes its two hex groups here, so the bytes are the text's own.
    const v4 = parseV4(tail);
    if (!v4) return null;
    const [a, b, c, d] = v4.octets;
    hex = `${text.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  return IPv6.isValid(hex) ? IPv6.parse(hex) : null;
}

const unbracket = (ip: string): string => (ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip);

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
const IPV4_MAPPED = range('::ffff:0:0/96');
const IPV4_TRANSLATED = range('::ffff:0:0:0/96');
const IPV4_COMPATIBLE = range('::/96');
const NAT64_WELL_KNOWN = range('64:ff9b::/96');
const SIX_TO_FOUR = range('2002::/16');
const TEREDO = range('2001::/32');
const GLOBAL_UNICAST = range('2000::/3');

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

const describe = (r: Rule): string => `${r.label} (${r.text})`;

function classifyIPv4(ip: IPv4, policy: AddressPolicy): string | null {
  if (ip.match(IPV4_LOOPBACK.range)) return policy.allowLoopback ? null : describe(IPV4_LOOPBACK);
  const hit = IPV4_RULES.find((r) => ip.match(r.range));
  return hit ? describe(hit) : null;
}

/** The reason an IPv4 address carried inside an IPv6 one (bytes at `offset`) is refused, if it is. */
function embedded(
  bytes: number[],
  offset: number,
  form: string,
  policy: AddressPolicy,
  invert = false,
): string | null {
  const octets = bytes.slice(offset, offset + 4).map((b) => (invert ? ~b & 0xff : b));
  const v4 = fromByteArray(octets) as IPv4;
  const reason = classifyIPv4(v4, policy);
  return reason ? `${reason} embedded as ${v4.toString()} in ${form}` : null;
}

function classifyIPv6(ip: IPv6, policy: AddressPolicy): string | null {
  if (ip.match(IPV6_UNSPECIFIED.range)) return describe(IPV6_UNSPECIFIED);
  if (ip.match(IPV6_LOOPBACK.range)) return policy.allowLoopback ? null : describe(IPV6_LOOPBACK);
  if (ip.match(IPV6_METADATA.range)) return describe(IPV6_METADATA);
  const b = ip.toByteArray();
  // The OS connects to the IPv4 address itself: judge it as IPv4 (loopback allowance included).
  if (ip.match(IPV4_MAPPED)) return embedded(b, 12, 'an IPv4-mapped IPv6 address (::ffff:0:0/96)', policy);
  if (ip.match(IPV4_TRANSLATED))
    return embedded(b, 12, 'an IPv4-translated IPv6 address (::ffff:0:0:0/96)', policy);
  // Translation and tunnelling forms reach the embedded IPv4 through a relay: never loopback-exempt.
  const strict: AddressPolicy = { allowLoopback: false };
  if (ip.match(IPV4_COMPATIBLE)) {
    return (
      embedded(b, 12, 'an IPv4-compatible IPv6 address (::/96)', strict) ??
      'deprecated IPv4-compatible IPv6 address (::/96)'
    );
  }
  if (ip.match(NAT64_WELL_KNOWN)) return embedded(b, 12, 'a NAT64 address (64:ff9b::/96)', strict);
  if (ip.match(SIX_TO_FOUR)) return embedded(b, 2, 'a 6to4 address (2002::/16)', strict);
  if (ip.match(TEREDO)) {
    return (
      embedded(b, 4, 'a Teredo address (server)', strict) ??
      embedded(b, 12, 'a Teredo address (client)', strict, true) ??
      'Teredo tunnel (2001::/32)'
    );
  }
  const hit = IPV6_RULES.find((r) => ip.match(r.range));
  if (hit) return describe(hit);
  if (!ip.match(GLOBAL_UNICAST)) return 'reserved (outside global unicast 2000::/3)';
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
  const text = unbracket(ip);
  const v4 = parseV4(text);
  if (v4) return classifyIPv4(v4, policy);
  const v6 = parseV6(text);
  if (v6) return classifyIPv6(v6, policy);
  return 'not a canonical IP address';
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback: the addresses `allowLoopback` admits. */
export function isLoopbackAddress(ip: string): boolean {
  const text = unbracket(ip);
  const v4 = parseV4(text);
  if (v4) return v4.match(IPV4_LOOPBACK.range);
  const v6 = parseV6(text);
  if (!v6) return false;
  return (
    v6.match(IPV6_LOOPBACK.range) || (v6.match(IPV4_MAPPED) && v6.toIPv4Address().match(IPV4_LOOPBACK.range))
  );
}

/** True when `text` is an IP literal (IPv4 dotted quad or IPv6, brackets allowed). */
export function isIpLiteral(text: string): boolean {
  const t = unbracket(text);
  return parseV4(t) !== null || parseV6(t) !== null;
}
