/** A request to the broker's token endpoint (seed 003 `/api/v1/oauth/token`), as the gateway received it. */
export interface TokenRequest {
  grant_type?: string;
  client_id?: string;
  client_secret?: string;
  code?: string;
  code_verifier?: string;
  redirect_uri?: string;
  refresh_token?: string;
  scope?: string;
  tz?: string;
  /** Decoded `Authorization: Basic` credentials. */
  basic?: { clientId: string; clientSecret: string };
}

/** Seed 003 `TokenResponse`. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** An RFC 6749 §5.2 error with the HTTP status it is answered with. */
export interface OAuthErrorResponse {
  error: string;
  error_description: string;
  status: number;
}

/** What the token endpoint's handler answers: a token, or an OAuth error (not a transport failure). */
export type TokenResult = { ok: true; token: TokenResponse } | { ok: false; error: OAuthErrorResponse };

export interface JsonWebKeySet {
  keys: Record<string, unknown>[];
}

/** Seed 003 `UserInfoResponse`. */
export interface UserInfoResponse {
  sub: string;
  given_name: string | null;
  family_name: string | null;
  email: string | null;
  registered_at: string;
  name: string;
}

/** Seed 003 `DelegatedTokenRequest`. */
export interface DelegatedTokenRequest {
  sub: string;
  scopes?: string[] | null;
  team_id?: string | null;
}
