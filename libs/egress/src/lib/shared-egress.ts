import { createEgress, type Egress } from './guarded-fetch';
import type { EgressPolicy } from './policy';

/*
 * One egress pool per process: config is validated once at boot, so every module of a process holds
 * the same policy object, and each asks for its fetch here with its own limits (provider calls,
 * webhooks, discovery, client metadata documents). The pools share nothing across processes.
 * Keyed weakly by the policy object, so a test that builds a new config gets a new pool.
 */
const pools = new WeakMap<EgressPolicy, Egress>();

/**
 * The process's pool for this policy, created on first use. Nobody closes it: its idle sockets do
 * not hold the process open (undici unrefs them), and a view's `close()` leaves it alone.
 */
export function sharedEgress(policy: EgressPolicy): Egress {
  let egress = pools.get(policy);
  if (!egress) {
    egress = createEgress(policy);
    pools.set(policy, egress);
  }
  return egress;
}
