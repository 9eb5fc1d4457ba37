import { AdapterClient, ProviderAdapter, ResolvedProvider, adapterFor } from '@broker/provider-adapters';

/** What a provider answered to a revocation (named through the adapter port, the one door to providers). */
export type UpstreamRevocationOutcome = Awaited<ReturnType<ProviderAdapter['revoke']>>;

/** How long one revocation call may take (a provider that is down must not hold a removal up). */
export const REVOKE_TIMEOUT_MS = 5_000;

/** The token an upstream revocation ends: the refresh token when there is one (it ends the grant), else the access token. */
export interface RevocableToken {
  value: string;
  hint: 'refresh_token' | 'access_token';
}

/** What revoking at a provider needs: what the catalogue resolved, the client and its secret. */
export interface RevocationClient {
  resolved: ResolvedProvider;
  clientId: string;
  clientSecret: string;
}

/**
 * The one way a token is revoked at its provider, for an unlink (the user, a blast-radius job) and
 * for a provider's deletion (the worker's workflow): through the provider's adapter, bounded by
 * REVOKE_TIMEOUT_MS. Never rejects: the removal that follows happens whatever the provider answers.
 */
export async function revokeUpstream(
  client: RevocationClient,
  token: RevocableToken,
  fetchImpl: AdapterClient['fetch'],
): Promise<UpstreamRevocationOutcome> {
  try {
    return await adapterFor(client.resolved).revoke(
      {
        provider: client.resolved,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        fetch: fetchImpl,
        timeoutMs: REVOKE_TIMEOUT_MS,
      },
      token,
    );
  } catch (err) {
    // Adapters never throw from revoke; this keeps the promise from rejecting whatever a new one does.
    return { revoked: false, error: err instanceof Error ? err.message : 'revocation failed' };
  }
}
