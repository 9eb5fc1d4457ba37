// The verification kit: what every app needs to CHECK one of the broker's bearer tokens (signature
// against the published JWKS, issuer, audience, expiry, revocation list, scopes) and nothing that
// issues, grants or writes identities: that is the identity domain (@broker/identity).
export * from './lib/access-token-verifier';
export * from './lib/signing-alg';
export * from './lib/service-accounts';
export * from './lib/well-known-scopes';
export * from './lib/authorization/bus-auth.guard';
export * from './lib/authorization/published-keys';
export * from './lib/authorization/require-scopes.decorator';
export * from './lib/authorization/token-verification.module';
export * from './lib/revocation/published-revocations';
export * from './lib/revocation/revocation-channel';
export * from './lib/revocation/revocation-lifecycle';
export * from './lib/revocation/revocation-list';
