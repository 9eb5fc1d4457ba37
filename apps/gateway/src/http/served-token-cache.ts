import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { type CacheKey, EventSubscription, TokenCache } from '@broker/broker-client';
import type { BusEvent, Principal } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { LedgerHitsReporter } from './ledger-hits-reporter';

/** A served token as the cache keeps it: what invalidation needs, the HTTP answer, and its ledger ticket. */
export interface CachedServe {
  authorizationId: string;
  providerId: string;
  expiresAt?: string;
  /** The route's answer to its client (without the ticket). */
  answer: unknown;
  ledgerTicket: string;
}

/** A broker's sealed answer as the cache keeps it: the client's answer without the ticket, the ticket apart. */
export function servedFromReply<T extends { expiresAt?: string | null; ledgerTicket?: string }>(
  reply: T,
  target: { authorizationId: string; providerId: string },
): CachedServe {
  const { ledgerTicket, ...answer } = reply;
  return {
    ...target,
    ...(reply.expiresAt ? { expiresAt: reply.expiresAt } : {}),
    answer,
    ledgerTicket: ledgerTicket ?? '',
  };
}

/** Seconds of life a cached token must keep beyond what the caller asked (it is still in transit). */
const MARGIN_SECONDS = 5;
/** The broker's default `minValiditySeconds` bound (a quarter of the lifetime, at most 60 s): the cache asks the upper bound. */
const DEFAULT_MIN_VALIDITY_SECONDS = 60;
/**
 * After a consumer change of an org, nothing of that org is stored for this long: longer than a
 * broker replica keeps its copy of a client's grants (2 s), so an answer decided on the old policy
 * by a replica that had not seen the change yet is not kept.
 */
export const CONSUMER_CHANGE_QUIET_MS = 5_000;
/**
 * After an authorization event (a refresh or rotation, a revocation, an expiry), nothing of that
 * authorization is stored for this long: longer than a broker replica serves a token from its own
 * memory (2 s, `memoryTtlMs`), so a replica that sees the event after the gateway does (or misses
 * it) cannot have its old token kept here for the cache's whole TTL.
 */
export const AUTHORIZATION_CHANGE_QUIET_MS = 2_500;

/** Everything the broker's decision depended on about the caller (docs/gateway-http.md). */
export function callerScope(p: Principal, extra: readonly (string | undefined)[] = []): string {
  return JSON.stringify([p.orgId, p.clientId, p.sub, p.act ?? null, 'rest', ...extra.map((x) => x ?? null)]);
}

function orgOfScope(scope: string | undefined): string | undefined {
  if (scope === undefined) return undefined;
  const parsed = JSON.parse(scope) as unknown[];
  return typeof parsed[0] === 'string' ? parsed[0] : undefined;
}

/**
 * The gateway's cache of served tokens on the hot REST routes (GATEWAY_TOKEN_CACHE=on): the
 * BrokerClient's TokenCache with the caller in every key, invalidated by the broker's signed
 * events — `authorization.*` by authorization (and user + provider), `provider.changed` by org +
 * provider, `consumer.changed` for the whole org with a short window storing nothing after (an
 * authorization event too, for that authorization: a lagging broker replica's old token) — and
 * dropped whole while the events subscription is down or not yet confirmed. A fill raced by an
 * invalidation is not stored (the cache's flights). Every hit is reported to the ledger by its
 * ticket; the bearer check runs before every lookup (hot-token-routes.ts).
 */
