import type { TokenRequest } from '@broker/contracts';

const TOKEN_FIELDS = ['grant_type', 'client_id', 'client_secret', 'code', 'code_verifier', 'redirect_uri', 'refresh_token', 'scope', 'tz', 'token', 'token_type_hint', 'resource'] as const;

/** A string field of an untrusted payload, or undefined (PostgreSQL cannot store NUL: such a value counts as absent). */
export function textField(raw: unknown, name: string): string | undefined {
  const value = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && !value.includes('\u0000') ? value : undefined;
}

/**
 * The token, revocation or introspection request in a bus payload, keeping only string fields (the
 * gateway validated them already; another bus caller may send anything).
 */
export function tokenRequestFrom(raw: unknown): TokenRequest & { token?: string; token_type_hint?: string } {
  const out: Record<string, unknown> = {};
  for (const field of TOKEN_FIELDS) {
    const value = textField(raw, field);
    if (value !== undefined) out[field] = value;
  }
  const basic = raw && typeof raw === 'object' ? (raw as { basic?: unknown }).basic : undefined;
  const clientId = textField(basic, 'clientId');
  const clientSecret = textField(basic, 'clientSecret');
  if (clientId !== undefined && clientSecret !== undefined) out['basic'] = { clientId, clientSecret };
  return out as TokenRequest & { token?: string; token_type_hint?: string };
}
