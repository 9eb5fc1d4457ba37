/** What codes and refresh tokens carry, and their rows in `identity.authorization_codes` / `identity.refresh_tokens`. */

/** What an authorization code or refresh token grants: whose tokens, for which client, with what scope. */
export interface GrantSubject {
  orgId: string;
  clientId: string;
  sub: string;
  scope: string[];
  zoneinfo?: string | null;
  /** OIDC nonce of the authorization request (codes only; echoed in the ID token). */
  nonce?: string | null;
  /** The refresh-token family (sign-in session) the grant belongs to, once there is one. */
  familyId?: string;
  /** RFC 8707: the resource the grant's access tokens are bound to; null/absent: the broker's API. */
  resource?: string | null;
}

/** A redeemed code or rotated refresh token: the grant (with the scope to issue now) and the next refresh token. */
export interface RenewedGrant {
  grant: GrantSubject & { familyId: string };
  refreshToken: string;
}

export interface NewCode extends GrantSubject {
  redirectUri: string;
  /** PKCE S256 challenge: BASE64URL(SHA-256(verifier)). */
  codeChallenge: string;
}

export interface GrantPolicy {
  codeTtlMs: number;
  refreshTtlMs: number;
}

export const DEFAULT_GRANT_POLICY: GrantPolicy = { codeTtlMs: 60_000, refreshTtlMs: 30 * 86_400_000 };

export interface CodeRow {
  org_id: string;
  client_id: string;
  sub: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string[];
  zoneinfo: string | null;
  nonce: string | null;
  family_id: string | null;
  expires_at: Date;
  resource: string | null;
}

export interface RefreshRow {
  token_hash: string;
  family_id: string;
  org_id: string;
  client_id: string;
  sub: string;
  scope: string[];
  zoneinfo: string | null;
  generation: number;
  resource: string | null;
}
