import type { LedgerPath, Principal } from '@broker/contracts';
import type { Consumer } from '@broker/tokens';

const isServiceAccount = (p: Principal) => p.sub === p.clientId && !p.act;

/**
 * The consumer a verified caller stands for: its client's policy applies; a person's token (their
 * own, or delegated to act for them) acts for that person, a service account for nobody.
 */
export function consumerOf(p: Principal, path: LedgerPath): Consumer {
  return {
    orgId: p.orgId,
    clientId: p.clientId,
    ...(isServiceAccount(p) ? {} : { actingFor: p.sub }),
    ...(p.act ? { actor: { sub: p.act.sub, client_id: p.act.client_id } } : {}),
    path,
  };
}

/** A person (or a token acting for one) may only use their own authorizations; a service account any of its org's. */
export function ownerOf(p: Principal): string | undefined {
  return isServiceAccount(p) ? undefined : p.sub;
}
