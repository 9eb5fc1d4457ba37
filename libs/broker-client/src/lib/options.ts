import type { KeyObject } from 'node:crypto';
import type { AcquireTokenRequest } from '@broker/contracts';
import {
  BusKeyError,
  ServicePublicKey,
  parseEventPublicKeys,
  parseServicePublicKeys,
} from '@broker/bus-protocol';
import { BrokerClientError } from './errors';

/** The broker's token endpoint and this service's OAuth client there (`client_credentials`). */
export interface ClientCredentials {
  /** e.g. `https://broker.internal/api/v1/oauth/token`. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Scope asked for; default `tokens:read` (what `tokens.acquire` needs). */
  scope?: string;
  /** Bound of one call to the token endpoint (ms); default 10000. Each acquire is also bounded by its own timeout. */
  requestTimeoutMs?: number;
}

/** A caller-supplied source of this service's broker access token (it does its own caching). */
export interface AccessTokenProvider {
  /**
   * Returns an access token of the broker with scope `tokens:read`. `forceRefresh` is true after
   * the broker refused the previous one (expired, or signing keys rotated): return a new one.
   */
  getAccessToken: (context: { forceRefresh: boolean }) => Promise<string>;
}

export interface BrokerClientOptions {
  /** The broker's Redis, with this service's own ACL user: `redis://<user>:<password>@host:6379`. */
  redisUrl: string;
  /**
   * The token-broker's bus public key, `kid:base64url` (its entry in the broker's
   * BUS_SERVICE_PUBLIC_KEYS). Requests are sealed to it; only the token-broker can open them.
   */
  brokerPublicKey: string;
  /** Public keys of the broker's events signer, `kid:base64url[,kid:base64url]` (its EVENTS_PUBLIC_KEYS). */
  eventsPublicKeys: string;
  /** Bus prefix (the broker's BUS_PREFIX); also names the events channel. */
  prefix: string;
  credentials: ClientCredentials | AccessTokenProvider;
  /** Hard deadline of an acquire when the call gives none (ms); default 2000. */
  defaultTimeoutMs?: number;
  /** Remaining life a token must have when the call gives none (s); default 60. */
  defaultMinValiditySeconds?: number;
  /**
   * Names the Redis connections (CLIENT LIST), the logger and this client's reply channel
   * (`<prefix>:bus:reply:<name>:*`, which the consumer's Redis ACL user is limited to); default `broker-client`.
   */
  name?: string;
  /** Where warnings go (never a token); default `console`. */
  logger?: BrokerClientLogger;
  /**
   * Whether `connect()` also asks the token-broker for its JWKS over the bus, proving that it runs
   * and holds the key `brokerPublicKey` names; default true.
   */
  verifyBroker?: boolean;
  /** Bound of `connect()` (ms): Redis connections and the events subscription; default 10000. */
  connectTimeoutMs?: number;
  /** Most authorizations kept in the local cache; default 10000 (expired ones go first, then the oldest). */
  maxCachedTokens?: number;
}

/** The few logging calls the client makes. */
export interface BrokerClientLogger {
  warn(message: string): void;
  log?(message: string): void;
}

export interface ResolvedOptions {
  redisUrl: string;
  brokerKey: ServicePublicKey;
  eventKeys: ReadonlyMap<string, KeyObject>;
  prefix: string;
  logger: BrokerClientLogger;
  verifyBroker: boolean;
  credentials: ClientCredentials | AccessTokenProvider;
  defaultTimeoutMs: number;
  defaultMinValiditySeconds: number;
  name: string;
  connectTimeoutMs: number;
  maxCachedTokens: number;
}

export const DEFAULT_TIMEOUT_MS = 2_000;
export const DEFAULT_MIN_VALIDITY_SECONDS = 60;

function invalidOption(message: string): BrokerClientError {
  return new BrokerClientError('INVALID_REQUEST', `invalid BrokerClient options: ${message}`);
}

