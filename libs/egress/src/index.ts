// The SSRF egress guard: where outbound calls to addresses named by users (providers, webhook
// targets, metadata documents) may go, and a fetch that checks every connection it opens.
export * from './lib/egress';
export { isIpLiteral } from './lib/ip-address';
