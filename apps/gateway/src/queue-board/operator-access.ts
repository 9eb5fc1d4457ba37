import type { AccessTokenClaims } from '@broker/contracts';
import { AccessTokenVerifier, InvalidAccessTokenError } from '@broker/auth-kit';

/** What an operator's verified token allows on the dashboard. */
export interface OperatorAccess {
  claims: AccessTokenClaims;
  /** The token holds `queues:operate` (actions still need QUEUE_DASHBOARD=operate). */
  mayOperate: boolean;
}

/** Why a token does not open the dashboard (shown on the login page; says nothing of the token). */
export type Refusal = 'invalid-token' | 'not-operator';

/**
 * Checks a token exactly as the API does (signature, issuer, audience, expiry, the revocation list:
 * AccessTokenVerifier) and then the operator right: the `queues:dashboard` scope on a token of the
 * operator org. An org's `identity:admin` is not enough: the queues hold every org's jobs.
 * RevocationStateUnavailableError (the list cannot be read) is left to the caller: it fails closed.
 */
export async function operatorAccess(
  verifier: AccessTokenVerifier,
  operatorOrgId: string,
  token: string,
): Promise<OperatorAccess | Refusal> {
  let claims: AccessTokenClaims;
  try {
    claims = await verifier.verify(token);
  } catch (err) {
    if (err instanceof InvalidAccessTokenError) return 'invalid-token';
    throw err;
  }
  const scopes = claims.scope.split(' ');
  if (claims.org_id !== operatorOrgId || !scopes.includes('queues:dashboard')) return 'not-operator';
  return { claims, mayOperate: scopes.includes('queues:operate') };
}
