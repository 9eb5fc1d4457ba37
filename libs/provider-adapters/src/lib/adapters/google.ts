import type { AdapterClient, ConsentPrompt } from '../adapter';
import { ProviderCallError, throwIfTransient } from '../provider-call';
import type { ResolvedProvider } from '../resolve';
import { DEFAULT_TIMEOUT_MS, isObject, jsonResponse, mediaType } from './http';
import { StandardAdapter, asObject, validity } from './standard';

/**
 * Google. Standard OAuth 2.0 / OIDC with PKCE, RFC 7009 revocation and the device flow, plus:
 * - a refresh token only with `access_type=offline` and, on later consents, `prompt=consent`
 *   (catalogue); `include_granted_scopes=true` for incremental authorization (here);
 * - a re-consent or a refresh may answer without a refresh token: the adapter returns none and
 *   the caller keeps the one it has (Google's refresh tokens do not rotate);
 * - the device authorization answer names the page `verification_url` (RFC 8628:
 *   `verification_uri`); polls answer `authorization_pending` with 428 and `slow_down` /
 *   `access_denied` with 403 (RFC error names, so the standard mapping holds);
 * - revocation takes the token alone (`POST https://oauth2.googleapis.com/revoke`, form `token`):
 *   no client secret is sent there;
 * - a token is validated at `POST https://oauth2.googleapis.com/tokeninfo` (form `access_token`,
 *   so the token stays out of URLs), which works whatever the token's scopes (userinfo needs
 *   `openid`), answers 400 `invalid_token` for a dead one, and names the client the token was
 *   issued to (`aud` / `azp`), which must be ours.
 */
export class GoogleAdapter extends StandardAdapter {
  constructor() {
    super('google');
  }

  protected override authorizationParams(): Record<string, string> {
    return { include_granted_scopes: 'true' };
  }

  /** `prompt=consent` (catalogue) unless the provider skips consent: then a re-consent may bring no refresh token (the stored one is kept). */
  protected override consentPrompt(): ConsentPrompt {
    return 'optional';
  }

  protected override async normalizeResponse(res: Response, provider: ResolvedProvider): Promise<Response> {
    if (res.ok && mediaType(res) === 'application/json') {
      const body = (await res
        .clone()
        .json()
        .catch(() => undefined)) as unknown;
      if (
        isObject(body) &&
        typeof body['device_code'] === 'string' &&
        body['verification_uri'] === undefined &&
        typeof body['verification_url'] === 'string'
      ) {
        return super.normalizeResponse(
          jsonResponse(res, { ...body, verification_uri: body['verification_url'] }),
          provider,
        );
      }
    }
    return super.normalizeResponse(res, provider);
  }

  override async validate(
    c: AdapterClient,
    accessToken: string,
  ): Promise<{ valid: boolean; error?: string }> {
    const url = new URL('/tokeninfo', c.provider.endpoints.tokenUrl).toString();
    return validity(async () => {
      const res = await c.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ access_token: accessToken }).toString(),
        signal: AbortSignal.timeout(c.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      throwIfTransient(res);
      if (res.status === 400 || res.status === 401)
        throw new ProviderCallError('invalid_grant', `Google token info refused the token (${res.status})`);
      if (!res.ok) throw new ProviderCallError('rejected', `Google token info answered ${res.status}`);
      const info = asObject(await res.json().catch(() => undefined));
      const audience = info['aud'] ?? info['azp'] ?? info['audience'] ?? info['issued_to'];
      if (typeof audience === 'string' && audience !== c.clientId)
        throw new ProviderCallError('rejected', 'the token was issued to another client');
    });
  }

  protected override revocationOptions(): { clientAuthentication?: 'none' } {
    return { clientAuthentication: 'none' };
  }
}
