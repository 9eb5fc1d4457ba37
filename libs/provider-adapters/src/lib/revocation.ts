import { standardAdapterFor } from './adapters';
import { asResolvedProvider } from './oauth-calls';
import { revokeTokenDirect, type RevocationOutcome, type RevokeTokenInput } from './revocation-direct';

export type { RevocationOutcome, RevokeTokenInput } from './revocation-direct';

/**
 * Revokes a token at its provider, the provider's way (the adapter of `provider.type`: RFC 7009,
 * GitHub's grant API, or `unsupported`). Bounded by a timeout; never throws, so a caller can
 * remove the link whatever happened. A provider object without a `type` gets the revocation its
 * descriptor names.
 */
export async function revokeToken(input: RevokeTokenInput): Promise<RevocationOutcome> {
  const provider = input.provider as Parameters<typeof asResolvedProvider>[0];
  if (typeof provider.type !== 'string') return revokeTokenDirect(input);
  try {
    const resolved = asResolvedProvider(provider);
    return await standardAdapterFor(resolved).revoke(
      {
        provider: resolved,
        clientId: input.clientId,
        clientSecret: input.clientSecret,
        fetch: input.fetch,
        timeoutMs: input.timeoutMs ?? 5_000,
      },
      { value: input.token, hint: input.tokenTypeHint },
    );
  } catch {
    return { revoked: false, error: 'revocation failed' };
  }
}
