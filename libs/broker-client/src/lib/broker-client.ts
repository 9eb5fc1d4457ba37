import { BusError, BusRequester } from '@broker/bus-protocol';
import type { AcquireTokenRequest, AcquiredToken } from '@broker/contracts';
import { AccessTokenSource, ClientCredentialsSource, ProvidedTokenSource } from './access-token-source';
import { PATTERN, busError, checkReply, closedError, copyOf, timeoutError } from './acquire-reply';
import type { BrokerClientStats } from './client-stats';
import { BrokerClientError } from './errors';
import { EventSubscription } from './event-subscription';
import {
  AcquireRequest,
  BrokerClientOptions,
  ParsedRequest,
  ResolvedOptions,
  parseRequest,
  resolveOptions,
} from './options';
import { CacheKey, TokenCache, satisfies } from './token-cache';
import { Waits } from './waits';

export type { BrokerClientStats } from './client-stats';

/**
 * What an internal service uses to get a provider access token from the broker: over the bus,
 * with its own `client_credentials` token, a local cache kept right by the broker's events, one
 * bus request per key at a time, and a hard deadline on every call.
 */
export class BrokerClient {
  private readonly bus: BusRequester;
  private readonly events: EventSubscription;
  private readonly ownTokens: AccessTokenSource;
  private readonly cache: TokenCache;
  private readonly waits = new Waits();
  private readonly counters = {
    acquires: 0,
    cacheHits: 0,
    sharedRequests: 0,
    busRequests: 0,
    eventsReceived: 0,
    eventsRejected: 0,
    cacheClears: 0,
  };
  private closed = false;
  private closing?: Promise<void>;

  private constructor(private readonly options: ResolvedOptions) {
    this.cache = new TokenCache(options.maxCachedTokens);
    const credentials = options.credentials;
    this.ownTokens =
      'getAccessToken' in credentials
        ? new ProvidedTokenSource(credentials)
        : new ClientCredentialsSource(credentials);
    this.bus = new BusRequester({
      redisUrl: options.redisUrl,
      servicePublicKeys: { 'token-broker': options.brokerKey },
      prefix: options.prefix,
      defaultTimeoutMs: options.defaultTimeoutMs,
      name: options.name,
      // No ready check: it sends INFO, which a consumer's Redis ACL user need not have.
      redisOptions: { enableReadyCheck: false },
    });
    this.events = new EventSubscription(
      options.redisUrl,
      options.prefix,
      options.name,
      options.eventKeys,
      {
        onEvent: (event) => {
          this.counters.eventsReceived++;
          if (event.type === 'provider.changed') this.cache.invalidateProvider(event.providerId);
          // A consumer policy, client or user changed (rare): what was served may now be refused.
          else if (event.type === 'consumer.changed') this.cache.clear();
          else this.cache.invalidate(event.authorizationId, event.userId, event.providerId);
        },
        onRejected: (reason) => {
          if (this.counters.eventsRejected++ % 1000 === 0) {
            this.options.logger.warn(
              `ignored a message on the events channel that is not a genuine broker event (${reason})`,
            );
          }
        },
        onGap: () => {
          this.counters.cacheClears++;
          this.cache.setStoring(false);
        },
        onResumed: () => {
          this.counters.cacheClears++;
          this.cache.clear();
          this.cache.setStoring(true);
        },
      },
      options.logger,
    );
  }

