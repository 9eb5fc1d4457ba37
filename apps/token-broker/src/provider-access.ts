import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { BrokerEventPublisher, BusClientProxy, BusRemoteError } from '@broker/bus';
import { AccessTokenIssuer } from '@broker/identity';
import type { ResolvedProvider } from '@broker/provider-adapters';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { ProviderCredentials } from '@broker/tokens';

const CACHE_MS = 10_000;
const INTERNAL_TTL_SECONDS = 300;

/**
 * Provider credentials from the registry over the bus. The token-broker authenticates with a
 * short-lived token it mints for itself (scope `providers:credentials`, the org of the call);
 * answers are cached briefly in memory (a status or secret change reaches refreshes within 10 s;
 * user actions such as authorize and callback always read afresh).
 */
@Injectable()
export class BusProviderAccess {
  private readonly cache = new Map<string, { value: ProviderCredentials | null; at: number }>();
  private readonly internalTokens = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly bus: BusClientProxy,
    private readonly issuer: AccessTokenIssuer,
  ) {}

  readonly access = async (orgId: string, providerId: string, options: { fresh?: boolean } = {}): Promise<ProviderCredentials | null> => {
    const key = `${orgId}\u0000${providerId}`;
    const hit = this.cache.get(key);
    if (hit && !options.fresh && Date.now() - hit.at < CACHE_MS) return hit.value;
    let value: ProviderCredentials | null;
    try {
      const reply = await this.bus.request('providers.credentials', { id: providerId }, { auth: await this.internalToken(orgId) });
      value = { provider: reply.provider, resolved: reply.resolved as unknown as ResolvedProvider, clientSecret: reply.clientSecret };
    } catch (err) {
      if (err instanceof BusRemoteError && err.code === 'NOT_FOUND') value = null;
      else throw err;
    }
    this.cache.set(key, { value, at: Date.now() });
    return value;
  };

  /** Forgets a provider (after a status or secret change is reported). */
  forget(orgId: string, providerId: string): void {
    this.cache.delete(`${orgId}\u0000${providerId}`);
  }

  private async internalToken(orgId: string): Promise<string> {
    const hit = this.internalTokens.get(orgId);
    if (hit && hit.until > Date.now()) return hit.token;
    const { token } = await this.issuer.issue({
      sub: 'service:token-broker',
      orgId,
      clientId: 'token-broker',
      scope: ['providers:credentials'],
      ttlSeconds: INTERNAL_TTL_SECONDS,
    });
    this.internalTokens.set(orgId, { token, until: Date.now() + (INTERNAL_TTL_SECONDS - 60) * 1000 });
    return token;
  }
}

/** The service's event publisher (closed on shutdown). */
@Injectable()
export class RedisEventPublisher extends BrokerEventPublisher implements OnApplicationShutdown {
  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    super(config.redisUrl, config.bus.prefix, `${config.service}:events`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
