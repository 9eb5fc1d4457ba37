import { z } from 'zod';
import type { ServiceName } from '@broker/contracts';
import { KeyringError, parseKeyring } from '@broker/crypto';
import { busKeys } from './bus-keys-config';
import { busPrefixSetting, clusterPrefixProblem, redisUrlSetting } from './redis-settings';
import { placeholderSecretProblems } from './placeholder-secrets';
import { queueDashboardConfig, queueDashboardSettings } from './queue-dashboard-config';
import { BUS_CALLEES, EVENT_PUBLISHERS, EVENT_SUBSCRIBERS } from './service-topology';
import { ConfigError, ConfigRequirements, MIGRATIONS_MODES, ServiceConfig } from './service-config.types';
import { intInRange, urlWithScheme, workerConcurrencySetting, workerQueuesSetting } from './setting-schemas';

export * from './service-config.types';
export { QUEUE_DASHBOARD_MODES, type QueueDashboardConfig } from './queue-dashboard-config';
export { BUS_CALLEES, EVENT_PUBLISHERS, EVENT_SUBSCRIBERS } from './service-topology';

const UPSTREAM_VARS = [
  'UPSTREAM_AUTHORIZATION_URL',
  'UPSTREAM_TOKEN_URL',
  'UPSTREAM_USERINFO_URL',
  'UPSTREAM_CLIENT_ID',
  'UPSTREAM_CLIENT_SECRET',
] as const;

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
    // Unset: on wherever EVENTS_PUBLIC_KEYS is given (npm start and the k8s config do), else off with a warning.
    GATEWAY_TOKEN_CACHE: z.enum(['on', 'off'], { message: 'must be on or off' }).optional(),
    GATEWAY_TOKEN_CACHE_MAX_ENTRIES: intInRange(1, 1_000_000).default(50_000),
    GATEWAY_TOKEN_CACHE_TTL_SECONDS: intInRange(1, 3_600).default(5),
    UPSTREAM_AUTHORIZATION_URL: urlWithScheme(['http:', 'https:']).optional(),
    UPSTREAM_TOKEN_URL: urlWithScheme(['http:', 'https:']).optional(),
    UPSTREAM_USERINFO_URL: urlWithScheme(['http:', 'https:']).optional(),
    UPSTREAM_CLIENT_ID: z.string().min(1).optional(),
    UPSTREAM_CLIENT_SECRET: z.string().min(1).optional(),
    UPSTREAM_SCOPE: z.string().min(1).default('openid email profile'),
    ...queueDashboardSettings,
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
  const dashboardProblems: string[] = [];
  const queueDashboard = queueDashboardConfig(e, dashboardProblems);
  if (dashboardProblems.length) throw new ConfigError(dashboardProblems);
  if (service === 'gateway' && e.GATEWAY_TOKEN_CACHE === 'on' && e.EVENTS_PUBLIC_KEYS === undefined) {
    // The cache is only as fresh as the events that invalidate it: without their keys it could not tell genuine from forged.
    // Asked for explicitly, a missing key stops the gateway; the default (unset) runs without the cache instead.
    throw new ConfigError(['EVENTS_PUBLIC_KEYS: required when GATEWAY_TOKEN_CACHE=on']);
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
    tokenCache: {
      enabled:
        service === 'gateway' &&
        (e.GATEWAY_TOKEN_CACHE ?? (e.EVENTS_PUBLIC_KEYS === undefined ? 'off' : 'on')) === 'on',
      offWithoutEventKeys:
        service === 'gateway' && e.GATEWAY_TOKEN_CACHE === undefined && e.EVENTS_PUBLIC_KEYS === undefined,
      maxEntries: e.GATEWAY_TOKEN_CACHE_MAX_ENTRIES,
      ttlMs: e.GATEWAY_TOKEN_CACHE_TTL_SECONDS * 1000,
    },
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
    queueDashboard,
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
