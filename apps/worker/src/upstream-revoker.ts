import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { GuardedFetch, sharedEgress } from '@broker/egress';
import { RevocationOutcome, adapterFor } from '@broker/provider-adapters';
import { ProviderEntity, SecureConfigsService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import type { RemovalCandidate } from '@broker/tokens';

/** How long one revocation call may take (a provider that is down must not hold the removal up). */
const REVOKE_TIMEOUT_MS = 5_000;

/** Revokes tokens of one provider; resolves true when the provider confirmed. Never rejects. */
export type ProviderRevoker = (
  token: NonNullable<RemovalCandidate['token']>,
  authorizationId: string,
) => Promise<boolean>;

/**
 * Best-effort revocation of authorizations' tokens at their provider (refresh token first: it
 * ends the grant). Never throws: a provider that is down, slow (5 s per call) or without
 * revocation must not block the removal, which happens whatever it answers.
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
    return async (token, authorizationId) => {
      const client = {
        provider: provider.resolved,
        clientId: provider.clientId,
        clientSecret,
        fetch: this.fetch,
        timeoutMs: REVOKE_TIMEOUT_MS,
      };
      // Adapters never throw from revoke; the catch keeps this revoker's own promise (never rejects) whatever a new one does.
      const outcome: RevocationOutcome = await adapterFor(provider.resolved)
        .revoke(client, { value: token.value, hint: token.hint })
        .catch(() => ({ revoked: false, error: 'revocation failed' }));
      if (!outcome.revoked && !outcome.unsupported)
        this.logger.warn(
          `revocation of authorization ${authorizationId} failed: ${outcome.error ?? 'unknown'}`,
        );
      return outcome.revoked;
    };
  }
}
