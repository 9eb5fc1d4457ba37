// The SSRF egress guard: where outbound calls to addresses named by users (providers, webhook
// targets, metadata documents) may go, and a fetch that checks every connection it opens.
export * from './lib/policy';
export * from './lib/guarded-fetch';
export { sharedEgress } from './lib/shared-egress';
export type { ResolvedAddress } from './lib/vetting-lookup';
export { forbiddenAddressReason, isIpLiteral } from './lib/ip-address';
