import type { ResolvedProvider } from '../resolve';
import { isObject, jsonResponse, mediaType } from './http';
import { StandardAdapter } from './standard';

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
 *   no client secret is sent there.
 */
export class GoogleAdapter extends StandardAdapter {
  constructor() {
    super('google');
  }

  protected override authorizationParams(): Record<string, string> {
    return { include_granted_scopes: 'true' };
  }

  protected override async normalizeResponse(res: Response, provider: ResolvedProvider): Promise<Response> {
    if (res.ok && mediaType(res) === 'application/json') {
      const body = (await res.clone().json().catch(() => undefined)) as unknown;
      if (isObject(body) && typeof body['device_code'] === 'string' && body['verification_uri'] === undefined && typeof body['verification_url'] === 'string') {
        return super.normalizeResponse(jsonResponse(res, { ...body, verification_uri: body['verification_url'] }), provider);
      }
    }
    return super.normalizeResponse(res, provider);
  }

  protected override revocationOptions(): { clientAuthentication?: 'none' } {
    return { clientAuthentication: 'none' };
  }
}
