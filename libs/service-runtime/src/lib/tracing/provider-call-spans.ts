import { subscribe } from 'node:diagnostics_channel';
import { Span, SpanKind, context, trace } from '@opentelemetry/api';
import { tracer, tracingEnabled } from './tracing';

interface UndiciRequest {
  method?: string;
  origin?: string | URL;
}

let installed = false;

/**
 * A client span for every outbound HTTP call made through undici (the guarded fetch every provider
 * call goes through, and webhook deliveries) while a traced request or job is active: found through
 * undici's diagnostics channels, so the provider adapters need no tracing code. The span names the
 * provider's origin only (no path, no query: nothing of a code or token). No traceparent header is
 * sent to providers: they are outside parties.
 */
export function traceOutboundCalls(): void {
  if (installed || !tracingEnabled()) return;
  installed = true;
  const spans = new WeakMap<object, Span>();
  subscribe('undici:request:create', (message) => {
    const { request } = message as { request: UndiciRequest };
    const parent = context.active();
    if (!trace.getSpan(parent)) return;
    const origin = String(request.origin ?? '');
    spans.set(
      request,
      tracer().startSpan(
        `HTTP ${request.method ?? 'GET'} ${origin}`,
        { kind: SpanKind.CLIENT, attributes: { 'server.address': origin } },
        parent,
      ),
    );
  });
  subscribe('undici:request:headers', (message) => {
    const { request, response } = message as { request: object; response: { statusCode: number } };
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: 2 });
    span.end();
    spans.delete(request);
  });
  subscribe('undici:request:error', (message) => {
    const { request } = message as { request: object };
    const span = spans.get(request);
    if (!span) return;
    span.setStatus({ code: 2, message: 'request failed' });
    span.end();
    spans.delete(request);
  });
}
