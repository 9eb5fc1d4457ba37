import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BusClientProxy, BusRemoteError, closeConnection, createRedisConnection } from '@broker/bus';
import { verifyEvent } from '@broker/bus-protocol';
import { brokerEventsChannel } from '@broker/contracts';
import { AccessTokenIssuer } from '@broker/identity';
import type { ResolvedProvider } from '@broker/provider-adapters';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { ProviderCredentials, TokenPath } from '@broker/tokens';

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

/**
 * Listens to the broker's events (from every replica and the worker) and drops what this
 * replica's token path remembers of the authorization concerned. Only events signed with the
 * broker's events key count: anything else published on the channel is ignored (and counted).
 * When the subscription is interrupted, events may have been missed: everything remembered is dropped.
 */
@Injectable()
export class TokenMemoryInvalidator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenMemory');
  private readonly redis: ReturnType<typeof createRedisConnection>;
  /** Messages on the events channel that were not genuine broker events. */
  rejected = 0;

  constructor(
    private readonly tokens: TokenPath,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    this.redis = createRedisConnection(config.redisUrl, `${config.service}:events-in`, {});
  }

  async onApplicationBootstrap(): Promise<void> {
    const keys = this.config.bus.eventsPublicKeys;
    if (!keys) throw new Error('EVENTS_PUBLIC_KEYS is required to act on broker events');
    this.redis.on('message', (_channel: string, message: string) => {
      const checked = verifyEvent(keys, message);
      if (checked.ok) this.tokens.forget(checked.event.authorizationId);
      else if (this.rejected++ % 1000 === 0) this.logger.warn(`ignored a message on the events channel that is not a genuine broker event (${checked.reason}); ${this.rejected} so far`);
    });
    this.redis.on('ready', () => this.tokens.forgetAll());
    this.redis.on('close', () => this.tokens.forgetAll());
    await this.redis.subscribe(brokerEventsChannel(this.config.bus.prefix));
    this.logger.log('listening to broker events');
  }

  async onApplicationShutdown(): Promise<void> {
    await closeConnection(this.redis);
  }
}
