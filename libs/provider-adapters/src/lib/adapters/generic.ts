import type { ConsentPrompt } from '../adapter';
import type { ResolvedProvider } from '../resolve';
import { StandardAdapter } from './standard';

/**
 * `oidc`: an OpenID provider found by discovery (`resolveProviderAsync` checked its issuer).
 * Standard in every respect; the id_token of a token response is kept and validated by
 * oauth4webapi (issuer, audience, expiry), the authorization response's `iss` (RFC 9207) checked
 * against the discovered issuer, device flow when the document lists a
 * `device_authorization_endpoint`, RFC 7009 revocation when it lists a `revocation_endpoint`.
 */
export class OidcAdapter extends StandardAdapter {
  constructor() {
    super('oidc');
  }

  protected override keepIdToken(): boolean {
    return true;
  }

  /** OpenID Connect Core §3.1.2.1: `prompt=consent` asks for consent again. */
  protected override consentPrompt(): ConsentPrompt {
    return 'optional';
  }
}

/**
 * `oauth2`: explicit endpoints. Standard; device flow and RFC 7009 revocation when their endpoints
 * are given, RFC 9207 `iss` checked when `endpoints.issuer` is given. An id_token, if one comes,
 * is dropped (no issuer to check it against, and the broker does not read it).
 */
export class OAuth2Adapter extends StandardAdapter {
  constructor() {
    super('oauth2');
  }

  override capabilities(provider: ResolvedProvider) {
    return { ...super.capabilities(provider), selfHosted: false };
  }
}
