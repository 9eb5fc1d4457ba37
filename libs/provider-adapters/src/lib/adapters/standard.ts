import * as oauth from 'oauth4webapi';
import type { OAuthUser } from '@broker/contracts';
import { PROVIDER_CATALOGUE } from '../catalogue';
import type {
  AdapterCapabilities,
  AdapterClient,
  AuthorizationUrlParams,
  DeviceAuthorization,
  DevicePollResult,
  ProviderAdapter,
  RevocationOutcome,
} from '../adapter';
import {
  ProviderCallError,
  call,
  classify,
  normalizeUser,
  throwIfTransient,
  toTokenSet,
  type ProviderTokenSet,
} from '../provider-call';
import type { ResolvedProvider } from '../resolve';
import { refreshTokenIdleSeconds } from '../refresh-token-idle';
import { revokeRfc7009 } from './rfc7009-revocation';
import { AdapterHooks } from './adapter-hooks';
import { getJson, isObject } from './http';

/**
 * The standard OAuth 2.0 / OpenID Connect adapter, every protocol call made by oauth4webapi:
 * authorization code grant (RFC 6749, PKCE RFC 7636), refresh, revocation (RFC 7009), device
 * authorization and device code grant (RFC 8628), issuer check of the authorization response
 * (RFC 9207). Provider adapters extend it and override only the hooks where their provider
 * deviates from the standard (each override says which deviation it handles); the hooks and their
 * defaults are `AdapterHooks` (adapter-hooks.ts).
 */
export class StandardAdapter extends AdapterHooks implements ProviderAdapter {
  capabilities(provider: ResolvedProvider): AdapterCapabilities {
    return {
      pkce: provider.pkce,
      refreshRotation: provider.rotatesRefreshTokens,
      revocation: provider.revocation.kind !== 'none',
      deviceFlow: this.supportsDeviceFlow(provider),
      selfHosted: PROVIDER_CATALOGUE[provider.type].selfHosted !== undefined,
      userInfo: this.hasUserEndpoint(provider),
      validate: this.hasUserEndpoint(provider),
      consentPrompt: this.consentPrompt(provider),
      refreshTokenIdleSeconds: refreshTokenIdleSeconds(provider),
    };
  }

