import { AccessTokenClaims, Principal, principalFromClaims } from '@broker/contracts';

export * from '../../src';
// The verification kit the domain's tests check its writes against (revocations, issued tokens).
export * from '@broker/auth-kit';

/** The principal of verified claims (what the bus guard puts on a request). */
export function principalFromClaimsForTest(claims: AccessTokenClaims): Principal {
  return principalFromClaims(claims);
}
