import * as oauth from 'oauth4webapi';
import type { OAuthUser } from '@broker/contracts';
import {
  ProviderCallError,
  authorizationUrl,
  classify,
  exchangeCode,
  fetchUserInfo,
  refreshTokens,
  revokeToken,
  type AdapterClient,
  type DeviceAuthorization,
  type DevicePollResult,
  type ProviderAdapter,
  type ResolvedProvider,
} from '@broker/provider-adapters';

/**
 * The adapter of a provider. INTERIM: a generic RFC 6749/7009/8628 adapter over the existing
 * provider calls, until `adapterFor` of `@broker/provider-adapters` (issue 7 adapters branch,
 * milestone 1) replaces it; everything here goes through this one function so the swap is local.
 */
export function adapterOf(provider: ResolvedProvider): ProviderAdapter {
  void provider;
  return GENERIC_ADAPTER;
}

function server(p: ResolvedProvider): oauth.AuthorizationServer {
  const e = p.endpoints;
  return { issuer: e.issuer ?? new URL(e.tokenUrl).origin, token_endpoint: e.tokenUrl, device_authorization_endpoint: e.deviceAuthorizationUrl };
}

function clientAuth(c: AdapterClient): oauth.ClientAuth {
  return c.provider.tokenEndpointAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(c.clientSecret) : oauth.ClientSecretBasic(c.clientSecret);
}

function options(c: AdapterClient, url: string) {
  return { [oauth.customFetch]: c.fetch, [oauth.allowInsecureRequests]: url.startsWith('http:'), signal: AbortSignal.timeout(c.timeoutMs ?? 10_000) };
}

const GENERIC_ADAPTER: ProviderAdapter = {
  type: 'oauth2',
  capabilities: (p) => ({
    pkce: p.pkce,
    refreshRotation: p.rotatesRefreshTokens,
    revocation: p.revocation.kind !== 'none',
    deviceFlow: Boolean(p.endpoints.deviceAuthorizationUrl),
    selfHosted: p.selfHosted,
  }),
  authorizationUrl: (p, params) => authorizationUrl(p, params),
  exchangeCode: (c, params) => exchangeCode(c, params),
  refresh: (c, refreshToken) => refreshTokens(c, refreshToken),
  revoke: (c, token) =>
    revokeToken({ provider: c.provider, clientId: c.clientId, clientSecret: c.clientSecret, token: token.value, tokenTypeHint: token.hint, fetch: c.fetch, timeoutMs: c.timeoutMs }),
  userInfo: (c, accessToken): Promise<OAuthUser> => fetchUserInfo(c, accessToken),
  async validate(c, accessToken) {
    // Without a userinfo endpoint there is nothing to ask: an unexpired token counts as valid.
    if (!c.provider.endpoints.userinfoUrl) return { valid: true };
    try {
      await fetchUserInfo(c, accessToken);
      return { valid: true };
    } catch (err) {
      if (err instanceof ProviderCallError && err.kind === 'transient') throw err;
      return { valid: false, error: err instanceof Error ? err.message : 'the provider refused the token' };
    }
  },
  async startDeviceAuthorization(c, scopes): Promise<DeviceAuthorization> {
    const as = server(c.provider);
    const url = c.provider.endpoints.deviceAuthorizationUrl;
    if (!url) throw new ProviderCallError('rejected', 'the provider has no device authorization endpoint');
    try {
      const res = await oauth.deviceAuthorizationRequest(as, { client_id: c.clientId }, clientAuth(c), scopes.length ? { scope: scopes.join(c.provider.scopeSeparator || ' ') } : {}, options(c, url));
      if (res.status === 429 || res.status >= 500) throw new ProviderCallError('transient', `the provider answered ${res.status}`);
      const r = await oauth.processDeviceAuthorizationResponse(as, { client_id: c.clientId }, res);
      return {
        deviceCode: r.device_code,
        userCode: r.user_code,
        verificationUri: r.verification_uri,
        ...(r.verification_uri_complete ? { verificationUriComplete: r.verification_uri_complete } : {}),
        expiresIn: r.expires_in,
        interval: typeof r.interval === 'number' && r.interval > 0 ? r.interval : 5,
      };
    } catch (err) {
      throw classify(err);
    }
  },
  async pollDeviceToken(c, deviceCode): Promise<DevicePollResult> {
    const as = server(c.provider);
    try {
      const res = await oauth.deviceCodeGrantRequest(as, { client_id: c.clientId }, clientAuth(c), deviceCode, options(c, c.provider.endpoints.tokenUrl));
      if (res.status === 429 || res.status >= 500) return { status: 'failed', error: new ProviderCallError('transient', `the provider answered ${res.status}`) };
      const r = await oauth.processGenericTokenEndpointResponse(as, { client_id: c.clientId }, res);
      return {
        status: 'authorized',
        tokens: {
          accessToken: r.access_token,
          tokenType: typeof r.token_type === 'string' ? r.token_type : 'Bearer',
          ...(typeof r.refresh_token === 'string' && r.refresh_token ? { refreshToken: r.refresh_token } : {}),
          ...(typeof r.expires_in === 'number' ? { expiresAt: new Date(Date.now() + r.expires_in * 1000) } : {}),
          ...(typeof r.scope === 'string' ? { scope: r.scope } : {}),
        },
      };
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) {
        if (err.error === 'authorization_pending') return { status: 'pending' };
        if (err.error === 'slow_down') return { status: 'slow_down' };
        if (err.error === 'access_denied') return { status: 'denied' };
        if (err.error === 'expired_token') return { status: 'expired' };
      }
      return { status: 'failed', error: classify(err) };
    }
  },
};
