import type { OAuthUser } from '@broker/contracts';
import type { AdapterClient } from './adapter';
import { standardAdapterFor } from './adapters';
import type { ProviderClient, ProviderTokenSet } from './provider-call';
import { fromExplicitEndpoints, type ResolvedProvider } from './resolve';

export { ProviderCallError, classify, normalizeUser } from './provider-call';
export type { ProviderClient, ProviderTokenSet } from './provider-call';

/*
 * The functions the token path, the consent flow and the worker called before there were adapters.
 * Each delegates to the adapter of `provider.type`; a provider object without a `type` (a partial
 * one, as some tests build) gets the standard behaviour, as before.
 */

/** A full ResolvedProvider from whatever the caller passed (missing facts get the generic OAuth 2.0 defaults). */
export function asResolvedProvider(
  provider: Partial<ResolvedProvider> & Pick<ResolvedProvider, 'endpoints'>,
): ResolvedProvider {
  if (isResolved(provider)) return provider;
  return {
    ...fromExplicitEndpoints(provider.endpoints, provider.endpoints.tokenUrl),
    ...provider,
  } as ResolvedProvider;
}

function isResolved(p: Partial<ResolvedProvider>): p is ResolvedProvider {
  return (
    typeof p.type === 'string' &&
    p.revocation !== undefined &&
    p.metadata !== undefined &&
    p.endpoints !== undefined
  );
}

function adapterClient<
  C extends { provider: Partial<ResolvedProvider> & Pick<ResolvedProvider, 'endpoints'> },
>(c: C): Omit<C, 'provider'> & { provider: ResolvedProvider } {
  return { ...c, provider: asResolvedProvider(c.provider) };
}

/** The authorization URL the user is sent to (PKCE S256 when given a challenge and the provider takes it). */
export function authorizationUrl(
  provider: Pick<ResolvedProvider, 'endpoints' | 'scopeSeparator' | 'extraAuthorizationParams'>,
  params: {
    clientId: string;
    redirectUri: string;
    scopes: string[];
    state: string;
    codeChallenge?: string;
    forceConsent?: boolean;
  },
): string {
  const resolved = asResolvedProvider(provider);
  return standardAdapterFor(resolved).authorizationUrl(resolved, params);
}

/** Exchanges an authorization code (with the PKCE verifier when one was used). */
export async function exchangeCode(
  c: ProviderClient,
  params: { code: string; redirectUri: string; codeVerifier?: string; iss?: string },
): Promise<ProviderTokenSet> {
  const client: AdapterClient = adapterClient(c);
  return standardAdapterFor(client.provider).exchangeCode(client, params);
}

/** Uses a refresh token; the answer may carry a new (rotated) refresh token or none. */
export async function refreshTokens(c: ProviderClient, refreshToken: string): Promise<ProviderTokenSet> {
  const client: AdapterClient = adapterClient(c);
  return standardAdapterFor(client.provider).refresh(client, refreshToken);
}

/** The provider's user behind an access token, normalized to seed 000's `oauth.User` (the answer kept in `raw`). */
export async function fetchUserInfo(
  c: Omit<ProviderClient, 'clientSecret'>,
  accessToken: string,
): Promise<OAuthUser> {
  const client = adapterClient(c);
  return standardAdapterFor(client.provider).userInfo(client, accessToken);
}
