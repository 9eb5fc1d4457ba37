import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { GuardedFetch, sharedEgress } from '@broker/egress';
import { ProviderEntity, SecureConfigsService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { RevocableToken, revokeUpstream } from '@broker/tokens';

/** Revokes tokens of one provider; resolves true when the provider confirmed. Never rejects. */
export type ProviderRevoker = (token: RevocableToken, authorizationId: string) => Promise<boolean>;

/**
 * Best-effort revocation of a provider's authorizations at the provider (for its deletion): the
 * registry's client secret revealed once per provider, each token revoked through `revokeUpstream`
 * (the tokens domain's one revocation path, the same an unlink takes). Never throws: a provider
 * that is down, slow (5 s per call) or without revocation must not block the removal, which
 * happens whatever it answers.
 */
@Injectable()
export class UpstreamRevoker implements OnApplicationShutdown {
  private readonly logger = new Logger('UpstreamRevoker');
  private readonly fetch: GuardedFetch;

  constructor(
    private readonly secrets: SecureConfigsService,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
  ) {
    this.fetch = sharedEgress(config.egress).fetch();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.fetch.close();
  }

  /** A revoker for this provider's tokens, its client secret revealed once (null: it has none, nothing can be revoked). */
  async forProvider(provider: ProviderEntity): Promise<ProviderRevoker | null> {
    if (!provider.secureConfigId) return null;
    const clientSecret = await this.secrets.reveal(provider.orgId, provider.secureConfigId).catch(() => null);
    if (clientSecret === null) return null;
    const client = { resolved: provider.resolved, clientId: provider.clientId, clientSecret };
    return async (token, authorizationId) => {
      const outcome = await revokeUpstream(client, token, this.fetch);
      if (!outcome.revoked && !outcome.unsupported)
        this.logger.warn(
          `revocation of authorization ${authorizationId} failed: ${outcome.error ?? 'unknown'}`,
        );
      return outcome.revoked;
    };
  }
}
