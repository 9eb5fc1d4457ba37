import * as oauth from 'oauth4webapi';
import type { ProviderType } from '@broker/contracts';
import type { AdapterClient, ConsentPrompt } from '../adapter';
import { ProviderCallError, classify, safeCode } from '../provider-call';
import type { ResolvedProvider } from '../resolve';
import { DEFAULT_TIMEOUT_MS, filteredFetch, isObject, jsonResponse, mediaType } from './http';

type Kind = ProviderCallError['kind'];
export type DeviceWait = 'pending' | 'slow_down' | 'denied' | 'expired';

/** RFC 8628 §3.5 error codes of a device-code poll. */
const RFC8628_POLL: Readonly<Record<string, DeviceWait>> = {
  authorization_pending: 'pending',
  slow_down: 'slow_down',
  access_denied: 'denied',
  expired_token: 'expired',
};

/**
 * Where a provider may deviate from the standard, and the oauth4webapi plumbing those deviations
 * feed: each hook's default is the standard behaviour; a provider adapter overrides only the hooks
 * its provider needs (and says why). The protocol calls themselves are `StandardAdapter`'s.
 */
export abstract class AdapterHooks {
  constructor(readonly type: ProviderType) {}

  /** Default: no known way to ask for the consent screen (OAuth 2.0 has none; OIDC's `prompt` is the oidc adapter's). */
  protected consentPrompt(_provider: ResolvedProvider): ConsentPrompt {
    return 'unsupported';
  }

  /** Whether this instance has an endpoint that tells who the token's user is (adapters with another one override). */
  protected hasUserEndpoint(provider: ResolvedProvider): boolean {
    return Boolean(provider.endpoints.userinfoUrl);
  }

  /** The issuer an authorization response's `iss` (RFC 9207) must equal, when the provider has a fixed one. */
  expectedIssuer(provider: ResolvedProvider): string | undefined {
    return provider.endpoints.issuer;
  }

  // ---- hooks (override where the provider deviates) ----

  protected supportsDeviceFlow(provider: ResolvedProvider): boolean {
    return Boolean(provider.endpoints.deviceAuthorizationUrl);
  }

  /** The scopes actually requested (e.g. `offline_access` added where refresh tokens need it). */
  protected scopes(_provider: ResolvedProvider, scopes: string[]): string[] {
    return scopes;
  }

  /** Authorization parameters beyond the catalogue's `extraAuthorizationParams`. */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  protected authorizationParams(_provider: ResolvedProvider): Record<string, string> {
    return {};
  }

  /**
   * Whether an `id_token` in a token response is kept (and then validated by oauth4webapi against
   * the issuer). Only the `oidc` adapter keeps it: the broker never reads id_token claims, and the
   * product providers' id_token issuers do not match a fixed issuer (Google's may be
   * `accounts.google.com` without a scheme, Entra's names the user's tenant under `common`).
   */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  protected keepIdToken(_provider: ResolvedProvider): boolean {
    return false;
  }

  /** Straightens a token / device endpoint answer before oauth4webapi reads it. */
  protected async normalizeResponse(res: Response, provider: ResolvedProvider): Promise<Response> {
    if (this.keepIdToken(provider) || mediaType(res) !== 'application/json' || !res.ok) return res;
    const body = (await res
      .clone()
      .json()
      .catch(() => undefined)) as unknown;
    if (!isObject(body) || !('id_token' in body)) return res;
    const rest = { ...body };
    delete rest['id_token'];
    return jsonResponse(res, rest);
  }

  /** Provider-specific error codes → kind (undefined: the RFC 6749 mapping of `classify`). */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  protected errorKind(_error: string, _body: Record<string, unknown>): Kind | undefined {
    return undefined;
  }

  /** Device poll error code → wait state (undefined: a failure). */
  protected devicePollStatus(error: string): DeviceWait | undefined {
    return RFC8628_POLL[error];
  }

  protected clientAuth(c: AdapterClient): oauth.ClientAuth {
    return c.provider.tokenEndpointAuthMethod === 'client_secret_post'
      ? oauth.ClientSecretPost(c.clientSecret)
      : oauth.ClientSecretBasic(c.clientSecret);
  }

  /** Client authentication of the device authorization and device code requests (RFC 8628 §3.1: as at the token endpoint). */
  protected deviceClientAuth(c: AdapterClient): oauth.ClientAuth {
    return this.clientAuth(c);
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  protected revocationOptions(_provider: ResolvedProvider): { clientAuthentication?: 'none' } {
    return {};
  }

  // ---- plumbing ----

  classify(err: unknown): ProviderCallError {
    if (err instanceof oauth.ResponseBodyError) {
      const kind = this.errorKind(err.error, err.cause as unknown as Record<string, unknown>);
      if (kind) return new ProviderCallError(kind, describeKind(kind, err.error));
    }
    return classify(err);
  }

  protected server(provider: ResolvedProvider): oauth.AuthorizationServer {
    const e = provider.endpoints;
    return {
      issuer: this.expectedIssuer(provider) ?? new URL(e.tokenUrl).origin,
      authorization_endpoint: e.authorizationUrl,
      token_endpoint: e.tokenUrl,
      userinfo_endpoint: e.userinfoUrl,
      revocation_endpoint: e.revocationUrl,
      device_authorization_endpoint: e.deviceAuthorizationUrl,
    };
  }

  protected client(c: Pick<AdapterClient, 'clientId'>): oauth.Client {
    return { client_id: c.clientId };
  }

  protected options(c: Pick<AdapterClient, 'fetch' | 'timeoutMs' | 'provider'>, url: string) {
    return {
      [oauth.customFetch]: filteredFetch(c.fetch, (res) => this.normalizeResponse(res, c.provider)),
      [oauth.allowInsecureRequests]: url.startsWith('http:'),
      signal: AbortSignal.timeout(c.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    };
  }
}

function describeKind(kind: Kind, error: string): string {
  const code = safeCode(error);
  switch (kind) {
    case 'invalid_grant':
      return `the provider says the grant is invalid or expired (${code})`;
    case 'invalid_client':
      return `the provider refused the client (${code})`;
    case 'transient':
      return `the provider answered ${code}`;
    default:
      return `the provider refused: ${code}`;
  }
}
