import type { OAuthProviderMetadata, ProviderType } from '@broker/contracts';
import { DEFAULT_EGRESS_POLICY, sharedEgress, type EgressPolicy } from '@broker/egress';
import {
  PROVIDER_CATALOGUE,
  type CatalogueEntry,
  type ProviderProfile,
  type RevocationDescriptor,
  type TokenEndpointAuthMethod,
} from './catalogue';
import { ProviderConfigError } from './errors';
import { discoverOidc, OidcDiscoveryError, type OidcDiscovery } from './oidc-discovery';
import { TENANT_GUID, validate, type Checked } from './resolve/instance-checks';

/** A provider instance's endpoints. */
export interface ProviderEndpoints {
  authorizationUrl: string;
  tokenUrl: string;
  userinfoUrl?: string;
  /** Set only for an RFC 7009 revocation endpoint (see `ResolvedProvider.revocation` for the rest). */
  revocationUrl?: string;
  deviceAuthorizationUrl?: string;
  /** OpenID issuer identifier, where known. */
  issuer?: string;
}

/** The instance settings of a provider (the request's `host`, `baseUrl`, `tenant`, `issuer`, `endpoints`). */
export interface ProviderInstanceInput {
  host?: string;
  baseUrl?: string;
  tenant?: string;
  issuer?: string;
  endpoints?: Partial<ProviderEndpoints>;
}

/** Everything the broker needs to run OAuth flows against one provider instance. */
export interface ResolvedProvider {
  type: ProviderType;
  displayName: string;
  /** A self-hosted deployment of a product (Enterprise Server, Self-Managed, Data Center); false for clouds and the generic types. */
  selfHosted: boolean;
  endpoints: ProviderEndpoints;
  revocation: RevocationDescriptor;
  defaultScopes: string[];
  extraAuthorizationParams: Record<string, string>;
  pkce: boolean;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  rotatesRefreshTokens: boolean;
  scopeSeparator: string;
  /** `host`: the host actually used; `baseUrl`: the instance's web base URL; `settingsUrl`: where its OAuth app is managed. */
  metadata: Required<OAuthProviderMetadata>;
  /**
   * The provider's metadata advertises RFC 9207 (`authorization_response_iss_parameter_supported`):
   * its authorization responses always carry `iss`, so one without it is refused (mix-up defence).
   */
  authorizationResponseIssParameterSupported?: boolean;
}

/** Fills `{base}`, `{host}`, `{api}`, `{tenant}` in a catalogue template (`{client_id}` stays). */
function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(base|host|api|tenant)\}/g, (whole, key: string) => vars[key] ?? whole);
}

/** The `{api}` template of a self-hosted instance (see `CatalogueEntry.selfHostedApi`). */
function apiTemplate(entry: CatalogueEntry, hostname: string): string {
  const api = entry.selfHostedApi;
  if (!api) return '{base}';
  const suffix = Object.keys(api.byHostSuffix ?? {}).find((s) => hostname.endsWith(s));
  return suffix ? (api.byHostSuffix as Record<string, string>)[suffix] : api.template;
}

function fromProfile(
  type: ProviderType,
  profile: ProviderProfile,
  vars: Record<string, string>,
  selfHosted: boolean,
): ResolvedProvider {
  const f = (t: string) => fill(t, vars);
  const revocation: RevocationDescriptor =
    profile.revocation.kind === 'none'
      ? { kind: 'none' }
      : { kind: profile.revocation.kind, url: f(profile.revocation.url) };
  const endpoints: ProviderEndpoints = {
    authorizationUrl: f(profile.authorizationUrl),
    tokenUrl: f(profile.tokenUrl),
  };
  if (profile.userinfoUrl) endpoints.userinfoUrl = f(profile.userinfoUrl);
  if (revocation.kind === 'rfc7009') endpoints.revocationUrl = revocation.url;
  if (profile.deviceAuthorizationUrl) endpoints.deviceAuthorizationUrl = f(profile.deviceAuthorizationUrl);
  if (profile.issuer) endpoints.issuer = f(profile.issuer);
  const baseUrl = f(profile.baseUrl);
  return {
    type,
    displayName: profile.displayName,
    selfHosted,
    endpoints,
    revocation,
    defaultScopes: profile.defaultScopes.map(f),
    extraAuthorizationParams: { ...profile.extraAuthorizationParams },
    pkce: profile.pkce,
    tokenEndpointAuthMethod: profile.tokenEndpointAuthMethod,
    rotatesRefreshTokens: profile.rotatesRefreshTokens,
    scopeSeparator: profile.scopeSeparator,
    metadata: { baseUrl, host: new URL(baseUrl).host, settingsUrl: f(profile.settingsUrl) },
  };
}

function resolveChecked(type: ProviderType, checked: Checked): ResolvedProvider {
  const { entry, instance } = checked;
  switch (entry.addressing) {
    case 'cloud':
      return fromProfile(type, entry.cloud as ProviderProfile, {}, false);
    case 'cloud-or-self-hosted': {
      if (!instance) return fromProfile(type, entry.cloud as ProviderProfile, {}, false);
      const vars = { base: instance.base, host: instance.host };
      return fromProfile(
        type,
        entry.selfHosted as ProviderProfile,
        { ...vars, api: fill(apiTemplate(entry, new URL(instance.base).hostname), vars) },
        true,
      );
    }
    case 'tenant': {
      const tenant = checked.tenant ?? (type === 'sharepoint' ? 'organizations' : 'common');
      const vars: Record<string, string> = { tenant };
      if (instance) Object.assign(vars, { base: instance.base, host: instance.host });
      const resolved = fromProfile(type, entry.cloud as ProviderProfile, vars, false);
      if (TENANT_GUID.test(tenant))
        resolved.endpoints.issuer = `https://login.microsoftonline.com/${tenant}/v2.0`;
      return resolved;
    }
    case 'explicit':
      return fromExplicitEndpoints(checked.endpoints as ProviderEndpoints);
    case 'discovery':
      throw new TypeError('oidc providers are resolved by OpenID discovery: use resolveProviderAsync');
  }
}

