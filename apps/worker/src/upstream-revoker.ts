import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { GuardedFetch, createGuardedFetch, revokeToken } from '@broker/provider-adapters';
import { ProviderEntity, SecureConfigsService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AuthorizationEntity, AuthorizationsService } from '@broker/tokens';

/**
 * Best-effort revocation of an authorization's tokens at its provider (refresh token first: it
 * ends the grant). Never throws: a provider that is down, slow or without revocation must not
 * block the removal, which happens whatever it answers.
 */
@Injectable()
export class UpstreamRevoker implements OnApplicationShutdown {
  private readonly logger = new Logger('UpstreamRevoker');
  private readonly fetch: GuardedFetch;

  constructor(
    private readonly secrets: SecureConfigsService,
    private readonly authorizations: AuthorizationsService,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
  ) {
    this.fetch = createGuardedFetch(config.egress);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.fetch.close();
  }

  async revokeBestEffort(provider: ProviderEntity, authorization: AuthorizationEntity): Promise<boolean> {
    try {
      const tokens = await this.authorizations.tokens(authorization.orgId, authorization.id);
      if (!tokens || !provider.secureConfigId) return false;
      const clientSecret = await this.secrets.reveal(provider.orgId, provider.secureConfigId);
      if (clientSecret === null) return false;
      const token = tokens.refreshToken ?? tokens.accessToken;
      const outcome = await revokeToken({
        provider: provider.resolved,
        clientId: provider.clientId,
        clientSecret,
        token,
        tokenTypeHint: tokens.refreshToken ? 'refresh_token' : 'access_token',
        fetch: this.fetch,
      });
      if (!outcome.revoked && !outcome.unsupported) this.logger.warn(`revocation of authorization ${authorization.id} failed: ${outcome.error ?? 'unknown'}`);
      return outcome.revoked;
    } catch (err) {
      this.logger.warn(`revocation of authorization ${authorization.id} failed: ${(err as Error).message}`);
      return false;
    }
  }
}
