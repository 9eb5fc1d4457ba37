import { Processor } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { JobPayload } from '@broker/contracts';
import type { ResolvedProvider } from '@broker/provider-adapters';
import { ProvidersService, SecureConfigsService, toOAuthProvider } from '@broker/registry';
import { ProviderCredentials, TokenPath, TokensError } from '@broker/tokens';

/** Refresh-ahead needs at least this much life left after refreshing to be worth it. */
const AHEAD_MIN_VALIDITY_SECONDS = 5;

/**
 * REFRESH_AUTHORIZATION: refreshes an authorization's token before it expires, through the same
 * single-flight path as callers (so it never races them), and the next refresh is scheduled by the
 * write. Only when the token row says a refresh is due: a job that comes early (forged into Redis,
 * or a stale duplicate) does nothing. A dead authorization ends the chain; a transient failure is
 * retried with backoff.
 */
@Injectable()
@Processor('token-refresh', processorOptions('token-refresh'))
export class TokenRefreshProcessor extends QueueProcessor<'token-refresh'> {
  private readonly logger = new Logger('TokenRefresh');
  protected readonly queue = 'token-refresh' as const;
  protected readonly handlers: JobHandlers<'token-refresh'> = { REFRESH_AUTHORIZATION: (payload) => this.refresh(payload) };

  constructor(private readonly tokens: TokenPath) {
    super();
  }

  private async refresh({ orgId, authorizationId }: JobPayload<'token-refresh', 'REFRESH_AUTHORIZATION'>): Promise<void> {
    try {
      const served = await this.tokens.refreshAhead(orgId, authorizationId, AHEAD_MIN_VALIDITY_SECONDS);
      if (!served) this.logger.log(`authorization ${authorizationId}: no refresh due yet; job ignored`);
    } catch (err) {
      // Dead, gone, or blocked by its provider's status (the next acquire after a re-activation refreshes and schedules again).
      if (err instanceof TokensError && (err.code === 'GONE' || err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN')) {
        this.logger.log(`authorization ${authorizationId} is not refreshable now (${err.code})`);
        return;
      }
      throw err;
    }
  }
}

/** Provider credentials for the worker's refreshes, straight from the registry domain lib. */
export function registryProviderAccess(providers: ProvidersService, secrets: SecureConfigsService) {
  return async (orgId: string, providerId: string): Promise<ProviderCredentials | null> => {
    const provider = await providers.find(orgId, providerId);
    if (!provider?.secureConfigId) return null;
    const clientSecret = await secrets.reveal(orgId, provider.secureConfigId);
    if (clientSecret === null) return null;
    return { provider: toOAuthProvider(provider), resolved: provider.resolved as ResolvedProvider, clientSecret, ...(provider.githubApp ? { githubApp: provider.githubApp } : {}) };
  };
}
