import { parseRedisUrl } from '@broker/bus-protocol';
/**
 * Production refuses secrets that are placeholders, published examples or too predictable: the
 * templates in docker/.env.example and k8s/secret.example.yaml are public, so a deployment that
 * kept one of their values runs with a key everybody knows. Messages name the variable and the
 * reason, never the value.
 */

/** Markers of template values (case-insensitive substrings). Six characters or more, so that a random base64 secret practically never contains one by chance. */
const PLACEHOLDER_MARKERS = [
  'replace_me',
  'replace-me',
  'replaceme',
  'change_me',
  'change-me',
  'changeme',
  'placeholder',
  'example',
  'your_secret',
  'your-secret',
  'xxxxxx',
  'insecure',
  'do_not_use',
  'not-a-secret',
];

/** Whole values known from templates, docs and defaults (compared case-insensitively). */
const KNOWN_VALUES = [
  'broker',
  'postgres',
  'password',
  'passw0rd',
  'secret',
  'admin',
  'root',
  'redis',
  'changeit',
  'default',
  'test',
  '123456',
  'letmein',
];

/** Distinct bytes a 32-byte random key has at least (expected about 30; 16 or fewer is not random). */
const MIN_DISTINCT_KEY_BYTES = 17;
/** Estimated entropy (length × Shannon entropy per character) an operator-chosen text secret needs. */
const MIN_TEXT_SECRET_BITS = 96;

type SecretKind = 'key' | 'text' | 'issued' | 'url-password';

/** The secret variables and what kind of value each holds. */
const SECRET_VARIABLES: Record<string, SecretKind> = {
  // kid:key[,kid:key]: raw 32-byte X25519 private keys / Ed25519 seeds, base64url.
  BUS_SERVICE_PRIVATE_KEY: 'key',
  EVENTS_SIGNING_KEY: 'key',
  SECRET_PEPPER: 'key',
  ENCRYPTION_KEYS: 'key',
  QUEUE_DASHBOARD_SESSION_KEY: 'key',
  BOOTSTRAP_CLIENT_SECRET: 'text',
  // Issued by the upstream provider: its format is the provider's, only template values are refused.
  UPSTREAM_CLIENT_SECRET: 'issued',
  DATABASE_URL: 'url-password',
  REDIS_URL: 'url-password',
};

const GENERATE = 'generate a real one, e.g. openssl rand -base64 32';

/** Problems (one per variable, naming it) with the secrets in `env`; empty when all look real. */
export function placeholderSecretProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const [name, kind] of Object.entries(SECRET_VARIABLES)) {
    const value = env[name];
    if (!value) continue;
    const problem = problemOf(kind, value);
    if (problem) problems.push(`${name}: ${problem} (refused when NODE_ENV=production)`);
  }
  return problems;
}

function problemOf(kind: SecretKind, value: string): string | null {
  if (kind === 'url-password') {
    const password = urlPassword(value);
    if (password === null) return null;
    const template = templateReason(password);
    return template ? `its password ${template}; set a real password` : null;
  }
  if (kind === 'key') {
    // ENCRYPTION_KEYS, BUS_SERVICE_PRIVATE_KEY and EVENTS_SIGNING_KEY are id:key[,id:key]: each key is checked.
    const keys = value.includes(':')
      ? value.split(',').map((entry) => entry.slice(entry.indexOf(':') + 1))
      : [value];
    for (const key of keys) {
      const template = templateReason(key);
      if (template) return `${template}; ${GENERATE}`;
      const distinct = new Set(Buffer.from(key, 'base64')).size;
      if (distinct < MIN_DISTINCT_KEY_BYTES)
        return `is not random enough (only ${distinct} distinct bytes); ${GENERATE}`;
    }
    return null;
  }
  const template = templateReason(value);
  if (template)
    return kind === 'issued'
      ? `${template}; use the secret your identity provider issued`
      : `${template}; ${GENERATE}`;
  if (kind === 'text') {
    const bits = Math.round(estimatedBits(value));
    if (bits < MIN_TEXT_SECRET_BITS)
      return `is too predictable (about ${bits} bits, at least ${MIN_TEXT_SECRET_BITS} needed); ${GENERATE}`;
  }
  return null;
}

/** Why a value is a template value, or null. */
function templateReason(value: string): string | null {
  const lower = value.toLowerCase();
  const marker = PLACEHOLDER_MARKERS.find((m) => lower.includes(m));
  if (marker) return `is a placeholder (it contains "${marker}")`;
  if (KNOWN_VALUES.includes(lower)) return 'is a well-known default value';
  return null;
}

function urlPassword(url: string): string | null {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password || null;
  } catch {
    // Not a WHATWG URL: a Redis Cluster or Sentinel REDIS_URL lists several host:port pairs.
    try {
      const topology = parseRedisUrl(url);
      return (topology.kind !== 'single' && topology.password) || null;
    } catch {
      return null;
    }
  }
}

/** Length × Shannon entropy of the character distribution: low for repeats and dictionary-like text. */
function estimatedBits(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * value.length;
}
