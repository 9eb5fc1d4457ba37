import type { AdapterClient } from '../adapter';
import { getJson } from './http';
import { StandardAdapter, validity } from './standard';

/**
 * GitLab.com and GitLab Self-Managed (path prefix kept). Standard OAuth 2.0 with PKCE, RFC 7009
 * revocation at `/oauth/revoke`, RFC 8628 device flow at `/oauth/authorize_device` (GitLab 17+),
 * access tokens of 2 hours whose refresh returns a new refresh token and revokes the old one.
 * One difference: a token is validated with `GET {base}/oauth/token/info` (200 with the token's
 * scopes and remaining life, 401 once revoked or expired), not with the user endpoint.
 */
export class GitLabAdapter extends StandardAdapter {
  constructor() {
    super('gitlab');
  }

  override async validate(
    c: AdapterClient,
    accessToken: string,
  ): Promise<{ valid: boolean; error?: string }> {
    const url = `${c.provider.metadata.baseUrl.replace(/\/+$/, '')}/oauth/token/info`;
    return validity(() => getJson(c, url, accessToken, 'GitLab token info'));
  }
}
