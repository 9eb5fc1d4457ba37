// Who talks to whom: the bus callees and the event publishers and subscribers of each service,
// which decide the keys a service must be given.
import type { ServiceName } from '@broker/contracts';

/** Whom each service calls on the bus (it needs their public keys in BUS_SERVICE_PUBLIC_KEYS). */
export const BUS_CALLEES: Record<ServiceName, ServiceName[]> = {
  gateway: ['provider-registry', 'token-broker'],
  'provider-registry': ['token-broker'],
  'token-broker': ['provider-registry'],
  worker: [],
};
/**
 * Services that publish broker events, each signing with its own EVENTS_SIGNING_KEY: the
 * token-broker and the worker (authorization events), the provider-registry (provider changes).
 */
export const EVENT_PUBLISHERS: readonly ServiceName[] = ['token-broker', 'worker', 'provider-registry'];
/**
 * Services that act on broker events (they need EVENTS_PUBLIC_KEYS, every publisher's public key):
 * the token-broker (its token and provider memory), the worker (webhook deliveries).
 */
export const EVENT_SUBSCRIBERS: readonly ServiceName[] = ['token-broker', 'worker'];
