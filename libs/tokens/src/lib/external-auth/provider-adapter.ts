import { adapterFor, type ProviderAdapter, type ResolvedProvider } from '@broker/provider-adapters';

/** The adapter of a provider: every call of the tokens domain to a provider goes through it. */
export function adapterOf(provider: ResolvedProvider): ProviderAdapter {
  return adapterFor(provider);
}
