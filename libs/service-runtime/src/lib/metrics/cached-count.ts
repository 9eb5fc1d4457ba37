import type { BrokerMetricName } from './metric-catalogue';
import { gauge } from './metrics-registry';

/**
 * A value computed by a query that is too costly to run on every scrape (a GROUP BY over every
 * authorization): computed at most once per `ttlMs`, one computation at a time; a failed one keeps
 * the last value (a scrape never waits on, nor fails with, a slow database).
 */
export class CachedCount<T> {
  private value?: T;
  private at = 0;
  private running?: Promise<void>;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly ttlMs = 60_000,
  ) {}

  /** The last value; starts a recomputation when it is older than the TTL (awaited only on the first read). */
  async get(): Promise<T | undefined> {
    if (Date.now() - this.at >= this.ttlMs && !this.running) {
      this.running = this.compute()
        .then(
          (v) => {
            this.value = v;
            this.at = Date.now();
          },
          () => {
            // Try again at the next scrape after a short pause, not at once.
            this.at = Date.now() - this.ttlMs + 5_000;
          },
        )
        .finally(() => (this.running = undefined));
    }
    // Nothing computed yet: wait for the computation under way (every concurrent first scrape).
    if (this.value === undefined && this.running) await this.running;
    return this.value;
  }
}

/** Help text of `broker_encrypted_values`, fed by each domain that keeps encrypted values. */
export const ENCRYPTED_VALUES_HELP =
  'Values encrypted under each key id, by domain (a retired key may be removed once its count is 0; counted every METRICS_COUNT_INTERVAL_SECONDS)';

/** One labelled value of a counted gauge. */
export interface CountRow {
  labels: Record<string, string>;
  value: number;
}

const countedSources = new Map<string, Map<string, CachedCount<CountRow[]>>>();

/**
 * A gauge whose values come from a periodic count in the database (authorizations by status,
 * values per encryption key...): the query runs at most once per `ttlMs` (60 s by default),
 * whatever the scrape rate. Several parts may feed one gauge under different `part` names (each
 * domain its own tables); the last app to register a part feeds it (one process may host several
 * apps in tests; they share the database).
 */
export function countedGauge<L extends string>(
  config: { name: BrokerMetricName; help: string; labelNames: readonly L[]; part?: string; ttlMs?: number },
  count: () => Promise<CountRow[]>,
): () => void {
  const source = new CachedCount(count, config.ttlMs ?? 60_000);
  const part = config.part ?? '';
  const parts = countedSources.get(config.name) ?? new Map<string, CachedCount<CountRow[]>>();
  countedSources.set(config.name, parts);
  parts.set(part, source);
  gauge<L>({
    name: config.name,
    help: config.help,
    labelNames: config.labelNames,
    async collect() {
      const all = await Promise.all(
        [...(countedSources.get(config.name)?.values() ?? [])].map((p) => p.get()),
      );
      this.reset();
      for (const rows of all)
        for (const row of rows ?? []) this.set(row.labels as Partial<Record<L, string>>, row.value);
    },
  });
  return () => {
    if (parts.get(part) === source) parts.delete(part);
  };
}
