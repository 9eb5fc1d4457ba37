import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { PinoLogger } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';
import { REQUEST_TRACE_ID } from '../metrics/http-metrics';
import { redactSecrets, redactUrl } from './redaction';

/** The request headers an access line keeps: a few useful ones; a header not logged cannot leak. */
export const REQUEST_HEADERS = [
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'x-forwarded-for',
  'x-request-id',
] as const;

/** Requests not logged: the probes' health checks, several a second per replica. */
export function unlogged(url: string): boolean {
  return url.startsWith('/health');
}

/** The `req` of a request's log lines: id, method, the URL with secret parameters redacted, a few headers. */
export function requestFields(req: {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    id: req.id,
    method: req.method,
    url: req.url ? redactUrl(req.url) : req.url,
    headers: req.headers ? redactSecrets(pickHeaders(req.headers)) : undefined,
  };
}

/** The `res` of an access line: the status, and a redirect's target with its codes and states redacted. */
export function responseFields(statusCode: number | undefined, location: unknown): Record<string, unknown> {
  return typeof location === 'string'
    ? { statusCode, headers: { location: redactUrl(location) } }
    : { statusCode };
}

function pickHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of REQUEST_HEADERS) if (headers[name] !== undefined) out[name] = headers[name];
  return out;
}

type Traced = IncomingMessage & { [REQUEST_TRACE_ID]?: string };

/**
 * The access log as Fastify hooks (what pino-http did as Nest middleware through @fastify/middie,
 * which cost the gateway about a third of its CPU per request): one line per answered request,
 * written when the answer is sent (`onResponse`), with the same fields and redaction as pino-http's
 * line (`request completed`, or `request errored` with `err` for a 5xx), `trace_id` when the
 * request ran in a span. The line is built already redacted and written by a plain pino logger on
 * the service's log stream, so no serializer or redaction walk runs on it.
 *
 * The `onRequest` hook puts a request-scoped store in nestjs-pino's AsyncLocalStorage, as its
 * middleware did, so the app's own `Logger` lines written during a request still carry `req`; the
 * child logger behind it is made only when such a line is written.
 */
export function installAccessLog(
  fastify: FastifyInstance,
  options: { level: string; service: string; destination: pino.DestinationStream },
): void {
  const access = pino({ level: options.level, base: { service: options.service } }, options.destination);
  fastify.addHook('onRequest', (request, _reply, done) => {
    storage.run(new RequestStore(request) as unknown as Store, done);
  });
  if (!access.isLevelEnabled('info')) return;
  fastify.addHook('onResponse', (request, reply, done) => {
    if (!unlogged(request.url)) writeAccessLine(access, request, reply);
    done();
  });
  // A client gone before its answer was sent: no onResponse, still one line (pino-http logged it on 'close').
  fastify.addHook('onRequestAbort', (request, done) => {
    if (!unlogged(request.url)) {
      access.info(
        {
          req: requestFields({
            id: request.id,
            method: request.method,
            url: request.url,
            headers: request.headers,
          }),
        },
        'request aborted',
      );
    }
    done();
  });
}

function writeAccessLine(access: pino.Logger, request: FastifyRequest, reply: FastifyReply): void {
  const statusCode = reply.statusCode;
  const traceId = (request.raw as Traced)[REQUEST_TRACE_ID];
  const line: Record<string, unknown> = {
    req: requestFields({
      id: request.id,
      method: request.method,
      url: request.url,
      headers: request.headers,
    }),
    res: responseFields(statusCode, reply.getHeader('location')),
    responseTime: Math.round(reply.elapsedTime),
  };
  if (traceId) line['trace_id'] = traceId;
  if (statusCode >= 500) {
    line['err'] = { type: 'Error', message: `failed with status code ${statusCode}` };
    access.info(line, 'request errored');
  } else access.info(line, 'request completed');
}

/**
 * nestjs-pino's request store (what `PinoLogger` reads for each line written during the request:
 * `logger`, and `responseLogger`, unused here). The child (the root logger bound to this request's
 * `req`) is made on first use only: most requests write no line of their own.
 */
class RequestStore {
  readonly responseLogger = undefined;
  private child?: pino.Logger;

  constructor(private readonly request: FastifyRequest) {}

  get logger(): pino.Logger {
    if (!this.child) {
      const raw = this.request.raw as IncomingMessage & { id?: unknown };
      raw.id = this.request.id;
      this.child = PinoLogger.root.child({ req: raw });
    }
    return this.child;
  }
}
