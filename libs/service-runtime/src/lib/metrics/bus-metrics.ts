import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { BUS_PATTERN_OWNERS, BusPattern, BusReply, BusRequest } from '@broker/contracts';
import {
  BusCallOptions,
  BusClientProxy,
  BusContext,
  BusRemoteError,
  BusServer,
  BusServerStats,
  BusTimeoutError,
  BusUnavailableError,
  DropReason,
} from '@broker/bus';
import {
  contextFromTraceparent,
  currentTraceparent,
  inSpan,
  tracer,
  tracingEnabled,
} from '../tracing/tracing';
import { SourceSet, counter, histogram } from './metrics-registry';

const serverDuration = () =>
  histogram<'pattern' | 'outcome'>({
    name: 'broker_bus_server_request_duration_seconds',
    help: 'Bus requests handled by this service, by pattern and outcome (ok or the error code), with their latency',
    labelNames: ['pattern', 'outcome'],
  });

const clientDuration = () =>
  histogram<'service' | 'pattern' | 'outcome'>({
    name: 'broker_bus_client_request_duration_seconds',
    help: 'Bus requests this process sent, by target service, pattern and outcome (ok, timeout, unavailable or the error code), with their latency',
    labelNames: ['service', 'pattern', 'outcome'],
  });

/** An error code as a label: code-shaped (`NOT_FOUND`) or `INTERNAL`, so a label set stays bounded. */
const codeLabel = (code: unknown): string =>
  typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? code : 'INTERNAL';

/** The outcome label of a failed bus call: a bounded set (known error codes), never a message. */
export function busOutcome(err: unknown): string {
  if (err instanceof BusTimeoutError) return 'timeout';
  if (err instanceof BusUnavailableError) return 'unavailable';
  if (err instanceof BusRemoteError) return err.code;
  return codeLabel((err as { code?: unknown } | null)?.code);
}

const busServers = new SourceSet<BusServer>();
let busServerMetrics = false;

/**
 * Exports a bus server's own counters (handled, invalid, dropped by reason) at scrape time: the
 * BusServer keeps them (`stats()`); they are read, not re-counted.
 */
export function observeBusServer(server: BusServer): () => void {
  if (!busServerMetrics) {
    busServerMetrics = true;
    const sum = (pick: (s: BusServerStats) => number) =>
      busServers.values().reduce((n, s) => n + pick(s.stats()), 0);
    counter<'reason'>({
      name: 'broker_bus_server_dropped_total',
      help: 'Bus requests dropped unanswered, by reason (malformed, expired, replayed, unopenable...): forged or late traffic',
      labelNames: ['reason'],
      collect() {
        this.reset();
        for (const s of busServers.values())
          for (const [reason, n] of Object.entries(s.stats().dropped))
            this.inc({ reason: reason as DropReason }, n);
      },
    });
    counter({
      name: 'broker_bus_server_invalid_total',
      help: 'Bus requests answered BAD_REQUEST because their payload failed its schema',
      collect() {
        this.reset();
        this.inc(sum((s) => s.invalid));
      },
    });
  }
  return busServers.add(server);
}

/**
 * Times every bus request this service handles, by pattern and outcome: the BusServer calls this
 * after each handler (`onHandled`), so timing costs no Nest interceptor. The outcome is `ok` or the
 * error code, kept to the bounded set of code shapes.
 */
export function busServerTimer(): (pattern: string, outcome: string, seconds: number) => void {
  const duration = serverDuration();
  return (pattern, outcome, seconds) =>
    duration.observe({ pattern, outcome: outcome === 'ok' ? outcome : codeLabel(outcome) }, seconds);
}

/**
 * Traces every bus request this service handles (a global interceptor, installed only when tracing
 * is on, so it wraps each `@MessagePattern` handler only then): the handler runs inside a server
 * span whose parent is the caller's traceparent, carried in the sealed body. Only patterns with a
 * handler get here, so forged requests cannot create spans of made-up names.
 */
@Injectable()
export class BusObserverInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Bus');

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'rpc' || !tracingEnabled()) return next.handle();
    const bus = ctx.switchToRpc().getContext<unknown>();
    if (!(bus instanceof BusContext)) return next.handle();
    const pattern = bus.getPattern();
    const start = process.hrtime.bigint();
    const parent = contextFromTraceparent(bus.getTraceparent());
    const span = tracer().startSpan(
      `bus ${pattern}`,
      { kind: SpanKind.SERVER, attributes: { 'messaging.operation': pattern } },
      parent,
    );
    const done = (outcome: string) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (outcome !== 'ok') span.setStatus({ code: 2, message: outcome });
      // Inside the span's context, so the line carries its trace id.
      context.with(trace.setSpan(parent, span), () =>
        this.logger.debug({ msg: 'bus request handled', pattern, outcome, ms: Math.round(seconds * 1000) }),
      );
      span.end();
    };
    return new Observable((subscriber) => {
      const subscription = context.with(trace.setSpan(parent, span), () =>
        next.handle().subscribe({
          next: (v) => subscriber.next(v),
          error: (err: unknown) => {
            done(busOutcome(err));
            subscriber.error(err);
          },
          complete: () => {
            done('ok');
            subscriber.complete();
          },
        }),
      );
      return () => subscription.unsubscribe();
    });
  }
}

/**
 * The bus client every service gets: the same calls, timed by pattern and outcome, each in a client
 * span whose traceparent is sealed into the request body (so the trace crosses Redis encrypted).
 */
export class ObservedBusClientProxy extends BusClientProxy {
  private readonly duration = clientDuration();

  override request<P extends BusPattern>(
    pattern: P,
    data: BusRequest<P>,
    options: BusCallOptions = {},
  ): Promise<BusReply<P>> {
    const service = options.service ?? BUS_PATTERN_OWNERS[pattern];
    return this.observe(service, pattern, options, (o) => super.request(pattern, data, o));
  }

  override call(
    service: string,
    pattern: string,
    data: unknown,
    options: BusCallOptions = {},
  ): Promise<unknown> {
    return this.observe(service, pattern, options, (o) => super.call(service, pattern, data, o));
  }

  override emitTo(
    service: string,
    pattern: string,
    data: unknown,
    options: BusCallOptions = {},
  ): Promise<void> {
    return this.observe(service, pattern, options, (o) => super.emitTo(service, pattern, data, o));
  }

  private async observe<T>(
    service: string,
    pattern: string,
    options: BusCallOptions,
    send: (o: BusCallOptions) => Promise<T>,
  ): Promise<T> {
    const start = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      return await inSpan(
        `bus ${pattern}`,
        SpanKind.CLIENT,
        context.active(),
        () => {
          const traceparent = currentTraceparent();
          return send(traceparent ? { ...options, traceparent } : options);
        },
        { 'messaging.operation': pattern, 'messaging.destination.name': service },
      );
    } catch (err) {
      outcome = busOutcome(err);
      throw err;
    } finally {
      this.duration.observe({ service, pattern, outcome }, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
}
