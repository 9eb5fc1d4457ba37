import { DynamicModule } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { ServiceConfig } from '../config/service-config';
import { activeTraceId } from '../tracing/tracing';
import { redactSecrets, redactUrl } from './redaction';

const REQUEST_HEADERS = [
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'x-forwarded-for',
  'x-request-id',
];

/** The readiness and liveness routes (health.controller.ts). */
const HEALTH_PROBES = ['health/live', 'health/ready'];

function pick(headers: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (headers[name] !== undefined) out[name] = headers[name];
  return out;
}

/** Structured JSON logs (pino) with secrets redacted: headers, secret-named fields, secret query parameters. */
export function loggingModule(config: ServiceConfig): DynamicModule {
  return LoggerModule.forRoot({
    // Not on the health probes (not logged anyway, see autoLogging): nestjs-pino binds each request's
    // logger with AsyncLocalStorage.run, and the first run() turns on Node's promise hooks for the
    // rest of the process. In a bus-only service (token-broker, registry, worker) the probes were the
    // only HTTP, and the hooks cost every bus request's promises (async_hooks in the replica's profile).
    exclude: HEALTH_PROBES,
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
          req: (req: { id?: unknown; method?: string; url?: string; headers?: Record<string, unknown> }) => ({
            id: req.id,
            method: req.method,
            url: req.url ? redactUrl(req.url) : req.url,
            // A few useful headers, not all of them: an access line per request must stay cheap, and
            // a header we do not log cannot leak (credentials travel in headers).
            headers: req.headers ? redactSecrets(pick(req.headers, REQUEST_HEADERS)) : undefined,
          }),
          // Redirects carry codes and states in their Location (the authorization responses).
          res: (res: { statusCode?: number; headers?: Record<string, unknown> }) => {
            const location = res.headers?.['location'];
            return typeof location === 'string'
              ? { statusCode: res.statusCode, headers: { location: redactUrl(location) } }
              : { statusCode: res.statusCode };
          },
        },
        autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
      },
      bufferedStdout(),
    ],
  });
}

/**
 * stdout written in batches (at least 4 KiB, or every 250 ms), not one write per line: a write is
 * a system call, and an access line per request made it a visible share of the gateway's CPU. pino
 * flushes what is left when the process exits (also on a fatal error); a SIGKILL loses at most the
 * last 250 ms.
 */
function bufferedStdout(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => {
    try {
      stream.flush();
    } catch {
      // not open yet, or nothing to write
    }
  }, 250).unref();
  return stream;
}