@Injectable()
export class ServedTokenCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ServedTokenCache');
  private readonly cache: TokenCache<CachedServe>;
  private readonly quietUntil = new Map<string, number>();
  /** Authorization id → end of its no-store window after an authorization event. */
  private readonly authorizationQuietUntil = new Map<string, number>();
  private subscription?: EventSubscription;
  private rejected = 0;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly hits: LedgerHitsReporter,
  ) {
    this.cache = new TokenCache<CachedServe>(config.tokenCache.maxEntries, {
      maxAgeMs: config.tokenCache.ttlMs,
      // An answer without a ticket could not be reported to the ledger on a hit: not kept.
      admit: (key, served) =>
        served.ledgerTicket !== '' && this.admits(key) && this.admitsAuthorization(served.authorizationId),
    });
    // Nothing is stored until the events subscription is confirmed.
    this.cache.setStoring(false);
  }

  get enabled(): boolean {
    return this.config.tokenCache.enabled;
  }

  get size(): number {
    return this.cache.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.tokenCache.offWithoutEventKeys)
      this.logger.warn(
        'token cache off: EVENTS_PUBLIC_KEYS is not set (the cache needs the broker events to invalidate it); set it, or GATEWAY_TOKEN_CACHE=off to silence this',
      );
    const keys = this.config.bus.eventsPublicKeys;
    if (!this.enabled || !keys) return;
    this.subscription = new EventSubscription(
      this.config.redisUrl,
      this.config.bus.prefix,
      'gateway',
      keys,
      {
        onEvent: (event) => this.onEvent(event),
        onRejected: (reason) => {
          if (this.rejected++ % 1000 === 0)
            this.logger.warn(
              `ignored a message on the events channel that is not a genuine broker event (${reason})`,
            );
        },
        onGap: () => this.cache.setStoring(false),
        onResumed: () => {
          this.cache.clear();
          this.cache.setStoring(true);
        },
      },
      { warn: (m) => this.logger.warn(m), log: (m) => this.logger.log(m) },
    );
    try {
      await this.subscription.start();
      this.cache.setStoring(true);
    } catch (err) {
      // Left not storing: every request goes to the broker until the subscription is back.
      this.logger.warn(`events subscription failed; serving without the cache: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.cache.setStoring(false);
    await this.subscription?.close();
  }

  /**
   * The cached answer for this caller and target with at least `minValiditySeconds` (+ a margin)
   * left, reported to the ledger; else the broker's answer (`fetch`), stored when it may be.
   */
  async serve(
    key: CacheKey,
    minValiditySeconds: number | undefined,
    fetch: () => Promise<CachedServe>,
  ): Promise<unknown> {
    const min = (minValiditySeconds ?? DEFAULT_MIN_VALIDITY_SECONDS) + MARGIN_SECONDS;
    const hit = this.cache.lookup(key, min);
    if (hit) {
      this.hits.hit(hit.ledgerTicket);
      return hit.answer;
    }
    // A flight: stored when it lands unless an invalidation of its target (or a wide one) came first.
    const served = await this.cache.startFlight(key, min, fetch).promise;
    return served.answer;
  }

  private admits(key: CacheKey): boolean {
    const org = orgOfScope(key.scope);
    if (org === undefined) return false;
    const until = this.quietUntil.get(org);
    if (until === undefined) return true;
    if (Date.now() < until) return false;
    this.quietUntil.delete(org);
    return true;
  }

  private admitsAuthorization(authorizationId: string): boolean {
    const until = this.authorizationQuietUntil.get(authorizationId);
    if (until === undefined) return true;
    if (Date.now() < until) return false;
    this.authorizationQuietUntil.delete(authorizationId);
    return true;
  }

  /** Starts an authorization's no-store window; ended windows are swept so the map stays small. */
  private quietAuthorization(authorizationId: string): void {
    const now = Date.now();
    if (this.authorizationQuietUntil.size >= 1_000)
      for (const [id, until] of this.authorizationQuietUntil)
        if (until <= now) this.authorizationQuietUntil.delete(id);
    this.authorizationQuietUntil.set(authorizationId, now + AUTHORIZATION_CHANGE_QUIET_MS);
  }

  private onEvent(event: BusEvent): void {
    if (event.type === 'provider.changed') {
      this.cache.invalidateWhere(
        (token, scope) => token.providerId === event.providerId && orgOfScope(scope) === event.orgId,
      );
    } else if (event.type === 'consumer.changed') {
      this.quietUntil.set(event.orgId, Date.now() + CONSUMER_CHANGE_QUIET_MS);
      this.cache.invalidateWhere((_token, scope) => orgOfScope(scope) === event.orgId);
    } else {
      this.quietAuthorization(event.authorizationId);
      this.cache.invalidate(event.authorizationId, event.userId, event.providerId);
    }
  }
}
