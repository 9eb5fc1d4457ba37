import type { MetadataDocumentClientInfo } from './client-metadata-documents';
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
  /** RFC 8707: the resource server the access token is for (default: the broker's API). */
  resource?: string;
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

/** The query of `GET /api/v1/oauth/authorize` as the browser sent it (every field unchecked). */
export interface AuthorizeRequest {
  response_type?: string;
  client_id?: string;
  redirect_uri?: string;
  scope?: string;
  state?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  nonce?: string;
  /** RFC 8707: the resource server the tokens are for (e.g. an MCP server); default: the broker's API. */
  resource?: string;
  /** Names of parameters the query held more than once (each must appear at most once). */
  duplicated?: string[];
}

/**
 * The identity service's answer to an authorization request. An error carries `redirectUri` only
 * when the client and redirect URI were verified, so the error may be sent there (RFC 6749
 * §4.1.2.1); without it the browser must not be redirected.
 */
export type AuthorizeResult =
  | {
      ok: true;
      clientName: string;
      /** Set for a client identified by URL: the person must see and confirm it first. */ metadataDocument?: MetadataDocumentClientInfo;
    }
  | { ok: false; error: string; error_description: string; redirectUri?: string };

/** Completes a sign-in: the original request and the upstream identity provider's access token. */
export interface CompleteAuthorizationRequest {
  authorization: AuthorizeRequest;
  /** Proves who signed in: the identity service reads the user from the upstream userinfo endpoint. */
  upstreamAccessToken: string;
}

export type CompleteAuthorizationResult =
  | { ok: true; redirectUri: string; code: string }
  | { ok: false; error: string; error_description: string; redirectUri?: string };
