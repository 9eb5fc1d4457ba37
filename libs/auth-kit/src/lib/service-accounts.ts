import type { Principal } from '@broker/contracts';

/** A service account: a client acting as itself (client_credentials), not a person or a delegation. */
export function isServiceAccount(p: Principal): boolean {
  return p.sub === p.clientId && !p.act;
}
