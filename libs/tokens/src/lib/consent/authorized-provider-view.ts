import type { AuthorizedProvider, OAuthProvider } from '@broker/contracts';
import { AuthorizationEntity } from '../authorizations/authorization.entity';

/**
 * Seed 000 `models.AuthorizedProvider`. While its provider is not active the authorization reads
 * `invalidProviderState` (derived, never stored: it is back as it was once the provider is).
 */
export function toAuthorizedProvider(a: AuthorizationEntity, provider: OAuthProvider): AuthorizedProvider {
  return {
    id: a.id,
    orgId: a.orgId,
    userId: a.userId,
    oauthClientId: a.oauthClientId,
    credentialId: a.credentialId ?? '',
    status: provider.status === 'active' ? a.status : 'invalidProviderState',
    provider,
    refreshTokenExpiresAt: a.refreshTokenExpiresAt ? a.refreshTokenExpiresAt.toISOString() : null,
    createdAt: a.createdAt.toISOString(),
  };
}
