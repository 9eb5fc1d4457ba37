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
      this.running = this.compute().then(
        (v) => {
          this.value = v;
          this.at = Date.now();
        },
        () => {
          // Try again at the next scrape after a short pause, not at once.
          this.at = Date.now() - this.ttlMs + 5_000;
        },
      ).finally(() => (this.running = undefined));
      if (this.value === undefined) await this.running;
    }
    return this.value;
  }
}
