import { DynamicModule } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { ServiceConfig } from '../config/service-config';
import { activeTraceId } from '../tracing/tracing';
import { redactSecrets } from './redaction';
import { requestFields, responseFields, unlogged } from './access-log';

/**
 * The configurations of services whose access log is written by Fastify hooks (`installAccessLog`,
 * installed by the bootstrap of a Fastify app), so that pino-http is not also run as middleware.
 */
const accessLogByHooks = new WeakSet<ServiceConfig>();

/** The readiness and liveness routes (health.controller.ts). */
const HEALTH_PROBES = ['health/live', 'health/ready'];

/** Called by the bootstrap before it builds a Fastify service's module: its access log is hooks. */
export function logRequestsWithHooks(config: ServiceConfig): void {
  accessLogByHooks.add(config);
}

/**
 * Structured JSON logs (pino) with secrets redacted: headers, secret-named fields, secret query
 * parameters. The access log is pino-http as Nest middleware on Express; on Fastify it is the
 * app's hooks (access-log.ts), and the middleware is not applied (`forRoutes: []`), which also
 * leaves Nest's @fastify/middie with nothing to run.
 */
export function loggingModule(config: ServiceConfig): DynamicModule {
  return LoggerModule.forRoot({
    // Not on the health probes (not logged anyway, see autoLogging): nestjs-pino binds each request's
    // logger with AsyncLocalStorage.run, and the first run() turns on Node's promise hooks for the
    // rest of the process. In a bus-only service (token-broker, registry, worker) the probes were the
    // only HTTP, and the hooks cost every bus request's promises (async_hooks in the replica's profile).
    ...(accessLogByHooks.has(config) ? { forRoutes: [] } : { exclude: HEALTH_PROBES }),
    pinoHttp: [
      {
        level: config.logLevel,
        base: { service: config.service },
        redact: {
          paths: [
            'req.headers.authorization',
            'req.headers.cookie',
            'req.headers["refreshed-token"]',
            'res.headers["set-cookie"]',
          ],
          censor: '[redacted]',
        },
        formatters: { log: (obj: Record<string, unknown>) => redactSecrets(obj) },
        // The trace id of the span active where a line is written (tracing on), to find a request's lines in every service.
        mixin: () => {
          const traceId = activeTraceId();
          return traceId ? { trace_id: traceId } : {};
        },
        serializers: {
          req: requestFields,
          // Redirects carry codes and states in their Location (the authorization responses).
          res: (res: { statusCode?: number; headers?: Record<string, unknown> }) =>
            responseFields(res.statusCode, res.headers?.['location']),
        },
        autoLogging: { ignore: (req: IncomingMessage) => unlogged(req.url ?? '') },
      },
      logDestination(),
    ],
  });
}

let destination: pino.DestinationStream | undefined;

/** Writes this process' logs to `stream` instead of stdout (tests read the lines); before any app is built. */
export function useLogDestination(stream: pino.DestinationStream): void {
  destination = stream;
}

/**
 * The process' log stream (one for the app's logger and the access log): stdout written in
 * batches (at least 4 KiB, or every 250 ms), not one write per line: a write is a system call, and
 * an access line per request made it a visible share of the gateway's CPU. pino flushes what is
 * left when the process exits (also on a fatal error); a SIGKILL loses at most the last 250 ms.
 */
export function logDestination(): pino.DestinationStream {
  if (destination) return destination;
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => {
    try {
      stream.flush();
    } catch {
      // not open yet, or nothing to write
    }
  }, 250).unref();
  destination = stream;
  return stream;
}
