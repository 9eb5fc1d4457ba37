/**
 * Scopes of the broker's own access tokens; each gateway route and bus pattern names the one it needs.
 * `identity:admin`: disable, delete and revoke the org's clients and users (the admin API).
 */
export const SCOPES = [
  'providers:read',
  'providers:write',
  'authorizations:read',
  'authorizations:write',
  'tokens:read',
  'tokens:delegate',
  'jobs:read',
  'jobs:write',
  'setups:read',
  'setups:write',
  'webhooks:read',
  'webhooks:write',
  'identity:admin',
] as const;
/**
 * Scopes only the broker's own services hold (tokens it mints for itself); never granted to a
 * client. `providers:credentials` reads a provider's client secret (token-broker → registry);
 * `setups:finish` records how a hosted OAuth setup's consent ended (token-broker → registry).
 */
export const INTERNAL_SCOPES = ['providers:credentials', 'setups:finish'] as const;
/**
 * Operator scopes (docs/queue-dashboard.md): the queue dashboard shows every org's jobs, so these
 * are not an org's to grant. Only the admin CLI gives them, only to clients of the operator org
 * (`OPERATOR_ORG_ID`), and the gateway checks that org again on every dashboard request. Kept out
 * of SCOPES, so every self-service path (URL-identified clients, users' scopes, delegated tokens)
 * refuses them. `queues:dashboard` reads the queues; `queues:operate` also runs actions.
 */
export const OPERATOR_SCOPES = ['queues:dashboard', 'queues:operate'] as const;
export type OperatorScope = (typeof OPERATOR_SCOPES)[number];
export type Scope = (typeof SCOPES)[number] | (typeof INTERNAL_SCOPES)[number] | OperatorScope;

/** Grant types of the broker's token endpoint. */
export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** Claims of an access token issued by the broker (a JWT). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  scope: string;
  org_id: string;
  client_id: string;
  /** Present on delegated tokens: who acts for the subject. */
  act?: { sub: string; client_id: string };
  /** IANA time zone of the principal, when known. */
  zoneinfo?: string;
  /** The sign-in session (refresh-token family) the token comes from: revoking the family revokes it. */
  sid?: string;
}

/** Who is calling, as established from a verified access token (never from a request field). */
export interface Principal {
  sub: string;
  orgId: string;
  clientId: string;
  scopes: string[];
  act?: AccessTokenClaims['act'];
  /** The sign-in session the token belongs to (tokens renewed or delegated from it keep it). */
  sid?: string;
}

/** The principal an access token's verified claims stand for. */
export function principalFromClaims(claims: AccessTokenClaims): Principal {
  const principal: Principal = {
    sub: claims.sub,
    orgId: claims.org_id,
    clientId: claims.client_id,
    scopes: claims.scope.split(' ').filter(Boolean),
  };
  if (claims.act) principal.act = claims.act;
  if (typeof claims.sid === 'string') principal.sid = claims.sid;
  return principal;
}
