import type { AuthorizationStatus } from '@broker/contracts';
import { TokensError } from '../tokens-error';
import type { ProviderAccess } from '../ports';

/** The token operations' answer while the provider is not active (403 on REST, FORBIDDEN on the bus). */
export function providerBlocked(status: string): TokensError {
  const why = status === 'invalid' ? 'marked invalid' : status === 'deleting' ? 'being deleted' : status;
  return new TokensError(
    'FORBIDDEN',
    `The provider is ${why}: its tokens are not served until it is active again.`,
    [{ name: 'providerStatus', message: status }],
  );
}

/** The answer for an authorization that is no longer active (the user must consent again). */
export function gone(status: AuthorizationStatus): TokensError {
  const why: Record<AuthorizationStatus, string> = {
    active: 'the authorization is active',
    expired: 'the authorization has expired: the user must authorize the provider again',
    invalidOAuthClient:
      "the provider refused the org's OAuth app credentials: fix the provider, then authorize again",
    invalidProviderState: 'the provider is not active',
  };
  return new TokensError('GONE', why[status], [{ name: 'status', message: status }]);
}

/** The provider of an authorization was deleted under it. */
export function providerMissing(): TokensError {
  return new TokensError('NOT_FOUND', 'the provider of this authorization no longer exists');
}

/** No authorization by that id (or not the caller's). */
export function authorizationMissing(): TokensError {
  return new TokensError('NOT_FOUND', 'authorization not found');
}

/**
 * A provider that is not `active` (an admin marked it `invalid`, or it is being deleted) serves
 * none of its stored tokens: FORBIDDEN, checked on every path before a token leaves (the hot
 * path included). The authorization itself is left as it is, so re-activating the provider
 * serves its tokens again without a new consent. The provider's status comes from the
 * ProviderAccess port (cached briefly in the token-broker, dropped at once on a provider change).
 */
export async function requireActiveProvider(
  providers: ProviderAccess,
  orgId: string,
  providerId: string,
): Promise<void> {
  const credentials = await providers(orgId, providerId);
  if (!credentials) throw providerMissing();
  if (credentials.provider.status !== 'active') throw providerBlocked(credentials.provider.status);
}
