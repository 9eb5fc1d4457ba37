import * as oauth from 'oauth4webapi';
import type { AdapterClient, RevocationOutcome } from '../adapter';

/**
 * RFC 7009 token revocation through oauth4webapi, with the client authentication the provider's
 * token endpoint uses (`none`: only `client_id`, e.g. Google's endpoint). Bounded by the client's
 * timeout; never throws, so a caller can remove the link whatever happened.
 */
export async function revokeRfc7009(
  c: AdapterClient,
  url: string,
  token: { value: string; hint?: 'refresh_token' | 'access_token' },
  clientAuthentication?: 'none',
): Promise<RevocationOutcome> {
  try {
    const as: oauth.AuthorizationServer = {
      issuer: c.provider.endpoints.issuer ?? new URL(url).origin,
      revocation_endpoint: url,
    };
    const auth =
      clientAuthentication === 'none'
        ? oauth.None()
        : c.provider.tokenEndpointAuthMethod === 'client_secret_post'
          ? oauth.ClientSecretPost(c.clientSecret)
          : oauth.ClientSecretBasic(c.clientSecret);
    const additionalParameters = token.hint ? { token_type_hint: token.hint } : undefined;
    const response = await oauth.revocationRequest(as, { client_id: c.clientId }, auth, token.value, {
      [oauth.customFetch]: c.fetch,
      [oauth.allowInsecureRequests]: url.startsWith('http:'),
      signal: AbortSignal.timeout(revocationTimeoutMs(c)),
      additionalParameters,
    });
    await oauth.processRevocationResponse(response);
    return { revoked: true };
  } catch (err) {
    return revocationFailure(err);
  }
}

/** A revocation waits 5 s unless the client says otherwise (it runs while a user waits to unlink). */
export function revocationTimeoutMs(c: Pick<AdapterClient, 'timeoutMs'>): number {
  return c.timeoutMs ?? 5_000;
}

/** The error or any of its causes is an abort (our timeout). */
function timedOut(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
  }
  return false;
}

/** A failed revocation, described without the token or the client secret. */
export function revocationFailure(err: unknown): RevocationOutcome {
  return { revoked: false, error: describe(err) };
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
