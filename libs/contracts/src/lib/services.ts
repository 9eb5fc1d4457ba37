/** The four deployable services; each one that answers bus requests owns a request queue. */
export const SERVICE_NAMES = ['gateway', 'provider-registry', 'token-broker', 'worker'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
