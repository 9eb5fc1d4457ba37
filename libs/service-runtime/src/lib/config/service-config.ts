import { z } from 'zod';
import {
  QUEUE_GROUP_NAMES,
  QUEUE_NAMES,
  QueueGroup,
  QueueName,
  ServiceName,
  queuesOfGroups,
} from '@broker/contracts';
import { Keyring, KeyringError, parseKeyring } from '@broker/crypto';
import {
  BusKeyError,
  EventSigningKey,
  ServiceKeyPair,
  ServicePublicKeys,
  parseEventPublicKeys,
  parseEventSigningKey,
  parseServicePrivateKeys,
  parseServicePublicKeys,
} from '@broker/bus-protocol';
import { busPrefixSetting, clusterPrefixProblem, redisUrlSetting } from './redis-settings';
import type { KeyObject } from 'node:crypto';
import { placeholderSecretProblems } from './placeholder-secrets';

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

export const MIGRATIONS_MODES = ['run', 'skip', 'only'] as const;
export type MigrationsMode = (typeof MIGRATIONS_MODES)[number];

const UPSTREAM_VARS = [
  'UPSTREAM_AUTHORIZATION_URL',
  'UPSTREAM_TOKEN_URL',
  'UPSTREAM_USERINFO_URL',
  'UPSTREAM_CLIENT_ID',
  'UPSTREAM_CLIENT_SECRET',
] as const;

/** Whom each service calls on the bus (it needs their public keys in BUS_SERVICE_PUBLIC_KEYS). */
export const BUS_CALLEES: Record<ServiceName, ServiceName[]> = {
  gateway: ['provider-registry', 'token-broker'],
  'provider-registry': ['token-broker'],
  'token-broker': ['provider-registry'],
  worker: [],
};
/**
 * Services that publish broker events, each signing with its own EVENTS_SIGNING_KEY: the
 * token-broker and the worker (authorization events), the provider-registry (provider changes).
 */
export const EVENT_PUBLISHERS: readonly ServiceName[] = ['token-broker', 'worker', 'provider-registry'];
/**
 * Services that act on broker events (they need EVENTS_PUBLIC_KEYS, every publisher's public key):
 * the token-broker (its token and provider memory), the worker (webhook deliveries).
 */
export const EVENT_SUBSCRIBERS: readonly ServiceName[] = ['token-broker', 'worker'];

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

const urlWithScheme = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}` },
  );

const intInRange = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be between ${min} and ${max}` });

/** `WORKER_QUEUES`: comma-separated queue groups (or `all`, the default). */
const workerQueuesSetting = z
  .string()
  .default('all')
  .transform((v) => v.split(',').map((g) => g.trim()))
  .refine((groups) => groups.every((g) => g === 'all' || (QUEUE_GROUP_NAMES as string[]).includes(g)), {
    message: `must be a comma-separated list of queue groups: ${QUEUE_GROUP_NAMES.join(', ')} (or all)`,
  })
  .transform((groups) =>
    queuesOfGroups(groups.includes('all') ? QUEUE_GROUP_NAMES : (groups as QueueGroup[])),
  );

/**
 * `WORKER_CONCURRENCY`: `name=n` pairs, comma-separated; a name is a queue group (every queue of it)
 * or a queue (that queue, winning over its group). Unset queues keep the contracts' settings table.
 */
const workerConcurrencySetting = z
  .string()
  .default('')
  .refine(
    (v) =>
      v === '' ||
      v.split(',').every((pair) => {
        const m = /^\s*([a-z-]+)=(\d{1,4})\s*$/.exec(pair);
        return (
          !!m &&
          Number(m[2]) >= 1 &&
          ((QUEUE_GROUP_NAMES as string[]).includes(m[1]) ||
            (QUEUE_NAMES as readonly string[]).includes(m[1]))
        );
      }),
    {
      message: `must be comma-separated name=n pairs (n from 1 to 9999), a name being a queue group (${QUEUE_GROUP_NAMES.join(', ')}) or a queue (${QUEUE_NAMES.join(', ')})`,
    },
  )
  .transform((v) => {
    const pairs = v === '' ? [] : v.split(',').map((pair) => pair.trim().split('=') as [string, string]);
    const out: Partial<Record<QueueName, number>> = {};
    // Groups first, then single queues, so a queue's own value wins over its group's.
    for (const [name, n] of pairs)
      if ((QUEUE_GROUP_NAMES as string[]).includes(name))
        for (const q of queuesOfGroups([name as QueueGroup])) out[q] = Number(n);
    for (const [name, n] of pairs)
      if ((QUEUE_NAMES as readonly string[]).includes(name)) out[name as QueueName] = Number(n);
    return out;
  });

