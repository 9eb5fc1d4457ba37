import { LoadingCache } from '@broker/service-runtime';

const CACHE_MS = 10_000;
const MAX_PROVIDERS = 10_000;

/**
 * What this replica remembers of the registry's providers, one kind of answer per memo (the
 * credentials for provider calls, the secret-free summary for display): kept 10 s, dropped at once
 * when the registry announces a change of the provider, concurrent misses sharing one request, and
 * a read that was in flight when a change was announced not kept (the shared LoadingCache's rules).
 */
export class ProviderMemo<T> {
  private readonly cache = new LoadingCache<string, T | null>({ max: MAX_PROVIDERS, ttlMs: CACHE_MS });

  constructor(private readonly read: (orgId: string, providerId: string) => Promise<T | null>) {}

  get(orgId: string, providerId: string, options: { fresh?: boolean } = {}): Promise<T | null> {
    return this.cache.get(key(orgId, providerId), () => this.read(orgId, providerId), options);
  }

  /** Forgets every provider (events may have been missed). */
  forgetAll(): void {
    this.cache.clear();
  }

  /** Forgets a provider (after the registry announced a change). */
  forget(orgId: string, providerId: string): void {
    this.cache.forget(key(orgId, providerId));
  }
}

function key(orgId: string, providerId: string): string {
  return `${orgId}\u0000${providerId}`;
}
