export * from './lib/adapter';
export { adapterFor } from './lib/adapters';
export * from './lib/catalogue';
export * from './lib/egress';
export * from './lib/errors';
export * from './lib/oidc-discovery';
export * from './lib/resolve';
export * from './lib/revocation';
export * from './lib/oauth-calls';