/** Reads and validates the service's configuration from environment variables. */
export function loadServiceConfig(
  service: ServiceName,
  env: Record<string, string | undefined>,
  req: ConfigRequirements,
): ServiceConfig {
  const schema = z.object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: intInRange(1, 65535).default(req.defaultPort),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    METRICS_PORT: intInRange(1, 65535).optional(),
    METRICS_COUNT_INTERVAL_SECONDS: intInRange(1, 3_600).default(60),
    OTEL_EXPORTER_OTLP_ENDPOINT: urlWithScheme(['http:', 'https:']).optional(),
    DATABASE_URL: req.database ? urlWithScheme(['postgres:', 'postgresql:']) : z.string().optional(),
    DATABASE_POOL_SIZE: intInRange(1, 200).default(10),
    MIGRATIONS: z
      .enum(MIGRATIONS_MODES, { message: `must be one of ${MIGRATIONS_MODES.join(', ')}` })
      .default('run'),
    WORKER_QUEUES: workerQueuesSetting,
    WORKER_CONCURRENCY: workerConcurrencySetting,
    REDIS_URL: redisUrlSetting,
    BUS_SERVICE_PRIVATE_KEY: req.busServer ? z.string().min(1) : z.string().optional(),
    BUS_SERVICE_PUBLIC_KEYS: BUS_CALLEES[service].length ? z.string().min(1) : z.string().optional(),
    EVENTS_SIGNING_KEY: EVENT_PUBLISHERS.includes(service) ? z.string().min(1) : z.string().optional(),
    EVENTS_PUBLIC_KEYS: EVENT_SUBSCRIBERS.includes(service) ? z.string().min(1) : z.string().optional(),
    BUS_PREFIX: busPrefixSetting,
    BUS_TIMEOUT_MS: intInRange(50, 120_000).default(5_000),
    PUBLIC_URL: urlWithScheme(['http:', 'https:']).default('http://127.0.0.1:3000'),
    ENCRYPTION_KEYS: req.secrets ? z.string() : z.string().optional(),
    ENCRYPTION_ACTIVE_KEY_ID: z.string().optional(),
    SECRET_PEPPER: req.secrets
      ? z.string().refine((v) => Buffer.from(v, 'base64').length >= 32, {
          message: 'must be at least 32 random bytes, base64-encoded',
        })
      : z.string().optional(),
    ACCESS_TOKEN_TTL_SECONDS: intInRange(60, 86_400).default(900),
    DELEGATED_TOKEN_TTL_SECONDS: intInRange(30, 86_400).default(300),
    TOKEN_RATE_LIMIT_PER_IP: intInRange(1, 1_000_000).default(300),
    TOKEN_RATE_LIMIT_PER_CLIENT: intInRange(1, 1_000_000).default(600),
    TRUST_PROXY_HOPS: intInRange(0, 10).default(0),
    SHUTDOWN_DRAIN_SECONDS: intInRange(0, 300).default(0),
    BOOTSTRAP_ORG_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'letters, digits, _ and - only' })
      .default('default'),
    BOOTSTRAP_CLIENT_ID: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'letters, digits, _ . - only' })
      .default('admin'),
    BOOTSTRAP_CLIENT_SECRET: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
    EGRESS_ALLOW_LOOPBACK: z.enum(['true', 'false'], { message: 'must be true or false' }).default('false'),
    TEST_FAULT_HOOKS: z.enum(['0', '1'], { message: 'must be 0 or 1' }).default('0'),
    EGRESS_ALLOWED_PORTS: z
      .string()
      .regex(/^\d{1,5}(,\d{1,5})*$/, { message: 'must be a comma-separated list of ports, e.g. 443,8443' })
      .default('443'),
    CONSENT_REDIRECT_URIS: z
      .string()
      .refine(
        (v) =>
          v.split(',').every((u) => URL.canParse(u.trim()) && /^https?:$/.test(new URL(u.trim()).protocol)),
        {
          message: 'must be a comma-separated list of http(s) URLs',
        },
      )
      .optional(),
    RESOURCE_SERVERS: z
      .string()
      .refine(
        (v) =>
          v
            .split(',')
            .every(
              (u) =>
                URL.canParse(u.trim()) &&
                /^https?:$/.test(new URL(u.trim()).protocol) &&
                !new URL(u.trim()).hash,
            ),
        {
          message: 'must be a comma-separated list of absolute http(s) URLs without a fragment (RFC 8707)',
        },
      )
      .optional(),
    SETUP_TTL_SECONDS: intInRange(60, 604_800).default(86_400),
    SETUP_EPHEMERAL_RETENTION_SECONDS: intInRange(0, 604_800).default(3_600),
    SETUP_SWEEP_SECONDS: intInRange(1, 3_600).default(60),
    HOUSEKEEPING_SWEEP_SECONDS: intInRange(1, 3_600).default(15),
    WEBHOOK_RETRY_BASE_SECONDS: intInRange(1, 3_600).default(30),
    WEBHOOK_RETRY_WINDOW_SECONDS: intInRange(5, 604_800).default(86_400),
    WEBHOOK_TIMEOUT_SECONDS: intInRange(1, 60).default(10),
    TOKEN_USAGE_FLUSH_MS: intInRange(100, 600_000).default(5_000),
    REFRESH_SWEEP_SECONDS: intInRange(1, 3_600).default(5),
    REFRESH_LOOKAHEAD_SECONDS: intInRange(0, 600).default(15),
    REFRESH_CONCURRENCY_PER_PROVIDER: intInRange(1, 1_000).default(16),
    REFRESH_RATE_PER_PROVIDER: intInRange(1, 100_000).default(100),
    DELETION_REVOKE_CONCURRENCY: intInRange(1, 1_000).default(32),
    DELETION_BATCH: intInRange(1, 10_000).default(500),
    KEY_ROTATION_BATCH: intInRange(1, 10_000).default(500),
    KEY_ROTATION_ROWS_PER_SECOND: intInRange(0, 1_000_000).default(2_000),
    LEDGER_RETENTION_DAYS: intInRange(1, 3_650).default(90),
    UPSTREAM_AUTHORIZATION_URL: urlWithScheme(['http:', 'https:']).optional(),
    UPSTREAM_TOKEN_URL: urlWithScheme(['http:', 'https:']).optional(),
    UPSTREAM_USERINFO_URL: urlWithScheme(['http:', 'https:']).optional(),
    UPSTREAM_CLIENT_ID: z.string().min(1).optional(),
    UPSTREAM_CLIENT_SECRET: z.string().min(1).optional(),
    UPSTREAM_SCOPE: z.string().min(1).default('openid email profile'),
  });
  // An empty variable counts as unset, so `FOO=` in an env file means "use the default".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  // Publicly known secrets (the deployment templates' placeholders) are refused in production.
  const placeholders = cleaned['NODE_ENV'] === 'production' ? placeholderSecretProblems(cleaned) : [];
  if (!parsed.success || placeholders.length > 0) {
    const named = new Set(placeholders.map((p) => p.slice(0, p.indexOf(':'))));
    const invalid = (parsed.error?.issues ?? [])
      .filter((issue) => !named.has(String(issue.path[0] ?? '?')))
      .map((issue) => {
        const name = String(issue.path[0] ?? '?');
        return cleaned[name] === undefined ? `${name}: required but not set` : `${name}: ${issue.message}`;
      });
    throw new ConfigError([...placeholders, ...invalid]);
  }
  const e = parsed.data;
  const prefixProblem = clusterPrefixProblem(e.REDIS_URL, e.BUS_PREFIX);
  if (prefixProblem) throw new ConfigError([prefixProblem]);
  if (e.EGRESS_ALLOW_LOOPBACK === 'true' && e.NODE_ENV === 'production') {
    throw new ConfigError([
      'EGRESS_ALLOW_LOOPBACK: loopback providers are a development setting and are refused when NODE_ENV=production',
    ]);
  }
  if (e.TEST_FAULT_HOOKS === '1' && e.NODE_ENV === 'production') {
    throw new ConfigError(['TEST_FAULT_HOOKS: test fault injection is refused when NODE_ENV=production']);
  }
  const upstreamSet = UPSTREAM_VARS.filter((name) => e[name] !== undefined);
  if (upstreamSet.length > 0 && upstreamSet.length < UPSTREAM_VARS.length) {
    throw new ConfigError(
      UPSTREAM_VARS.filter((name) => e[name] === undefined).map(
        (name) => `${name}: required when any UPSTREAM_* variable is set`,
      ),
    );
  }
  const bus = busKeys(service, req, e);
  let secrets: ServiceConfig['secrets'];
  if (req.secrets && e.ENCRYPTION_KEYS && e.SECRET_PEPPER) {
    try {
      secrets = {
        keyring: parseKeyring(e.ENCRYPTION_KEYS, e.ENCRYPTION_ACTIVE_KEY_ID),
        pepper: Buffer.from(e.SECRET_PEPPER, 'base64'),
      };
    } catch (err) {
      if (err instanceof KeyringError) throw new ConfigError([`ENCRYPTION_KEYS: ${err.message}`]);
      throw err;
    }
  }
  return {
    service,
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    observability: {
      metricsPort: e.METRICS_PORT,
      countIntervalMs: e.METRICS_COUNT_INTERVAL_SECONDS * 1000,
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    },
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    migrations: e.MIGRATIONS,
    worker: { queues: e.WORKER_QUEUES, concurrency: e.WORKER_CONCURRENCY },
    redisUrl: e.REDIS_URL,
    bus: { prefix: e.BUS_PREFIX, timeoutMs: e.BUS_TIMEOUT_MS, ...bus },
    publicUrl: e.PUBLIC_URL.replace(/\/+$/, ''),
    secrets,
    rateLimits: {
      tokenPerIpPerMinute: e.TOKEN_RATE_LIMIT_PER_IP,
      tokenPerClientPerMinute: e.TOKEN_RATE_LIMIT_PER_CLIENT,
    },
    trustProxyHops: e.TRUST_PROXY_HOPS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    identity: {
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      delegatedTokenTtlSeconds: e.DELEGATED_TOKEN_TTL_SECONDS,
      bootstrap: {
        orgId: e.BOOTSTRAP_ORG_ID,
        clientId: e.BOOTSTRAP_CLIENT_ID,
        clientSecret: e.BOOTSTRAP_CLIENT_SECRET,
      },
    },
    setups: {
      defaultTtlSeconds: e.SETUP_TTL_SECONDS,
      ephemeralRetentionSeconds: e.SETUP_EPHEMERAL_RETENTION_SECONDS,
      sweepEverySeconds: e.SETUP_SWEEP_SECONDS,
    },
    housekeeping: { sweepEverySeconds: e.HOUSEKEEPING_SWEEP_SECONDS },
    webhooks: {
      retryBaseSeconds: e.WEBHOOK_RETRY_BASE_SECONDS,
      retryWindowSeconds: e.WEBHOOK_RETRY_WINDOW_SECONDS,
      timeoutSeconds: e.WEBHOOK_TIMEOUT_SECONDS,
    },
    refresh: {
      usageFlushMs: e.TOKEN_USAGE_FLUSH_MS,
      sweepEverySeconds: e.REFRESH_SWEEP_SECONDS,
      lookaheadSeconds: e.REFRESH_LOOKAHEAD_SECONDS,
      concurrencyPerProvider: e.REFRESH_CONCURRENCY_PER_PROVIDER,
      ratePerProviderPerSecond: e.REFRESH_RATE_PER_PROVIDER,
    },
    bulk: {
      revokeConcurrency: e.DELETION_REVOKE_CONCURRENCY,
      deletionBatch: e.DELETION_BATCH,
      rotationBatch: e.KEY_ROTATION_BATCH,
      rotationRowsPerSecond: e.KEY_ROTATION_ROWS_PER_SECOND,
    },
    ledger: { retentionDays: e.LEDGER_RETENTION_DAYS },
    consentRedirectUris: (e.CONSENT_REDIRECT_URIS ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
    resourceServers: (e.RESOURCE_SERVERS ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
    egress: {
      allowLoopback: e.EGRESS_ALLOW_LOOPBACK === 'true',
      allowedPorts: e.EGRESS_ALLOWED_PORTS.split(',').map(Number),
    },
    testFaultHooks: e.TEST_FAULT_HOOKS === '1',
    upstreamLogin:
      e.UPSTREAM_AUTHORIZATION_URL &&
      e.UPSTREAM_TOKEN_URL &&
      e.UPSTREAM_USERINFO_URL &&
      e.UPSTREAM_CLIENT_ID &&
      e.UPSTREAM_CLIENT_SECRET
        ? {
            authorizationUrl: e.UPSTREAM_AUTHORIZATION_URL,
            tokenUrl: e.UPSTREAM_TOKEN_URL,
            userinfoUrl: e.UPSTREAM_USERINFO_URL,
            clientId: e.UPSTREAM_CLIENT_ID,
            clientSecret: e.UPSTREAM_CLIENT_SECRET,
            scope: e.UPSTREAM_SCOPE,
          }
        : undefined,
  };
}

/** The bus and events keys a service needs, parsed; a bad or missing one is a ConfigError naming it. */
function busKeys(
  service: ServiceName,
  req: ConfigRequirements,
  e: {
    BUS_SERVICE_PRIVATE_KEY?: string;
    BUS_SERVICE_PUBLIC_KEYS?: string;
    EVENTS_SIGNING_KEY?: string;
    EVENTS_PUBLIC_KEYS?: string;
  },
): Omit<ServiceConfig['bus'], 'prefix' | 'timeoutMs'> {
  const problems: string[] = [];
  const parse = <T>(name: string, value: string | undefined, parser: (v: string) => T): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return parser(value);
    } catch (err) {
      if (err instanceof BusKeyError) {
        problems.push(`${name}: ${err.message}`);
        return undefined;
      }
      throw err;
    }
  };
  const keys = req.busServer
    ? parse('BUS_SERVICE_PRIVATE_KEY', e.BUS_SERVICE_PRIVATE_KEY, parseServicePrivateKeys)
    : undefined;
  const publicKeys =
    parse('BUS_SERVICE_PUBLIC_KEYS', e.BUS_SERVICE_PUBLIC_KEYS, parseServicePublicKeys) ?? {};
  for (const callee of BUS_CALLEES[service]) {
    if (e.BUS_SERVICE_PUBLIC_KEYS !== undefined && !publicKeys[callee] && !problems.length) {
      problems.push(`BUS_SERVICE_PUBLIC_KEYS: needs the public key of ${callee} (${callee}=kid:key)`);
    }
  }
  const eventsSigningKey = EVENT_PUBLISHERS.includes(service)
    ? parse('EVENTS_SIGNING_KEY', e.EVENTS_SIGNING_KEY, parseEventSigningKey)
    : undefined;
  const eventsPublicKeys = EVENT_SUBSCRIBERS.includes(service)
    ? parse('EVENTS_PUBLIC_KEYS', e.EVENTS_PUBLIC_KEYS, parseEventPublicKeys)
    : undefined;
  if (problems.length) throw new ConfigError(problems);
  return { keys, publicKeys, eventsSigningKey, eventsPublicKeys };
}
