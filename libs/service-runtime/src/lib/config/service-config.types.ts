// The shape of a service's validated configuration, and the error that lists what is wrong with it.
import type { KeyObject } from 'node:crypto';
import type { QueueName, ServiceName } from '@broker/contracts';
import type { Keyring } from '@broker/crypto';
import type { QueueDashboardConfig } from './queue-dashboard-config';
import type { EventSigningKey, ServiceKeyPair, ServicePublicKeys } from '@broker/bus-protocol';

export const MIGRATIONS_MODES = ['run', 'skip', 'only'] as const;
export type MigrationsMode = (typeof MIGRATIONS_MODES)[number];

/** Configuration of one service process, validated once at boot. */
export interface ServiceConfig {
  service: ServiceName;
  nodeEnv: 'development' | 'test' | 'production';
  /** HTTP port: the API for the gateway, health probes for the others. */
  port: number;
  /** Address the HTTP server binds: loopback by default, 0.0.0.0 in containers. */
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Metrics and traces: the port `/metrics` is served on (its own listener on `host`, never the API
   * port; off when unset), how often the database-wide counts behind some gauges are recomputed
   * (authorizations by status...: not on every scrape), and the OTLP/HTTP endpoint spans are
   * exported to (off when unset).
   */
  observability: { metricsPort?: number; countIntervalMs: number; otlpEndpoint?: string };
  /** PostgreSQL URL; absent for services that own no tables. */
  databaseUrl?: string;
  databasePoolSize: number;
  /**
   * Schema migrations at start-up: `run` applies pending ones (local default), `skip` applies none
   * and refuses to start while any is pending (services on a role without DDL rights), `only`
   * applies them and exits (the Kubernetes migration Job, on the DDL role).
   */
  migrations: MigrationsMode;
  /** The worker's queues (from `WORKER_QUEUES` groups; every queue by default) and per-queue concurrency overrides. */
  worker: { queues: QueueName[]; concurrency: Partial<Record<QueueName, number>> };
  redisUrl: string;
  bus: {
    prefix: string;
    timeoutMs: number;
    /** This service's bus key pairs (current first), if it serves bus requests. */
    keys?: ServiceKeyPair[];
    /** The public key of every service this one calls. */
    publicKeys: ServicePublicKeys;
    /** The events signing key, if this service publishes broker events. */
    eventsSigningKey?: EventSigningKey;
    /** Keys whose signatures make an event genuine, if this service listens to broker events. */
    eventsPublicKeys?: ReadonlyMap<string, KeyObject>;
  };
  /** The broker's public base URL: issuer of its tokens (`iss`); `<publicUrl>/api` is their audience. */
  publicUrl: string;
  /** Secrets at rest; present for services that keep secrets (`ConfigRequirements.secrets`). */
  secrets?: {
    keyring: Keyring;
    pepper: Buffer;
  };
  /** Limits of the token endpoint, per minute, shared by all gateway replicas through Redis. */
  rateLimits: { tokenPerIpPerMinute: number; tokenPerClientPerMinute: number };
  /** Express `trust proxy`: hops of reverse proxies whose X-Forwarded-For is believed (0: none). */
  trustProxyHops: number;
  /**
   * SIGTERM: how long the service answers /health/ready 503 ("draining") while still serving, before
   * it stops listening, so a load balancer (a Kubernetes readiness probe and endpoint removal) stops
   * sending to it first. 0: close at once.
   */
  shutdownDrainSeconds: number;
  identity: {
    accessTokenTtlSeconds: number;
    /** Cap on the lifetime of delegated tokens (a token for another subject). */
    delegatedTokenTtlSeconds: number;
    bootstrap: { orgId: string; clientId: string; clientSecret?: string };
  };
  /**
   * Outbound calls to provider-controlled hosts: https on these ports only, never to private,
   * loopback, link-local or metadata addresses; loopback only with the development setting.
   */
  egress: { allowLoopback: boolean; allowedPorts: number[] };
  /** The gateway's queue dashboard (`QUEUE_DASHBOARD`, docs/queue-dashboard.md); absent when off. */
  queueDashboard?: QueueDashboardConfig;
  /** End-to-end test fault hooks (TEST_FAULT_HOOKS=1; refused when NODE_ENV=production). */
  testFaultHooks: boolean;
  /** OAuth setups (seed 002): default lifetime, how long ended ephemeral ones are kept, how often the sweep runs. */
  setups: { defaultTtlSeconds: number; ephemeralRetentionSeconds: number; sweepEverySeconds: number };
  /** The worker's housekeeping sweeps (refresh candidates, consent states, device pollers, open jobs): how often each runs, once per cluster. */
  housekeeping: { sweepEverySeconds: number };
  /** Webhook deliveries: first retry delay (doubling after), how long to keep trying, per-attempt timeout. */
  webhooks: { retryBaseSeconds: number; retryWindowSeconds: number; timeoutSeconds: number };
  /**
   * The refresh schedule: how often the token-broker writes which authorizations were used, how often
   * the worker's sweep runs and how far ahead it takes due rows, and per-provider limits of its
   * refreshes (concurrency per worker process; rate per second across all workers, through Redis).
   */
  refresh: {
    usageFlushMs: number;
    sweepEverySeconds: number;
    lookaheadSeconds: number;
    concurrencyPerProvider: number;
    ratePerProviderPerSecond: number;
  };
  /** Bulk jobs: upstream revocations in flight during a provider deletion, rows per batch of deletion and key rotation, the rotation's pace (rows per second, 0: as fast as it goes). */
  bulk: {
    revokeConcurrency: number;
    deletionBatch: number;
    rotationBatch: number;
    rotationRowsPerSecond: number;
  };
  /** The provenance ledger of served provider tokens: rows not served for this many days are removed. */
  ledger: { retentionDays: number };
  /** The gateway's cache of served tokens (GATEWAY_TOKEN_CACHE*; docs/gateway-http.md). */
  tokenCache: {
    enabled: boolean;
    maxEntries: number;
    ttlMs: number;
    /** Left off only because EVENTS_PUBLIC_KEYS is missing (the default is on): the gateway logs it once at boot. */
    offWithoutEventKeys: boolean;
  };
  /** Redirect URIs (besides the gateway's own browser callback) a consent may send providers back to; exact match. */
  consentRedirectUris: string[];
  /**
   * Resource servers (RFC 8707 `resource` values, e.g. MCP servers) the broker issues audience-bound
   * access tokens for, besides its own API (`<publicUrl>/api`); exact match.
   */
  resourceServers: string[];
  /**
   * The upstream identity provider people sign in with at `/api/v1/oauth/authorize` (any OAuth 2.0
   * or OIDC provider with a userinfo endpoint); absent when none is configured.
   */
  upstreamLogin?: {
    authorizationUrl: string;
    tokenUrl: string;
    userinfoUrl: string;
    clientId: string;
    clientSecret: string;
    scope: string;
  };
}

export interface ConfigRequirements {
  /** The service owns tables and needs DATABASE_URL. */
  database: boolean;
  /** The service answers bus requests and needs its key pair (BUS_SERVICE_PRIVATE_KEY). */
  busServer?: boolean;
  /** The service encrypts or hashes secrets and needs ENCRYPTION_KEYS and SECRET_PEPPER. */
  secrets?: boolean;
  defaultPort: number;
}

/** Thrown when the environment is missing or has bad variables; lists every problem by name. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
