import { ROOT_CONTEXT, SpanKind, context, propagation, trace } from '@opentelemetry/api';

/**
 * Traces across the queues: a job added while a span is active carries its W3C `traceparent` in its
 * data (an id, not a secret), and its processing runs in a span under it. Only the OpenTelemetry
 * API is used here: without a tracer provider (tracing off, the default) nothing is added and the
 * spans are no-ops.
 */
export function withTraceparent<T>(payload: T): T {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier['traceparent'] || payload === null || typeof payload !== 'object') return payload;
  return { ...payload, traceparent: carrier['traceparent'] };
}

/**
 * The job's data without its `traceparent`, and the traceparent if it is a plausible one. Job data
 * comes from Redis and is untrusted: a bad traceparent only starts a new trace; the rest of the
 * data is validated against the job's schema as before.
 */
export function splitTraceparent(data: unknown): { data: unknown; traceparent?: string } {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || !('traceparent' in data))
    return { data };
  const { traceparent, ...rest } = data as Record<string, unknown>;
  return {
    data: rest,
    traceparent: typeof traceparent === 'string' && traceparent.length <= 128 ? traceparent : undefined,
  };
}

/** Runs a job's handler in a consumer span, child of the span that added the job (if any). */
export async function inJobSpan<T>(
  queue: string,
  name: string,
  traceparent: string | undefined,
  run: () => Promise<T>,
): Promise<T> {
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  const span = trace.getTracer('oauth-broker').startSpan(
    `job ${queue} ${name}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.destination.name': queue, 'messaging.operation': name },
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), run);
  } catch (err) {
    span.setStatus({ code: 2, message: err instanceof Error ? err.name : 'error' });
    throw err;
  } finally {
    span.end();
  }
}
