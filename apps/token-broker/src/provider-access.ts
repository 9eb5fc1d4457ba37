import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BusClientProxy, BusRemoteError, closeConnection, createRedisConnection } from '@broker/bus';
import { verifyEvent } from '@broker/bus-protocol';
import { OAuthProvider, brokerEventsChannel } from '@broker/contracts';
import { AccessTokenIssuer, TokenGrantsService } from '@broker/identity';
import type { ResolvedProvider } from '@broker/provider-adapters';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { ProviderCredentials, TokenPath } from '@broker/tokens';
import { ProviderMemo } from './provider-memo';

const INTERNAL_TTL_SECONDS = 300;

/**
 * Provider credentials from the registry over the bus. The token-broker authenticates with a
 * short-lived token it mints for itself (scopes `providers:credentials` and `providers:read`, the
 * org of the call). Answers are cached briefly in memory and dropped at once when the registry
 * announces a change of the provider (`provider.changed`), so a provider marked invalid stops
 * serving tokens within moments (within 10 s should the notice be lost); user actions such as
 * authorize and callback always read afresh. Concurrent misses share one request, and a read that
 * was in flight when a change was announced is not cached (`ProviderMemo`).
 *
 * What is only displayed (the provider fields of a token answer, the authorized-providers list)
 * comes from `summary`: the registry's plain provider answer (`providers.get`), which never
 * decrypts the client secret.
 */
@Injectable()
export class BusProviderAccess {
  private readonly credentials = new ProviderMemo((orgId, providerId) => this.read(orgId, providerId));
  private readonly summaries = new ProviderMemo((orgId, providerId) => this.readSummary(orgId, providerId));
  private readonly internalTokens = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly bus: BusClientProxy,
    private readonly issuer: AccessTokenIssuer,
  ) {}

  readonly access = (
    orgId: string,
    providerId: string,
    options: { fresh?: boolean } = {},
  ): Promise<ProviderCredentials | null> => this.credentials.get(orgId, providerId, options);

  /** The provider for display, without its secret (null for an unknown provider). */
  readonly summary = (orgId: string, providerId: string): Promise<OAuthProvider | null> =>
    this.summaries.get(orgId, providerId);

  /** The ids of the org's providers (for the external-auth list). */
  readonly directory = async (orgId: string): Promise<string[]> => {
    const reply = await this.bus.request('providers.list', {}, { auth: await this.internalToken(orgId) });
    return reply.data.map((p) => p.id);
  };

  /** Forgets every provider (events may have been missed). */
  forgetAll(): void {
    this.credentials.forgetAll();
    this.summaries.forgetAll();
  }

  /** Forgets a provider (after the registry announced a change). */
  forget(orgId: string, providerId: string): void {
    this.credentials.forget(orgId, providerId);
    this.summaries.forget(orgId, providerId);
  }

  private async readSummary(orgId: string, providerId: string): Promise<OAuthProvider | null> {
    try {
      return await this.bus.request(
        'providers.get',
        { id: providerId },
        { auth: await this.internalToken(orgId) },
      );
    } catch (err) {
      if (err instanceof BusRemoteError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  private async read(orgId: string, providerId: string): Promise<ProviderCredentials | null> {
    try {
      const reply = await this.bus.request(
        'providers.credentials',
        { id: providerId },
        { auth: await this.internalToken(orgId) },
      );
      return {
        provider: reply.provider,
        resolved: reply.resolved as unknown as ResolvedProvider,
        clientSecret: reply.clientSecret,
        ...(reply.githubApp ? { githubApp: reply.githubApp } : {}),
      };
    } catch (err) {
      if (err instanceof BusRemoteError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  private async internalToken(orgId: string): Promise<string> {
    const hit = this.internalTokens.get(orgId);
    if (hit && hit.until > Date.now()) return hit.token;
    const { token } = await this.issuer.issue({
      sub: 'service:token-broker',
      orgId,
      clientId: 'token-broker',
      scope: ['providers:credentials', 'providers:read'],
      ttlSeconds: INTERNAL_TTL_SECONDS,
    });
    this.internalTokens.set(orgId, { token, until: Date.now() + (INTERNAL_TTL_SECONDS - 60) * 1000 });
    return token;
  }
}

/**
 * Listens to the broker's events (from every replica, the worker and the registry) and drops what
 * this replica remembers of the authorization or provider concerned. Only events signed with a
 * key of the broker's events key set count: anything else published on the channel is ignored
 * (and counted). When the subscription is interrupted, events may have been missed: everything
 * remembered is dropped.
 */
@Injectable()
export class TokenMemoryInvalidator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenMemory');
  private readonly redis: ReturnType<typeof createRedisConnection>;
  /** Messages on the events channel that were not genuine broker events. */
  rejected = 0;

  constructor(
    private readonly tokens: TokenPath,
    private readonly providers: BusProviderAccess,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly grants: TokenGrantsService,
  ) {
    this.redis = createRedisConnection(config.redisUrl, `${config.service}:events-in`, {});
  }

  async onApplicationBootstrap(): Promise<void> {
    const keys = this.config.bus.eventsPublicKeys;
    if (!keys) throw new Error('EVENTS_PUBLIC_KEYS is required to act on broker events');
    this.redis.on('message', (_channel: string, message: string) => {
      const checked = verifyEvent(keys, message);
      if (!checked.ok) {
        if (this.rejected++ % 1000 === 0)
          this.logger.warn(
            `ignored a message on the events channel that is not a genuine broker event (${checked.reason}); ${this.rejected} so far`,
          );
        return;
      }
      const event = checked.event;
      // A provider changed: read it again (a hint only; the registry's answer over the bus decides).
      if (event.type === 'provider.changed') this.providers.forget(event.orgId, event.providerId);
      // A policy or client changed on another replica: read its grants again now rather than
      // answering from this replica's copy for up to its cache time.
      else if (event.type === 'consumer.changed') {
        if (event.change !== 'user') this.grants.forget(event.clientId);
      } else this.tokens.forget(event.authorizationId);
    });
    this.redis.on('ready', () => this.forgetAll());
    this.redis.on('close', () => this.forgetAll());
    await this.redis.subscribe(brokerEventsChannel(this.config.bus.prefix));
    this.logger.log('listening to broker events');
  }

  private forgetAll(): void {
    this.tokens.forgetAll();
    this.providers.forgetAll();
  }

  async onApplicationShutdown(): Promise<void> {
    await closeConnection(this.redis);
  }
}
