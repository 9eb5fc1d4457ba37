import type { TokenResponse } from '@broker/contracts';

/**
 * Seed 003's TokenResponse as its framework sends it: every field present, in the schema's order,
 * `refresh_token`, `scope` and `id_token` null when the grant gave none (a client_credentials token
 * has no refresh token; only an `openid` code flow has an ID token).
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
