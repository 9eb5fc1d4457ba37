const CACHE_MS = 10_000;

/**
 * What this replica remembers of the registry's providers, one kind of answer per memo (the
 * credentials for provider calls, the secret-free summary for display): kept 10 s, dropped at once
 * when the registry announces a change of the provider, concurrent misses sharing one request, and
 * a read that was in flight when a change was announced not kept.
 */
export class ProviderMemo<T> {
  private readonly cache = new Map<string, { value: T | null; at: number }>();
  private readonly inflight = new Map<string, Promise<T | null>>();
  /** Bumped by every announced change of a key: a read started before it must not be cached. */
  private readonly epochs = new Map<string, number>();

  constructor(private readonly read: (orgId: string, providerId: string) => Promise<T | null>) {}

  get(orgId: string, providerId: string, options: { fresh?: boolean } = {}): Promise<T | null> {
    const key = `${orgId}\u0000${providerId}`;
    const hit = this.cache.get(key);
    if (hit && !options.fresh && Date.now() - hit.at < CACHE_MS) return Promise.resolve(hit.value);
    if (!options.fresh) {
      const shared = this.inflight.get(key);
      if (shared) return shared;
    }
    const epoch = this.epochs.get(key) ?? 0;
    const read = this.read(orgId, providerId).then((value) => {
      if ((this.epochs.get(key) ?? 0) === epoch) this.cache.set(key, { value, at: Date.now() });
      return value;
    });
    const tracked = read.finally(() => {
      if (this.inflight.get(key) === tracked) this.inflight.delete(key);
    });
    this.inflight.set(key, tracked);
    return tracked;
  }

  /** Forgets every provider (events may have been missed). */
  forgetAll(): void {
    for (const key of [...this.cache.keys(), ...this.inflight.keys()])
      this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
    this.cache.clear();
    this.inflight.clear();
  }

  /** Forgets a provider (after the registry announced a change). */
  forget(orgId: string, providerId: string): void {
    const key = `${orgId}\u0000${providerId}`;
    this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
    this.cache.delete(key);
    this.inflight.delete(key);
  }
}
