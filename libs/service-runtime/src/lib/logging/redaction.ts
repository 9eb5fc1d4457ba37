/** Keys whose values are secrets wherever they appear in a logged object. */
const SECRET_KEY =
  /token|secret|password|passwd|authorization|cookie|^code$|code_?verifier|assertion|private_?key|api_?key|^state$/i;
/** Query parameters whose values are secrets when a URL is logged. */
const SECRET_PARAM = /token|secret|password|^code$|code_?verifier|assertion|^state$|key/i;
export const REDACTED = '[redacted]';

/** A copy of `value` with the values of secret-looking keys replaced; only plain objects and arrays are walked. */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1)) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) && v !== undefined && v !== null ? REDACTED : redactSecrets(v, depth + 1);
  }
  return out as T;
}

/** The URL with the values of secret query parameters replaced (codes, tokens, states...). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_PARAM.test(key)) params.set(key, REDACTED);
  return `${url.slice(0, q)}?${params.toString()}`;
}