  /**
   * Connects to the bus, subscribes to the broker's events and (unless `verifyBroker: false`) checks
   * that the token-broker answers a request sealed to `brokerPublicKey`. Rejects within
   * `connectTimeoutMs`: UNAVAILABLE when Redis or the broker cannot be reached (or the key is not
   * the broker's), INVALID_REQUEST for wrong options.
   */
  static async connect(options: BrokerClientOptions): Promise<BrokerClient> {
    const client = new BrokerClient(resolveOptions(options));
    try {
      await client.open();
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  private async open(): Promise<void> {
    const ms = this.options.connectTimeoutMs;
    const deadline = Date.now() + ms;
    let stage = 'Redis';
    const opening = (async () => {
      try {
        await Promise.all([this.bus.connect(), this.events.start()]);
      } catch {
        throw new BrokerClientError(
          'UNAVAILABLE',
          'could not connect to Redis (check redisUrl and the ACL user)',
        );
      }
      if (!this.options.verifyBroker) return;
      stage = 'the token-broker';
      try {
        // Public and cheap; an answer proves the token-broker runs and holds the key we seal to.
        await this.bus.call(
          'token-broker',
          'identity.jwks',
          {},
          { timeoutMs: Math.max(1, deadline - Date.now()) },
        );
      } catch (err) {
        throw new BrokerClientError(
          'UNAVAILABLE',
          `the token-broker did not answer over the bus (${err instanceof BusError ? err.code : 'error'}): is it running, and is brokerPublicKey its current key?`,
        );
      }
    })();
    opening.catch(() => undefined);
    await this.waits.bound(
      opening,
      deadline,
      () => new BrokerClientError('UNAVAILABLE', `could not reach ${stage} within ${ms} ms`),
    );
  }

  /**
   * A provider access token of the authorization (by id, or by user + provider) with at least
   * `minValiditySeconds` of life left. Rejects with a BrokerClientError, within `timeoutMs`.
   */
  async acquire(request: AcquireRequest): Promise<AcquiredToken> {
    if (this.closed) throw closedError();
    const parsed = parseRequest(request, this.options);
    this.counters.acquires++;
    // The common case first, with nothing set up for it: a cached token with enough life left is
    // answered without a timer, a key object or a promise of its own (≥ 1 M/s in one process:
    // bench:tokens "BrokerClient cached"). The parsed request is its own cache key.
    const cached = this.cache.lookup(parsed, parsed.minValiditySeconds);
    if (cached) {
      this.counters.cacheHits++;
      return copyOf(cached);
    }
    const deadline = Date.now() + parsed.timeoutMs;
    const token = await this.waits.bound(this.resolve(parsed, deadline), deadline, () =>
      timeoutError(parsed.timeoutMs),
    );
    return copyOf(token);
  }

  /** Drops the cached token of an authorization (and its user + provider aliases), e.g. after the provider refused it. */
  invalidate(authorizationId: string): void {
    if (typeof authorizationId !== 'string' || authorizationId === '') {
      throw new BrokerClientError('INVALID_REQUEST', 'authorizationId must be a non-empty string');
    }
    this.cache.invalidate(authorizationId);
  }

  /** Closes the bus client and the events subscription; pending and later acquires reject with CLOSED. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Nest calls this on `app.close()` (see the `/nest` entry); closes the client. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  stats(): BrokerClientStats {
    return {
      ...this.counters,
      forgedReplies: this.bus.stats().rejected,
      ownTokenFetches: this.ownTokens.fetches,
      cachedTokens: this.cache.size,
      subscribed: this.events.subscribed,
    };
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.waits.abortAll(closedError());
    this.cache.clear();
    await Promise.all([this.bus.close().catch(() => undefined), this.events.close()]);
  }

  private async resolve(request: ParsedRequest, deadline: number): Promise<AcquiredToken> {
    const key: CacheKey = request;
    const min = request.minValiditySeconds;

    const cached = this.cache.lookup(key, min);
    if (cached) {
      this.counters.cacheHits++;
      return cached;
    }

    const underway = this.cache.flight(key);
    if (underway) {
      this.counters.sharedRequests++;
      const token = await underway.promise;
      // The broker gave what that request asked; a stricter caller takes it only if it is enough.
      if (underway.minValiditySeconds >= min || satisfies(token, min)) return token;
      const next = this.cache.flight(key);
      if (next && next.minValiditySeconds >= min) return next.promise;
    }
    return this.cache.startFlight(key, min, () => this.fromBroker(request, deadline)).promise;
  }

  /** One `tokens.acquire`, retried once with a new own token if the broker refused ours. */
  private async fromBroker(request: ParsedRequest, deadline: number): Promise<AcquiredToken> {
    const payload: AcquireTokenRequest =
      request.kind === 'id'
        ? { authorizationId: request.authorizationId, minValiditySeconds: request.minValiditySeconds }
        : {
            userId: request.userId,
            providerId: request.providerId,
            minValiditySeconds: request.minValiditySeconds,
          };
    const auth = await this.ownToken(deadline);
    try {
      return await this.send(payload, auth, deadline);
    } catch (err) {
      if (!(err instanceof BrokerClientError) || err.busCode !== 'UNAUTHENTICATED') throw err;
    }
    // Expired or signed with rotated keys: one more try with a token the broker has not refused.
    return this.send(payload, await this.ownToken(deadline, auth), deadline);
  }

  private ownToken(deadline: number, refused?: string): Promise<string> {
    const ms = Math.max(0, deadline - Date.now());
    return this.waits.bound(
      this.ownTokens.get(refused),
      deadline,
      () => new BrokerClientError('TIMEOUT', `no access token of the broker for this client within ${ms} ms`),
    );
  }

  private async send(payload: AcquireTokenRequest, auth: string, deadline: number): Promise<AcquiredToken> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new BrokerClientError('TIMEOUT', `no time left to send ${PATTERN}`);
    if (this.closed) throw closedError();
    this.counters.busRequests++;
    let reply: unknown;
    try {
      reply = await this.bus.call('token-broker', PATTERN, payload, { auth, timeoutMs: remaining });
    } catch (err) {
      throw busError(err, auth, this.closed);
    }
    return checkReply(reply);
  }
}
