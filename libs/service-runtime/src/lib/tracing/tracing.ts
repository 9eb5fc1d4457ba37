import { Context, ROOT_CONTEXT, Span, SpanKind, context, propagation, trace } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The tracer of the services (a no-op until `startTracing` registers a provider). */
export const tracer = () => trace.getTracer('oauth-broker');

let provider: NodeTracerProvider | undefined;

/**
 * Exports spans over OTLP/HTTP to `<endpoint>/v1/traces` (OTEL_EXPORTER_OTLP_ENDPOINT). Without an
 * endpoint nothing is registered: the OpenTelemetry API stays a no-op (no context kept, no span
 * object made), which is the near-zero local default. Once per process; later calls are ignored.
 */
export function startTracing(service: string, endpoint: string | undefined): void {
  if (!endpoint || provider) return;
  // Loaded only when tracing is on: the SDK and exporter cost ~300 ms of module loading, which every
  // process (the admin tool's each run included) would otherwise pay for nothing.
  const { W3CTraceContextPropagator } =
    require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const sdk = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }), {
        scheduledDelayMillis: 500,
      }),
    ],
  });
  // AsyncLocalStorage context manager and the W3C trace-context propagator, process-wide.
  provider.register({ propagator: new W3CTraceContextPropagator() });
}

/** Sends the spans still buffered (at shutdown). */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush().catch(() => undefined);
}

/** Whether spans are recorded (an exporter is configured). */
export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/** The W3C `traceparent` of the span active here, if any (what crosses the bus and goes into jobs). */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  if (!provider) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier['traceparent'];
}

/**
 * The context a received `traceparent` names. A malformed or hostile value is not an error: the
 * propagator ignores it and the work starts a trace of its own (nothing a caller sends can break
 * a request).
 */
export function contextFromTraceparent(traceparent: unknown): Context {
  if (typeof traceparent !== 'string' || traceparent.length > 128) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The trace id of the active span, for log lines. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const id = span.spanContext().traceId;
  return id === '00000000000000000000000000000000' ? undefined : id;
}

/** Runs `fn` in a new span (ended with its outcome); without a tracer provider only `fn` runs. */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  parent: Context,
  fn: (span?: Span) => Promise<T>,
  attributes: Record<string, string> = {},
): Promise<T> {
  if (!provider) return fn();
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: 2, message: err instanceof Error ? err.name : 'error' });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanKind };
