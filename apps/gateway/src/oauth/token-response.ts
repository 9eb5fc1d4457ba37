import type { TokenResponse } from '@broker/contracts';

/**
 * Seed 003's TokenResponse as its framework sends it: every field present, in the schema's order,
 * `refresh_token`, `scope` and `id_token` null when there is none. For principal-token and
 * delegated-token (seed-only endpoints: no refresh token, no ID token).
 */
export type SeedTokenResponse = Omit<TokenResponse, 'refresh_token' | 'id_token' | 'scope'> & {
  refresh_token: string | null;
  scope: string | null;
  id_token: string | null;
};

export function toSeedTokenResponse(t: TokenResponse): SeedTokenResponse {
  return {
    access_token: t.access_token,
    token_type: t.token_type,
    expires_in: t.expires_in,
    refresh_token: t.refresh_token ?? null,
    scope: t.scope || null,
    id_token: t.id_token ?? null,
  };
}

/**
 * The token endpoint's answer (RFC 6749 §5.1) in the seed's field order. An absent refresh or ID
 * token is left out, not null: standard OAuth clients (oauth4webapi / openid-client among them)
 * refuse a token response whose `refresh_token`, `scope` or `id_token` is not a string, and this
 * endpoint is the one every OAuth client talks to (docs/reference-differences.md).
 */
export function toTokenEndpointResponse(t: TokenResponse): TokenResponse {
  return {
    access_token: t.access_token,
    token_type: t.token_type,
    expires_in: t.expires_in,
    ...(t.refresh_token ? { refresh_token: t.refresh_token } : {}),
    scope: t.scope,
    ...(t.id_token ? { id_token: t.id_token } : {}),
  };
}
