/**
 * Revocation of the broker's own access tokens. Every verifier (gateway, services) holds the list
 * of live revocations and refuses a token that one of them matches; the token-broker keeps the list
 * in PostgreSQL and serves it on the bus (`identity.revocations`).
 *
 * Entries are keyed by a hash of what they revoke (a client, a subject, a refresh-token family, one
 * token), so the list itself names no client, user or token.
 */
export const REVOCATION_KINDS = ['client', 'subject', 'session', 'token'] as const;
export type RevocationKind = (typeof REVOCATION_KINDS)[number];

export interface RevocationEntry {
  /** `revocationKey(kind, orgId, value)`: what is revoked, hashed. */
  h: string;
  /** Epoch seconds: tokens issued before this are refused; absent = every token it names. */
  nb?: number;
  /** Epoch seconds after which no token the entry could stop is still alive (the entry can go). */
  exp: number;
}

/** The list as one token-broker replica read it from PostgreSQL. */
export interface RevocationSnapshot {
  /** Changes whenever the list does (a digest of the entries). */
  version: string;
  /** How old the token-broker's own read of the table was when it answered (ms). */
  ageMs: number;
  /** Absent when the caller's `version` is current. */
  entries?: RevocationEntry[];
}

/** Redis pub/sub channel where the token-broker announces that the list changed (no content: verifiers then ask). */
export function revocationsChannel(prefix: string): string {
  return `${prefix}:identity:revocations`;
}

/** RFC 7009 `POST /api/v1/oauth/revoke`, as the gateway received it (client auth as for the token endpoint). */
export interface TokenRevocationRequest {
  token?: string;
  token_type_hint?: string;
  client_id?: string;
  client_secret?: string;
  basic?: { clientId: string; clientSecret: string };
}

/** RFC 7662 `POST /api/v1/oauth/introspect`. */
export type TokenIntrospectionRequest = TokenRevocationRequest;

/** RFC 7662 §2.2 answer; only `active` when the token is not active (or not the caller's to see). */
export interface TokenIntrospection {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  exp?: number;
  iat?: number;
  iss?: string;
  aud?: string;
  jti?: string;
  token_type?: string;
  org_id?: string;
  act?: { sub: string; client_id: string };
}

/** What the revocation and introspection handlers answer: a result, or an RFC 6749 error with its status. */
export type RevocationResult =
  | { ok: true }
  | { ok: false; error: { error: string; error_description: string; status: number } };
export type IntrospectionResult =
  | { ok: true; introspection: TokenIntrospection }
  | { ok: false; error: { error: string; error_description: string; status: number } };

/** The operator's actions on a client or a user of their own org (admin API, scope `identity:admin`). */
export type AdminAction = 'disable' | 'enable' | 'delete';

/** `POST /api/v1/oauth/admin/revoke`: exactly one of them. */
export interface AdminRevokeRequest {
  client_id?: string;
  sub?: string;
  token?: string;
}

export interface AdminRevokeResult {
  /** What was revoked: `client`, `subject` or `token`. */
  revoked: 'client' | 'subject' | 'token';
}
