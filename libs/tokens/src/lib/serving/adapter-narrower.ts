import { createHash } from 'node:crypto';
import type { TokenRestriction } from '@broker/contracts';
import { adapterFor, ProviderCallError } from '@broker/provider-adapters';
import { LoadingCache } from '@broker/service-runtime';
import { canonicalJson } from '../ledger/token-ledger';
import { ProviderAccess } from '../ports';
import { TokensError } from '../tokens-error';
import type { ServedToken } from '../token-path';
import type { NarrowedToken } from './consumer-tokens';

export interface AdapterNarrowerOptions {
  /** A derived token is served from memory until this long before it expires. */
  marginMs: number;
  /** How long a derived token without a known expiry is reused. */
  noExpiryReuseMs: number;
  maxEntries: number;
  timeoutMs: number;
}

export const DEFAULT_ADAPTER_NARROWER_OPTIONS: AdapterNarrowerOptions = {
  marginMs: 60_000,
  noExpiryReuseMs: 300_000,
  maxEntries: 10_000,
  timeoutMs: 10_000,
};

/**
 * Narrower tokens minted by the provider's adapter (Box downscoping, GitHub scoped user tokens),
 * cached per (authorization, parent token, restriction): the same consumer asking the same
 * restriction again is served the same derived token until shortly before it expires, and a new
 * parent token (after a refresh) derives a new one. Concurrent misses share one provider call.
 * Kept in this process's memory only, like the token path's own hot copies.
 */
export class AdapterNarrower {
  private readonly cache: LoadingCache<string, NarrowedToken | null>;

  constructor(
    private readonly providers: ProviderAccess,
    private readonly fetchImpl: typeof fetch,
    private readonly options: AdapterNarrowerOptions = DEFAULT_ADAPTER_NARROWER_OPTIONS,
  ) {
    this.cache = new LoadingCache({
      max: options.maxEntries,
      // A derived token is kept until shortly before it expires; "no narrowing" (null) is not kept.
      ttlMs: (token) =>
        !token
          ? 0
          : token.expiresAt
            ? token.expiresAt.getTime() - options.marginMs - Date.now()
            : options.noExpiryReuseMs,
    });
  }

  /** Bound as the TokenNarrower of ConsumerTokens. */
  readonly narrow = async (
    orgId: string,
    served: ServedToken,
    want: TokenRestriction,
  ): Promise<NarrowedToken | null> => {
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          orgId,
          served.authorizationId,
          createHash('sha256').update(served.accessToken).digest('base64'),
          canonicalJson(want),
        ]),
      )
      .digest('base64url');
    return this.cache.get(key, () => this.mint(orgId, served, want));
  };

  /** How many derived tokens are held (tests). */
  get size(): number {
    return this.cache.size;
  }

  private async mint(
    orgId: string,
    served: ServedToken,
    want: TokenRestriction,
  ): Promise<NarrowedToken | null> {
    const credentials = await this.providers(orgId, served.providerId);
    if (!credentials) throw new TokensError('NOT_FOUND', 'authorization not found');
    const adapter = adapterFor(credentials.resolved);
    if (
      !adapter.narrow ||
      !adapter.narrowing?.(credentials.resolved).some((part) => want[part] !== undefined)
    )
      return null;
    try {
      const narrowed = await adapter.narrow(
        {
          provider: credentials.resolved,
          clientId: credentials.provider.clientId,
          clientSecret: credentials.clientSecret,
          fetch: this.fetchImpl,
          timeoutMs: this.options.timeoutMs,
        },
        served.accessToken,
        want,
      );
      if (!narrowed) return null;
      return {
        accessToken: narrowed.accessToken,
        tokenType: narrowed.tokenType,
        expiresAt: narrowed.expiresAt ?? null,
        scopes: narrowed.scopes,
        enforced: narrowed.enforced,
      };
    } catch (err) {
      const failure =
        err instanceof ProviderCallError
          ? err
          : new ProviderCallError('transient', 'the provider could not be reached');
      if (failure.kind === 'transient')
        throw new TokensError('UNAVAILABLE', 'The provider did not answer the narrowing request; try again.');
      // The provider would not mint it (repositories the user cannot reach, permissions beyond the grant...).
      throw new TokensError(
        'UNPROCESSABLE',
        `The provider refused to narrow the token: ${failure.message}.`,
        [{ name: 'restriction', message: failure.message }],
      );
    }
  }
}
