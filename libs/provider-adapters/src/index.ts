export * from './lib/adapter';
export { adapterFor } from './lib/adapters';
export * from './lib/catalogue';
// The egress guard lives in @broker/egress; its names stay available here for code written before the move.
export {
  DEFAULT_EGRESS_POLICY,
  EgressDeniedError,
  checkUrlStatic,
  createGuardedFetch,
  forbiddenAddressReason,
  redactUrl,
  type EgressPolicy,
  type GuardedFetch,
  type GuardedFetchOptions,
  type ResolvedAddress,
} from '@broker/egress';
export * from './lib/errors';
export * from './lib/oidc-discovery';
export * from './lib/resolve';
export { ProviderCallError, classify, normalizeUser } from './lib/provider-call';
export type { ProviderClient, ProviderTokenSet } from './lib/provider-call';
export * from './lib/refresh-token-idle';
