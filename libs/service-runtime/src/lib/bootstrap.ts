import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import { Logger } from 'nestjs-pino';
import { BusServer } from '@broker/bus';
import type { ServiceName } from '@broker/contracts';
import { ConfigError, ConfigRequirements, ServiceConfig, loadServiceConfig } from './config/service-config';
import { loadMigrationJobConfig } from './config/migration-job-config';
import type { DomainSchema } from './database/database.module';
import { runMigrationJob } from './database/migration-job';
import { startDraining } from './health/draining';
import { installAccessLog } from './logging/access-log';
import { logDestination, logRequestsWithHooks } from './logging/logging.module';
import { busServerTimer, observeBusServer } from './metrics/bus-metrics';
import { assertBusHandlers } from './startup-checks';

/**
 * A service's HTTP stack. Express is the default (the internal services serve only health checks
 * there); Fastify for a service whose HTTP path is hot (the gateway). With `configureHttp`, the hook
 * installs the service's own body handling and Nest's body parsers are off.
 */
export type HttpSetup =
  | {
      http?: 'express';
      configureHttp?: (app: NestExpressApplication, config: ServiceConfig) => void;
    }
  | {
      http: 'fastify';
      configureHttp?: (app: NestFastifyApplication, config: ServiceConfig) => void | Promise<void>;
      /** Fastify's answer to a request its router cannot read (e.g. a path that is not valid percent-encoding). */
      frameworkErrors?: (config: ServiceConfig) => NonNullable<FastifyServerOptions['frameworkErrors']>;
    };

interface ServiceBase extends ConfigRequirements {
  service: ServiceName;
  /** The app's root module for a given configuration. */
  module: (config: ServiceConfig) => DynamicModule;
  /** Consume this service's bus request queue. */
  busServer: boolean;
  /** The domains whose tables the service owns (and migrates); what a `MIGRATIONS=only` run applies. */
  domains?: readonly DomainSchema[];
}

export type ServiceDefinition = ServiceBase & HttpSetup;

/** The longest URL path segment Fastify's router takes as a route parameter (its default, 100, answers a longer id 404). */
const MAX_PARAM_LENGTH = 8 * 1024;

/** Each app's bus server, for the start-up check of its handlers. */
const busServers = new WeakMap<INestApplication, BusServer>();

/**
 * Start-up check, once the microservices are started (their handlers registered): every bus pattern
 * the owner map gives this service has a handler. Throws StartupCheckError naming the missing ones.
 */
export function checkBusHandlers(app: INestApplication, service: ServiceName): void {
  const server = busServers.get(app);
  assertBusHandlers(service, server ? server.getHandlers().keys() : null);
}

/** Builds the Nest application of a service (HTTP + optional bus server), not yet listening. */
export async function createServiceApp(
  def: ServiceDefinition,
  config: ServiceConfig,
): Promise<INestApplication> {
  const app = def.http === 'fastify' ? await fastifyApp(def, config) : await expressApp(def, config);
  if (def.busServer) {
    if (!config.bus.keys) throw new Error(`${def.service}: no bus key pair (BUS_SERVICE_PRIVATE_KEY)`);
    const server = new BusServer({
      redisUrl: config.redisUrl,
      keys: config.bus.keys,
      prefix: config.bus.prefix,
      service: def.service,
      onHandled: busServerTimer(),
    });
    // Its handled/invalid/dropped counters on /metrics (read at scrape time).
    observeBusServer(server);
    app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
    busServers.set(app, server);
  }
  return app;
}

async function expressApp(
  def: ServiceBase & Extract<HttpSetup, { http?: 'express' }>,
  config: ServiceConfig,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(def.module(config), {
    bufferLogs: true,
    bodyParser: !def.configureHttp,
  });
  // Client IPs (rate limits, logs) come from X-Forwarded-For only through the configured proxy hops.
  app.set('trust proxy', config.trustProxyHops);
  // API answers are not cached by validators (tokens are no-store): skip hashing every body for an ETag.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.useLogger(app.get(Logger));
  def.configureHttp?.(app, config);
  return app;
}

async function fastifyApp(
  def: ServiceBase & Extract<HttpSetup, { http: 'fastify' }>,
  config: ServiceConfig,
): Promise<INestApplication> {
  const adapter = new FastifyAdapter({
    // Client IPs (rate limits, logs) come from X-Forwarded-For only through the configured proxy hops.
    trustProxy: config.trustProxyHops,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    ...(def.frameworkErrors ? { frameworkErrors: def.frameworkErrors(config) } : {}),
  });
  // The access log as Fastify hooks rather than pino-http through Nest middleware (access-log.ts):
  // marked before the module is built, so its logging module applies no middleware.
  logRequestsWithHooks(config);
  const app = await NestFactory.create<NestFastifyApplication>(def.module(config), adapter, {
    bufferLogs: true,
    bodyParser: !def.configureHttp,
  });
  app.useLogger(app.get(Logger));
  installAccessLog(app.getHttpAdapter().getInstance(), {
    level: config.logLevel,
    service: config.service,
    destination: logDestination(),
  });
  await def.configureHttp?.(app, config);
  return app;
}

/**
 * Process entry point: validate config (exit 1 naming each bad variable), start, listen. With
 * `MIGRATIONS=only` it applies the schema migrations and exits instead (0 when done, 1 naming the
 * failing schema).
 */
export async function runService(def: ServiceDefinition): Promise<void> {
  let config: ServiceConfig;
  try {
    const migrationJob = loadMigrationJobConfig(process.env);
    if (migrationJob) {
      await runMigrationJob(def.service, def.domains ?? [], migrationJob).then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(
            `${def.service}: migrations failed: ${err instanceof Error ? err.message : String(err)}\n`,
          );
          process.exit(1);
        },
      );
      return;
    }
    config = loadServiceConfig(def.service, process.env, def);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${def.service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  try {
    const app = await createServiceApp(def, config);
    await app.startAllMicroservices();
    checkBusHandlers(app, def.service);
    await app.listen(config.port, config.host);
    const logger = app.get(Logger);
    logger.log(`${def.service} listening on http://${config.host}:${config.port}`);
    stopOnSignals(app, logger, config.shutdownDrainSeconds);
  } catch (err) {
    process.stderr.write(
      `${def.service}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
}

/**
 * SIGTERM/SIGINT: readiness answers 503 ("draining") at once while the service keeps serving for
 * `drainSeconds` (the load balancer's probe notices and stops sending), then stop taking work, let
 * in-flight requests and jobs finish (app.close runs the shutdown hooks, closes the bus server and
 * connections), and exit 0. A second signal exits at once.
 */
function stopOnSignals(app: INestApplication, logger: Logger, drainSeconds: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    startDraining();
    logger.log(`${signal} received: draining for ${drainSeconds} s, then shutting down`);
    new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000))
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exit(1);
        },
      );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
}
