import type { Principal } from '@broker/contracts';

/** What bearer authentication puts on `request.user`: the verified principal and the token to forward on the bus. */
export interface AuthenticatedCaller {
  principal: Principal;
  token: string;
}