  authorizationUrl(provider: ResolvedProvider, params: AuthorizationUrlParams): string {
    const url = new URL(provider.endpoints.authorizationUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', params.clientId);
    url.searchParams.set('redirect_uri', params.redirectUri);
    const scopes = this.scopes(provider, params.scopes);
    if (scopes.length) url.searchParams.set('scope', scopes.join(provider.scopeSeparator || ' '));
    url.searchParams.set('state', params.state);
    if (params.codeChallenge && provider.pkce) {
      url.searchParams.set('code_challenge', params.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    const extra: Record<string, string> = {
      ...provider.extraAuthorizationParams,
      ...this.authorizationParams(provider),
    };
    // skipConsent: where the consent screen is on demand, `prompt=consent` follows the provider's setting.
    if (params.forceConsent !== undefined && this.consentPrompt(provider) === 'optional') {
      if (params.forceConsent) extra['prompt'] = 'consent';
      else if (extra['prompt'] === 'consent') delete extra['prompt'];
    }
    for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
    return url.toString();
  }

  /**
   * Exchanges an authorization code. `iss`, when the callback carried one, is checked against the
   * provider's issuer by oauth4webapi (RFC 9207); the state was checked by the caller.
   */
  async exchangeCode(
    c: AdapterClient,
    params: { code: string; redirectUri: string; codeVerifier?: string; iss?: string },
  ): Promise<ProviderTokenSet> {
    const as = this.server(c.provider);
    const client = this.client(c);
    return call(
      async () => {
        const callback = new URLSearchParams({ code: params.code });
        if (params.iss !== undefined && this.expectedIssuer(c.provider)) callback.set('iss', params.iss);
        const body = oauth.validateAuthResponse(as, client, callback, oauth.skipStateCheck);
        const verifier = params.codeVerifier && c.provider.pkce ? params.codeVerifier : oauth.nopkce;
        const res = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          this.clientAuth(c),
          body,
          params.redirectUri,
          verifier,
          this.options(c, c.provider.endpoints.tokenUrl),
        );
        throwIfTransient(res);
        return toTokenSet(await oauth.processGenericTokenEndpointResponse(as, client, res));
      },
      (err) => this.classify(err),
    );
  }

  async refresh(c: AdapterClient, refreshToken: string): Promise<ProviderTokenSet> {
    const as = this.server(c.provider);
    const client = this.client(c);
    return call(
      async () => {
        const res = await oauth.refreshTokenGrantRequest(
          as,
          client,
          this.clientAuth(c),
          refreshToken,
          this.options(c, c.provider.endpoints.tokenUrl),
        );
        throwIfTransient(res);
        return toTokenSet(await oauth.processGenericTokenEndpointResponse(as, client, res));
      },
      (err) => this.classify(err),
    );
  }

  /**
   * RFC 7009 at the provider's revocation endpoint; `unsupported` without a call when it has none.
   * `hint` may be omitted (then no `token_type_hint` is sent). Adapters of providers with another
   * revocation API override this (GitHub's grant API).
   */
  async revoke(
    c: AdapterClient,
    token: { value: string; hint?: 'refresh_token' | 'access_token' },
  ): Promise<RevocationOutcome> {
    const { revocation } = c.provider;
    if (revocation.kind === 'none') return { revoked: false, unsupported: true };
    if (revocation.kind !== 'rfc7009')
      return { revoked: false, error: `${c.provider.displayName} revocation is not RFC 7009` };
    return revokeRfc7009(c, revocation.url, token, this.revocationOptions(c.provider).clientAuthentication);
  }

  async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    return call(
      async () => normalizeUser(asObject((await getJson(c, url, accessToken, 'the userinfo endpoint')).body)),
      (err) => this.classify(err),
    );
  }

  /**
   * Default: the token works if the userinfo endpoint accepts it. A provider without a userinfo
   * endpoint cannot be asked: the token counts as valid (its expiry is the caller's to check).
   */
  async validate(c: AdapterClient, accessToken: string): Promise<{ valid: boolean; error?: string }> {
    if (!c.provider.endpoints.userinfoUrl) return { valid: true };
    return validity(() => this.userInfo(c, accessToken));
  }

  async startDeviceAuthorization(c: AdapterClient, scopes: string[]): Promise<DeviceAuthorization> {
    if (!this.supportsDeviceFlow(c.provider))
      throw new ProviderCallError(
        'rejected',
        `${c.provider.displayName} has no device authorization endpoint`,
      );
    const url = c.provider.endpoints.deviceAuthorizationUrl as string;
    const as: oauth.AuthorizationServer = { ...this.server(c.provider), device_authorization_endpoint: url };
    const client = this.client(c);
    return call(
      async () => {
        const params = new URLSearchParams();
        const list = this.scopes(c.provider, scopes);
        if (list.length) params.set('scope', list.join(c.provider.scopeSeparator || ' '));
        const res = await oauth.deviceAuthorizationRequest(
          as,
          client,
          this.deviceClientAuth(c),
          params,
          this.options(c, url),
        );
        throwIfTransient(res);
        const r = await oauth.processDeviceAuthorizationResponse(as, client, res);
        const device: DeviceAuthorization = {
          deviceCode: r.device_code,
          userCode: r.user_code,
          verificationUri: r.verification_uri,
          expiresIn: r.expires_in,
          // RFC 8628 §3.2: 5 seconds when the provider says nothing.
          interval: typeof r.interval === 'number' && r.interval > 0 ? r.interval : 5,
        };
        if (r.verification_uri_complete) device.verificationUriComplete = r.verification_uri_complete;
        return device;
      },
      (err) => this.classify(err),
    );
  }

  /** One poll; never throws: a failure (transient included, see `error.kind`) is `failed`. */
  async pollDeviceToken(c: AdapterClient, deviceCode: string): Promise<DevicePollResult> {
    const as = this.server(c.provider);
    const client = this.client(c);
    try {
      const res = await oauth.deviceCodeGrantRequest(
        as,
        client,
        this.deviceClientAuth(c),
        deviceCode,
        this.options(c, c.provider.endpoints.tokenUrl),
      );
      throwIfTransient(res);
      return {
        status: 'authorized',
        tokens: toTokenSet(await oauth.processDeviceCodeResponse(as, client, res)),
      };
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) {
        const wait = this.devicePollStatus(err.error);
        if (wait === 'slow_down') {
          const interval = Number(err.cause['interval']);
          return Number.isFinite(interval) && interval > 0
            ? { status: 'slow_down', interval }
            : { status: 'slow_down' };
        }
        if (wait) return { status: wait };
      }
      return { status: 'failed', error: this.classify(err) };
    }
  }
}

export function asObject(body: unknown): Record<string, unknown> {
  if (!isObject(body))
    throw new ProviderCallError('rejected', 'the provider answered something other than a JSON object');
  return body;
}

/** Runs a token check: refused → `{valid: false, error}`; transient failures are thrown. */
export async function validity(check: () => Promise<unknown>): Promise<{ valid: boolean; error?: string }> {
  try {
    await check();
    return { valid: true };
  } catch (err) {
    const e = classify(err);
    if (e.kind === 'transient') throw e;
    return { valid: false, error: e.message };
  }
}
