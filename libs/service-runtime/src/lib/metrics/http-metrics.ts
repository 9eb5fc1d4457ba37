import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import { tracer, tracingEnabled } from '../tracing/tracing';
import { histogram } from './metrics-registry';

/** Where the route template of a request is kept on the Node request (both Express and Fastify wrap it). */
const ROUTE = Symbol('broker.route');
/** The trace id of a request's server span, for its access log line. */
export const REQUEST_TRACE_ID = Symbol('broker.traceId');

type Labelled = IncomingMessage & { [ROUTE]?: string; [REQUEST_TRACE_ID]?: string };

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const httpDuration = () =>
  histogram<'route' | 'method' | 'status'>({
    name: 'broker_http_request_duration_seconds',
    help: 'HTTP requests by route template (never the raw path), method and status, with their latency',
    labelNames: ['route', 'method', 'status'],
  });

function join(...parts: unknown[]): string {
  const segments = parts
    .flatMap((p) => (Array.isArray(p) ? [p[0]] : [p]))
    .filter((p): p is string => typeof p === 'string' && p !== '' && p !== '/');
  return `/${segments.map((s) => s.replace(/^\/+|\/+$/g, '')).join('/')}`;
}

/**
 * A global guard that only labels: it runs before every other guard (global guards come first), so
 * even a request refused by an authentication guard is counted under its route template, taken
 * from the controller's metadata (`/api/v1/providers/:id`, never `/api/v1/providers/8c1f…`). Works
 * with Express and Fastify alike (the Node request is `req.raw` on Fastify, `req` on Express).
 */
@Injectable()
export class RouteLabelGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    labelHttpRoute(ctx.switchToHttp().getRequest(), ctx.getClass(), ctx.getHandler());
    return true;
  }
}

/**
 * Labels a request with a controller route's template, for a request answered ahead of Nest's
 * route pipeline (the gateway's hot token routes), which the guard above never sees.
 */
export function labelHttpRoute(
  req: { raw?: IncomingMessage } & IncomingMessage,
  controller: object,
  handler: object,
): void {
  const raw = (req.raw ?? req) as Labelled;
  raw[ROUTE] = routeTemplate(controller, handler);
}

/** Each route's template, built once (it was rebuilt from the metadata on every request). */
const templates = new WeakMap<object, Map<object, string>>();

function routeTemplate(controller: object, handler: object): string {
  let byController = templates.get(handler);
  if (!byController) templates.set(handler, (byController = new Map()));
  let template = byController.get(controller);
  if (template === undefined) {
    template = join(
      Reflect.getMetadata(PATH_METADATA, controller),
      Reflect.getMetadata(PATH_METADATA, handler),
    );
    byController.set(controller, template);
  }
  return template;
}

/**
 * Measures every request at the Node server, under whichever framework adapter: the framework's
 * `request` listeners are wrapped so that each request runs inside its server span (when tracing is
 * on) and is timed until its response finishes. A request no route took (404, refused by the body
 * or header checks before routing) is labelled `unmatched`.
 */
export function observeHttpServer(server: Server): void {
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (listeners.length === 0) return;
  server.removeAllListeners('request');
  const duration = httpDuration();
  server.on('request', (req: Labelled, res: ServerResponse) => {
    const start = process.hrtime.bigint();
    const method = METHODS.has(req.method ?? '') ? (req.method as string) : 'OTHER';
    // The public edge starts its own trace: a traceparent from the internet is not trusted.
    const span = tracingEnabled()
      ? tracer().startSpan(
          `HTTP ${method}`,
          { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
          ROOT_CONTEXT,
        )
      : undefined;
    if (span) req[REQUEST_TRACE_ID] = span.spanContext().traceId;
    res.once('close', () => {
      const route = req[ROUTE] ?? 'unmatched';
      const status = String(res.statusCode);
      duration.observe({ route, method, status }, Number(process.hrtime.bigint() - start) / 1e9);
      if (span) {
        span.updateName(`${method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
        if (res.statusCode >= 500) span.setStatus({ code: 2 });
        span.end();
      }
    });
    const run = () => {
      for (const listener of listeners) listener.call(server, req, res);
    };
    if (span) context.with(trace.setSpan(ROOT_CONTEXT, span), run);
    else run();
  });
}
