import type { BrokerMetricName } from './metric-catalogue';
import {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/**
 * The process's one metrics registry. A module-level singleton on purpose: several Nest apps can
 * live in one process (tests), and metric names are process-wide in Prometheus' model anyway; each
 * metric is created once (get-or-create) and every app instance feeds the same series.
 */
export const metricsRegistry = new Registry();

let defaultsStarted = false;

/** Process metrics (CPU, memory, event loop lag, GC, handles) once per process. */
export function startDefaultMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

/** Latency buckets (seconds) for ~1 ms bus calls up to multi-second provider round trips. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

function existing<T>(name: string): T | undefined {
  return metricsRegistry.getSingleMetric(name) as T | undefined;
}

/** The counter of that name (one of the catalogue's), created on first use. */
export function counter<L extends string>(
  config: Omit<CounterConfiguration<L>, 'registers' | 'name'> & { name: BrokerMetricName },
): Counter<L> {
  return existing<Counter<L>>(config.name) ?? new Counter<L>({ ...config, registers: [metricsRegistry] });
}

/** The gauge of that name, created on first use. */
export function gauge<L extends string>(
  config: Omit<GaugeConfiguration<L>, 'registers' | 'name'> & { name: BrokerMetricName },
): Gauge<L> {
  return existing<Gauge<L>>(config.name) ?? new Gauge<L>({ ...config, registers: [metricsRegistry] });
}

/** The histogram of that name, created on first use. */
export function histogram<L extends string>(
  config: Omit<HistogramConfiguration<L>, 'registers' | 'name'> & { name: BrokerMetricName },
): Histogram<L> {
  return (
    existing<Histogram<L>>(config.name) ??
    new Histogram<L>({ buckets: LATENCY_BUCKETS, ...config, registers: [metricsRegistry] })
  );
}

/**
 * Live sources a scrape-time metric reads (bus servers, queues): several can exist in one process
 * (tests), a closed one must stop counting.
 */
export class SourceSet<T> {
  private readonly items = new Set<T>();
  add(item: T): () => void {
    this.items.add(item);
    return () => this.items.delete(item);
  }
  values(): T[] {
    return [...this.items];
  }
}
