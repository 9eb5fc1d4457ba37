import * as oauth from 'oauth4webapi';
import type { ResolvedProvider } from './resolve';

export interface RevokeTokenInput {
  provider: Pick<ResolvedProvider, 'revocation' | 'tokenEndpointAuthMethod' | 'endpoints'>;
  clientId: string;
  clientSecret: string;
  token: string;
  tokenTypeHint?: 'refresh_token' | 'access_token';
  /** `none`: the revocation endpoint takes no client authentication (only `client_id`, e.g. Google's). */
  clientAuthentication?: 'none';
  /** A guarded fetch (egress policy); every call goes through it. */
  fetch: typeof fetch;
  timeoutMs?: number;
}

/** What became of a revocation: never thrown, so a caller can remove the link whatever happened. */
export interface RevocationOutcome {
  revoked: boolean;
  /** The provider has no revocation API (not a failure: the user revokes in the provider's settings). */
  unsupported?: boolean;
  /** Why it failed (never contains the token or the client secret). */
  error?: string;
}

/**
 * Revokes a token at its provider, the provider's way: RFC 7009 (through oauth4webapi, with the
 * client authentication the provider's token endpoint uses) or GitHub's grant API (which removes
 * the user's whole authorization of the app). Bounded by a timeout; never throws. No provider
 * quirks beyond the revocation descriptor: the adapters call this, callers call `revokeToken`.
 */
export async function revokeTokenDirect(input: RevokeTokenInput): Promise<RevocationOutcome> {
  const { revocation } = input.provider;
  const timeoutMs = input.timeoutMs ?? 5_000;
  try {
    if (revocation.kind === 'none') return { revoked: false, unsupported: true };
    if (revocation.kind === 'github-grant') {
      const res = await input.fetch(
        revocation.url.replace('{client_id}', encodeURIComponent(input.clientId)),
        {
          method: 'DELETE',
          headers: {
            authorization: `Basic ${Buffer.from(`${input.clientId}:${input.clientSecret}`).toString('base64')}`,
            accept: 'application/vnd.github+json',
            'content-type': 'application/json',
            'x-github-api-version': '2022-11-28',
          },
          body: JSON.stringify({ access_token: input.token }),
          signal: AbortSignal.timeout(timeoutMs),
        },
      );
      if (res.status === 204) return { revoked: true };
      // GitHub answers 404 both for a grant that is already gone and for wrong client credentials
      // (it hides which): not a confirmed revocation, so say what it may mean.
      if (res.status === 404)
        return {
          revoked: false,
          error: 'GitHub answered 404: the grant is already gone, or the app’s client credentials are wrong',
        };
      return { revoked: false, error: `GitHub answered ${res.status}` };
    }
    const as: oauth.AuthorizationServer = {
      issuer: input.provider.endpoints.issuer ?? new URL(revocation.url).origin,
      revocation_endpoint: revocation.url,
    };
    const client: oauth.Client = { client_id: input.clientId };
    const auth =
      input.clientAuthentication === 'none'
        ? oauth.None()
        : input.provider.tokenEndpointAuthMethod === 'client_secret_post'
          ? oauth.ClientSecretPost(input.clientSecret)
          : oauth.ClientSecretBasic(input.clientSecret);
    const additionalParameters = input.tokenTypeHint ? { token_type_hint: input.tokenTypeHint } : undefined;
    const response = await oauth.revocationRequest(as, client, auth, input.token, {
      [oauth.customFetch]: input.fetch,
      [oauth.allowInsecureRequests]: revocation.url.startsWith('http:'),
      signal: AbortSignal.timeout(timeoutMs),
      additionalParameters,
    });
    await oauth.processRevocationResponse(response);
    return { revoked: true };
  } catch (err) {
    return { revoked: false, error: describe(err) };
  }
}

/** The error or any of its causes is an abort (our timeout). */
function timedOut(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
  }
  return false;
}

function describe(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) return `the provider refused: ${err.error}`;
  if (err instanceof oauth.WWWAuthenticateChallengeError)
    return 'the provider refused the client credentials';
  if (timedOut(err)) return 'the provider did not answer in time';
  if (err instanceof Error && err.name === 'EgressDeniedError') return err.message;
  if (err instanceof oauth.OperationProcessingError)
    return `unexpected answer from the provider (${err.message})`;
  return 'the provider could not be reached';
}