/** A generic OAuth 2.0 provider (type `oauth2`) at explicit endpoints, with the standard defaults. */
export function fromExplicitEndpoints(
  endpoints: ProviderEndpoints,
  originUrl = endpoints.authorizationUrl,
): ResolvedProvider {
  const origin = new URL(originUrl);
  return {
    type: 'oauth2',
    displayName: PROVIDER_CATALOGUE.oauth2.displayName,
    selfHosted: false,
    endpoints: { ...endpoints },
    revocation: endpoints.revocationUrl
      ? { kind: 'rfc7009', url: endpoints.revocationUrl }
      : { kind: 'none' },
    defaultScopes: [],
    extraAuthorizationParams: {},
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_basic',
    rotatesRefreshTokens: true,
    scopeSeparator: ' ',
    metadata: { baseUrl: origin.origin, host: origin.host, settingsUrl: origin.origin },
  };
}

/** Builds an `oidc` provider from its (already fetched and checked) discovery document. */
export function resolveOidcFromDiscovery(discovery: OidcDiscovery): ResolvedProvider {
  const methods = discovery.tokenEndpointAuthMethodsSupported;
  let tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  if (methods.includes('client_secret_basic')) tokenEndpointAuthMethod = 'client_secret_basic';
  else if (methods.includes('client_secret_post')) tokenEndpointAuthMethod = 'client_secret_post';
  else {
    throw new ProviderConfigError([
      {
        name: 'issuer',
        message: `the provider supports neither client_secret_basic nor client_secret_post (it lists ${methods.join(', ') || 'nothing'})`,
      },
    ]);
  }
  const optional = ['profile', 'email', 'offline_access'];
  const supported = discovery.scopesSupported;
  const defaultScopes = [
    'openid',
    ...(supported ? optional.filter((s) => supported.includes(s)) : ['profile', 'email']),
  ];
  const endpoints: ProviderEndpoints = {
    authorizationUrl: discovery.authorizationUrl,
    tokenUrl: discovery.tokenUrl,
    issuer: discovery.issuer,
  };
  if (discovery.userinfoUrl) endpoints.userinfoUrl = discovery.userinfoUrl;
  if (discovery.revocationUrl) endpoints.revocationUrl = discovery.revocationUrl;
  if (discovery.deviceAuthorizationUrl) endpoints.deviceAuthorizationUrl = discovery.deviceAuthorizationUrl;
  const issuer = new URL(discovery.issuer);
  return {
    type: 'oidc',
    displayName: PROVIDER_CATALOGUE.oidc.displayName,
    selfHosted: false,
    endpoints,
    revocation: discovery.revocationUrl
      ? { kind: 'rfc7009', url: discovery.revocationUrl }
      : { kind: 'none' },
    defaultScopes,
    extraAuthorizationParams: {},
    pkce: discovery.codeChallengeMethodsSupported.includes('S256'),
    tokenEndpointAuthMethod,
    rotatesRefreshTokens: true,
    scopeSeparator: ' ',
    metadata: { baseUrl: discovery.issuer, host: issuer.host, settingsUrl: issuer.origin },
    ...(discovery.authorizationResponseIssParameterSupported
      ? { authorizationResponseIssParameterSupported: true }
      : {}),
  };
}

/**
 * Checks a type's instance settings without resolving: every field error at once, as a
 * ProviderConfigError. Needs no network (an `oidc` issuer is only checked statically).
 */
export function validateProviderInput(
  type: ProviderType,
  input: ProviderInstanceInput | null | undefined,
  policy: EgressPolicy = DEFAULT_EGRESS_POLICY,
): void {
  validate(type, input, policy);
}

/**
 * Resolves a provider type and its instance settings to endpoints and OAuth facts, synchronously
 * (no network). Throws ProviderConfigError listing every bad field. `oidc` needs discovery: use
 * resolveProviderAsync for it (this throws a TypeError after validating the settings).
 */
export function resolveProvider(
  type: ProviderType,
  input: ProviderInstanceInput | null | undefined,
  policy: EgressPolicy = DEFAULT_EGRESS_POLICY,
): ResolvedProvider {
  return resolveChecked(type, validate(type, input, policy));
}

export interface ResolveProviderOptions {
  /** Fetch used for OpenID discovery (default: a view of the process's egress pool for `policy`). */
  fetch?: typeof fetch;
  policy?: EgressPolicy;
}

/**
 * resolveProvider, plus OpenID discovery for `oidc` (a discovery failure becomes a
 * ProviderConfigError on `issuer`).
 */
export async function resolveProviderAsync(
  type: ProviderType,
  input: ProviderInstanceInput | null | undefined,
  options: ResolveProviderOptions = {},
): Promise<ResolvedProvider> {
  const policy = options.policy ?? DEFAULT_EGRESS_POLICY;
  const checked = validate(type, input, policy);
  if (checked.entry.addressing !== 'discovery') return resolveChecked(type, checked);

  try {
    const discovery = await discoverOidc(
      checked.issuer as string,
      options.fetch ?? sharedEgress(policy).fetch(),
      policy,
    );
    return resolveOidcFromDiscovery(discovery);
  } catch (err) {
    if (err instanceof OidcDiscoveryError)
      throw new ProviderConfigError([{ name: 'issuer', message: err.message }], { cause: err });
    throw err;
  }
}