function positive(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidOption(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

/** Checks the options (no secret goes into a message) and fills in the defaults. */
export function resolveOptions(options: BrokerClientOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') throw invalidOption('options are required');
  if (typeof options.redisUrl !== 'string' || !options.redisUrl) throw invalidOption('redisUrl is required');
  if (typeof options.prefix !== 'string' || !options.prefix) throw invalidOption('prefix is required');
  if (typeof options.name === 'string' && !/^[A-Za-z0-9_.-]{1,64}$/.test(options.name))
    throw invalidOption('name: letters, digits, _ . - only (at most 64)');
  let brokerKey: ServicePublicKey | undefined;
  let eventKeys: ReadonlyMap<string, KeyObject>;
  try {
    if (typeof options.brokerPublicKey !== 'string') throw new BusKeyError('is required');
    brokerKey = parseServicePublicKeys(`token-broker=${options.brokerPublicKey}`)['token-broker'];
  } catch (err) {
    throw invalidOption(`brokerPublicKey ${err instanceof BusKeyError ? err.message : 'is not kid:key'}`);
  }
  try {
    if (typeof options.eventsPublicKeys !== 'string') throw new BusKeyError('is required');
    eventKeys = parseEventPublicKeys(options.eventsPublicKeys);
  } catch (err) {
    throw invalidOption(`eventsPublicKeys ${err instanceof BusKeyError ? err.message : 'is not kid:key'}`);
  }
  const credentials = options.credentials;
  if (!credentials || typeof credentials !== 'object') throw invalidOption('credentials are required');
  if ('getAccessToken' in credentials) {
    if (typeof credentials.getAccessToken !== 'function')
      throw invalidOption('credentials.getAccessToken must be a function');
  } else {
    if (typeof credentials.tokenUrl !== 'string' || !/^https?:\/\//i.test(credentials.tokenUrl)) {
      throw invalidOption('credentials.tokenUrl must be an http(s) URL');
    }
    if (typeof credentials.clientId !== 'string' || !credentials.clientId)
      throw invalidOption('credentials.clientId is required');
    if (typeof credentials.clientSecret !== 'string' || !credentials.clientSecret)
      throw invalidOption('credentials.clientSecret is required');
    positive(credentials.requestTimeoutMs, 1, 'credentials.requestTimeoutMs');
  }
  return {
    redisUrl: options.redisUrl,
    brokerKey: brokerKey as ServicePublicKey,
    eventKeys,
    prefix: options.prefix,
    logger: options.logger ?? consoleLogger(options.name ?? 'broker-client'),
    verifyBroker: options.verifyBroker !== false,
    credentials,
    defaultTimeoutMs: positive(options.defaultTimeoutMs, DEFAULT_TIMEOUT_MS, 'defaultTimeoutMs'),
    defaultMinValiditySeconds: positive(
      options.defaultMinValiditySeconds,
      DEFAULT_MIN_VALIDITY_SECONDS,
      'defaultMinValiditySeconds',
      true,
    ),
    name: options.name ?? 'broker-client',
    connectTimeoutMs: positive(options.connectTimeoutMs, 10_000, 'connectTimeoutMs'),
    maxCachedTokens: Math.floor(positive(options.maxCachedTokens, 10_000, 'maxCachedTokens')),
  };
}

/** What `BrokerClient.acquire` takes: the contract's request plus this call's deadline. */
export type AcquireRequest = AcquireTokenRequest & {
  /** Hard deadline of this call (ms), own access token included; default `defaultTimeoutMs`. */
  timeoutMs?: number;
};

/** A checked request: one key, its effective minimum validity and timeout. */
export type ParsedRequest =
  | { kind: 'id'; authorizationId: string; minValiditySeconds: number; timeoutMs: number }
  | { kind: 'alias'; userId: string; providerId: string; minValiditySeconds: number; timeoutMs: number };

const MAX_ID_LENGTH = 256;

function badRequest(message: string): BrokerClientError {
  return new BrokerClientError('INVALID_REQUEST', message);
}

function optionalId(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw badRequest(`${name} must be a non-empty string`);
  if (value.length > MAX_ID_LENGTH) throw badRequest(`${name} is longer than ${MAX_ID_LENGTH} characters`);
  return value;
}

/** Validates a request before any I/O: exactly one of `authorizationId` or `userId` + `providerId`. */
export function parseRequest(
  request: AcquireRequest,
  defaults: Pick<ResolvedOptions, 'defaultTimeoutMs' | 'defaultMinValiditySeconds'>,
): ParsedRequest {
  if (!request || typeof request !== 'object') throw badRequest('a request object is required');
  const authorizationId = optionalId(request.authorizationId, 'authorizationId');
  const userId = optionalId(request.userId, 'userId');
  const providerId = optionalId(request.providerId, 'providerId');

  const min = request.minValiditySeconds;
  if (min !== undefined && (typeof min !== 'number' || !Number.isFinite(min) || min < 0)) {
    throw badRequest('minValiditySeconds must be a non-negative number');
  }
  const timeout = request.timeoutMs;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
    throw badRequest('timeoutMs must be a positive number');
  }
  const minValiditySeconds = min ?? defaults.defaultMinValiditySeconds;
  const timeoutMs = timeout ?? defaults.defaultTimeoutMs;

  if (authorizationId !== undefined) {
    if (userId !== undefined || providerId !== undefined) {
      throw badRequest('give either authorizationId or userId + providerId, not both');
    }
    return { kind: 'id', authorizationId, minValiditySeconds, timeoutMs };
  }
  if (userId === undefined || providerId === undefined) {
    throw badRequest('give either authorizationId or both userId and providerId');
  }
  return { kind: 'alias', userId, providerId, minValiditySeconds, timeoutMs };
}

function consoleLogger(name: string): BrokerClientLogger {
  return { warn: (message) => console.warn(`[${name}] ${message}`) };
}
