import type { OAuthUser } from '@broker/contracts';
import { adapterFor, type ProviderTokenSet } from '@broker/provider-adapters';
import { AuthorizationEntity } from './authorization.entity';
import { AuthorizationsService } from './authorizations.service';
import { EventSink, ProviderCredentials } from '../ports';

/**
 * What every way of obtaining a user's tokens ends with (consent callback, device flow): the
 * provider's user fetched, the authorization created or replaced with the tokens encrypted (and its
 * refresh planned ahead of expiry, in the same write), and `authorization.created` published.
 */
export class AuthorizationLinker {
  constructor(
    private readonly authorizations: AuthorizationsService,
    private readonly fetchImpl: typeof fetch,
    private readonly publish: EventSink,
    private readonly providerTimeoutMs: number,
  ) {}

  async link(
    orgId: string,
    userId: string,
    providerId: string,
    credentials: ProviderCredentials,
    tokens: ProviderTokenSet,
  ): Promise<{ authorization: AuthorizationEntity; userInfo: OAuthUser }> {
    const client = {
      provider: credentials.resolved,
      clientId: credentials.provider.clientId,
      fetch: this.fetchImpl,
      timeoutMs: this.providerTimeoutMs,
    };
    const userInfo = await adapterFor(credentials.resolved)
      .userInfo(client, tokens.accessToken)
      .catch((): OAuthUser => ({}));
    const defaultScopes = credentials.provider.customScopes.length
      ? credentials.provider.customScopes
      : credentials.resolved.defaultScopes;
    const authorization = await this.authorizations.store(orgId, {
      providerId,
      userId,
      oauthClientId: credentials.provider.clientId,
      scopes: tokens.scope ? tokens.scope.split(/[\s,]+/).filter(Boolean) : defaultScopes,
      externalUser: userInfo as Record<string, unknown>,
      tokens: {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken ?? null,
        tokenType: tokens.tokenType,
        expiresAt: tokens.expiresAt ?? null,
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? null,
      },
    });
    void this.publish({
      type: 'authorization.created',
      orgId,
      authorizationId: authorization.id,
      providerId,
      userId,
      status: 'active',
      at: new Date().toISOString(),
    });
    return { authorization, userInfo };
  }
}
