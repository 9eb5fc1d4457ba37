import { AccessTokenClaims, Principal, principalFromClaims } from '@broker/contracts';

export * from '../../src';

/** The principal of verified claims (what the bus guard puts on a request). */
export function principalFromClaimsForTest(claims: AccessTokenClaims): Principal {
  return principalFromClaims(claims);
}
