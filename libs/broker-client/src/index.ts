// The client's API for any Node service: no NestJS at run time (the Nest module is the `/nest` entry).
export { BrokerClient } from './lib/broker-client';
export type { BrokerClientStats } from './lib/broker-client';
export { BROKER_CLIENT_ERROR_CODES, BrokerClientError } from './lib/errors';
export type { BrokerClientErrorCode } from './lib/errors';
export { DEFAULT_MIN_VALIDITY_SECONDS, DEFAULT_TIMEOUT_MS } from './lib/options';
export type {
  AccessTokenProvider,
  AcquireRequest,
  BrokerClientLogger,
  BrokerClientOptions,
  ClientCredentials,
} from './lib/options';
export { NO_EXPIRY_CACHE_MS, aliasKey } from './lib/token-cache';
// The cache and the events subscription, also for the gateway's cache of served tokens (scoped per caller).
export { TokenCache } from './lib/token-cache';
export type { CacheKey, CachedToken, TokenCacheOptions } from './lib/token-cache';
export { EventSubscription } from './lib/event-subscription';
export type { EventHandlers } from './lib/event-subscription';
export type {
  AcquireTokenRequest,
  AcquiredToken,
  BrokerEvent,
  BusEvent,
  ProviderChangedEvent,
} from '@broker/contracts';
