import { PROVIDER_TYPES, type OAuthProviderMetadata, type ProviderType } from '@broker/contracts';
import {
  PROVIDER_CATALOGUE,
  type CatalogueEntry,
  type InstanceField,
  type ProviderProfile,
  type RevocationDescriptor,
  type TokenEndpointAuthMethod,
} from './catalogue';
import {
  checkUrlStatic,
  createGuardedFetch,
  DEFAULT_EGRESS_POLICY,
  EgressDeniedError,
  type EgressPolicy,
} from '@broker/egress';
import { type FieldError, ProviderConfigError } from './errors';
import { isIpLiteral } from '@broker/egress';
import { discoverOidc, OidcDiscoveryError, type OidcDiscovery } from './oidc-discovery';

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

const INSTANCE_FIELDS: readonly InstanceField[] = ['host', 'baseUrl', 'tenant', 'issuer', 'endpoints'];
const ENDPOINT_FIELDS = [
  'authorizationUrl',
  'tokenUrl',
  'userinfoUrl',
  'revocationUrl',
  'deviceAuthorizationUrl',
  'issuer',
] as const;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TENANT_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TENANT_ALIASES = ['common', 'organizations', 'consumers'];
const SHAREPOINT_HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.sharepoint\.com$/;

/** A self-hosted instance's location: web base URL (no trailing slash) and host (with a non-default port). */
interface Instance {
  base: string;
  host: string;
  /** The field it came from, for error messages. */
  field: 'host' | 'baseUrl';
}

interface Checked {
  entry: CatalogueEntry;
  instance?: Instance;
  tenant?: string;
  issuer?: string;
  endpoints?: ProviderEndpoints;
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

function egressReason(err: unknown): string {
  if (err instanceof EgressDeniedError) return err.reason;
  throw err;
}

/** `host`: a DNS name with an optional port the policy allows; no scheme, path, user info or IP literal. */
function checkHost(value: unknown, policy: EgressPolicy, errors: FieldError[]): Instance | undefined {
  const fail = (message: string) => void errors.push({ name: 'host', message });
  if (typeof value !== 'string' || value === '') return fail('must be a non-empty string');
  const v = value.toLowerCase();
  if (v.includes('://')) return fail('must be a host name without a scheme (use baseUrl for a URL)');
  if (v.includes('@')) return fail('must not contain user info');
  if (/[/?#\\]/.test(v))
    return fail('must be a host name without a path, query or fragment (use baseUrl for a path prefix)');
  const m = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return fail('must be a DNS name with an optional :port');
  const [, name, port] = m;
  const lastLabel = name.split('.').pop() ?? '';
  if (isIpLiteral(name) || /^(?:\d+|0x[0-9a-f]*)$/.test(lastLabel))
    return fail('must be a DNS name, not an IP address');
  if (name.length > 253 || !name.split('.').every((label) => DNS_LABEL.test(label)))
    return fail('is not a valid DNS name');
  if (port !== undefined) {
    const p = Number(port);
    if (p < 1 || p > 65535) return fail(`has an invalid port ${port}`);
    if (!policy.allowedPorts.includes(p)) return fail(`port ${p} is not allowed`);
  }
  const host = port !== undefined && Number(port) === 443 ? name : v;
  try {
    checkUrlStatic(`https://${host}/`, policy);
  } catch (err) {
    return fail(`is not allowed: ${egressReason(err)}`);
  }
  return { base: `https://${host}`, host, field: 'host' };
}

/** `baseUrl`: an https URL passing the static egress checks; may carry a path prefix. */
function checkBaseUrl(value: unknown, policy: EgressPolicy, errors: FieldError[]): Instance | undefined {
  const fail = (message: string) => void errors.push({ name: 'baseUrl', message });
  if (typeof value !== 'string' || value === '') return fail('must be a non-empty string');
  let u: URL;
  try {
    u = checkUrlStatic(value, policy);
  } catch (err) {
    return fail(`is not allowed: ${egressReason(err)}`);
  }
  if (u.search || u.hash) return fail('must not have a query or fragment');
  return {
    base: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`,
    host: u.host,
    field: 'baseUrl',
  };
}

/** An endpoint or issuer URL: passes the static egress checks, no fragment (RFC 6749 §3.1). */
function checkEndpointUrl(
  name: string,
  value: unknown,
  policy: EgressPolicy,
  errors: FieldError[],
): string | undefined {
  if (typeof value !== 'string' || value === '')
    return void errors.push({ name, message: 'must be a non-empty string' });
  try {
    const u = checkUrlStatic(value, policy);
    if (u.hash) return void errors.push({ name, message: 'must not have a fragment' });
    return value;
  } catch (err) {
    return void errors.push({ name, message: `is not allowed: ${egressReason(err)}` });
  }
}

function checkTenant(type: ProviderType, value: unknown, errors: FieldError[]): string | undefined {
  const fail = (message: string) => void errors.push({ name: 'tenant', message });
  if (typeof value !== 'string' || value === '') return fail('must be a non-empty string');
  const t = value.toLowerCase();
  const domain = t.length <= 253 && t.includes('.') && t.split('.').every((label) => DNS_LABEL.test(label));
  if (!TENANT_ALIASES.includes(t) && !TENANT_GUID.test(t) && !domain) {
    return fail('must be common, organizations, consumers, a tenant id (GUID) or a verified domain name');
  }
  if (type === 'sharepoint' && t === 'consumers')
    return fail('SharePoint Online has no personal (consumers) accounts');
  return t;
}

function checkIssuer(value: unknown, policy: EgressPolicy, errors: FieldError[]): string | undefined {
  const issuer = checkEndpointUrl('issuer', value, policy, errors);
  if (issuer === undefined) return undefined;
  if (new URL(issuer).search) return void errors.push({ name: 'issuer', message: 'must not have a query' });
  return issuer;
}

function checkEndpoints(
  value: unknown,
  policy: EgressPolicy,
  errors: FieldError[],
): ProviderEndpoints | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return void errors.push({ name: 'endpoints', message: 'must be an object' });
  const input = value as Record<string, unknown>;
  const before = errors.length;
  for (const key of Object.keys(input)) {
    if (!(ENDPOINT_FIELDS as readonly string[]).includes(key))
      errors.push({ name: `endpoints.${key}`, message: 'unknown field' });
  }
  const out: Partial<ProviderEndpoints> = {};
  for (const key of ENDPOINT_FIELDS) {
    const name = `endpoints.${key}`;
    if (!present(input[key])) {
      if (key === 'authorizationUrl' || key === 'tokenUrl') errors.push({ name, message: 'is required' });
      continue;
    }
    const url = checkEndpointUrl(name, input[key], policy, errors);
    if (url !== undefined) out[key] = url;
  }
  return errors.length === before ? (out as ProviderEndpoints) : undefined;
}

/** Cloud hosts given as `host` / `baseUrl` mean the cloud; vendor cloud sites are not self-hosted instances. */
function checkInstanceAgainstCloud(
  entry: CatalogueEntry,
  instance: Instance,
  errors: FieldError[],
): Instance | undefined {
  const hostname = new URL(instance.base).hostname;
  if (entry.cloudHosts.includes(hostname)) {
    if (instance.base !== `https://${hostname}`) {
      errors.push({
        name: instance.field,
        message: `${hostname} is ${entry.cloud?.displayName}: give no path or port, or leave it empty`,
      });
    }
    return undefined;
  }
  const suffix = entry.cloudSiteSuffixes.find((s) => hostname.endsWith(s));
  if (suffix) {
    errors.push({
      name: instance.field,
      message: `${hostname} is a ${entry.cloud?.displayName} site, which uses Atlassian's cloud OAuth: leave host and baseUrl empty`,
    });
    return undefined;
  }
  return instance;
}

function validate(
  type: ProviderType,
  input: ProviderInstanceInput | null | undefined,
  policy: EgressPolicy,
): Checked {
  if (!(PROVIDER_TYPES as readonly string[]).includes(type)) {
    throw new ProviderConfigError([{ name: 'type', message: `must be one of ${PROVIDER_TYPES.join(', ')}` }]);
  }
  const entry = PROVIDER_CATALOGUE[type];
  const errors: FieldError[] = [];
  const fields = (input ?? {}) as Record<string, unknown>;
  if (typeof fields !== 'object' || Array.isArray(fields))
    throw new ProviderConfigError([{ name: 'instance', message: 'must be an object' }]);

  for (const key of Object.keys(fields)) {
    if (!(INSTANCE_FIELDS as readonly string[]).includes(key))
      errors.push({ name: key, message: 'unknown field' });
    else if (present(fields[key]) && !entry.accepts.includes(key as InstanceField)) {
      errors.push({ name: key, message: `does not apply to ${entry.displayName} providers` });
    }
  }
  for (const key of entry.requires) {
    if (!present(fields[key])) {
      const hint = type === 'sharepoint' ? ' (the SharePoint Online host, e.g. contoso.sharepoint.com)' : '';
      errors.push({ name: key, message: `is required for ${entry.displayName} providers${hint}` });
    }
  }

  const checked: Checked = { entry };
  const accepted = (key: InstanceField) => entry.accepts.includes(key) && present(fields[key]);
  const fromHost = accepted('host') ? checkHost(fields.host, policy, errors) : undefined;
  const fromBase = accepted('baseUrl') ? checkBaseUrl(fields.baseUrl, policy, errors) : undefined;
  if (fromHost && fromBase && fromHost.host !== fromBase.host) {
    errors.push({
      name: 'baseUrl',
      message: `must be on host ${fromHost.host} when both host and baseUrl are given`,
    });
  }
  let instance = fromBase ?? fromHost;
  if (instance && type === 'sharepoint' && !SHAREPOINT_HOST.test(instance.host)) {
    errors.push({ name: 'host', message: 'must be a SharePoint Online host like contoso.sharepoint.com' });
    instance = undefined;
  }
  if (instance && entry.addressing === 'cloud-or-self-hosted')
    instance = checkInstanceAgainstCloud(entry, instance, errors);
  if (instance) checked.instance = instance;
  if (accepted('tenant')) checked.tenant = checkTenant(type, fields.tenant, errors);
  if (accepted('issuer')) checked.issuer = checkIssuer(fields.issuer, policy, errors);
  if (accepted('endpoints')) checked.endpoints = checkEndpoints(fields.endpoints, policy, errors);

  if (errors.length) throw new ProviderConfigError(errors);
  return checked;
}

/** Fills `{base}`, `{host}`, `{api}`, `{tenant}` in a catalogue template (`{client_id}` stays). */
function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(base|host|api|tenant)\}/g, (whole, key: string) => vars[key] ?? whole);
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
      const hostname = new URL(instance.base).hostname;
      // GHE.com (data residency) serves its REST API on an api. subdomain, not under /api/v3.
      const api =
        type === 'github'
          ? hostname.endsWith('.ghe.com')
            ? `https://api.${instance.host}`
            : `${instance.base}/api/v3`
          : instance.base;
      return fromProfile(
        type,
        entry.selfHosted as ProviderProfile,
        { base: instance.base, host: instance.host, api },
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
  /** Fetch used for OpenID discovery (default: a guarded fetch for `policy`, closed afterwards). */
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

  const ownFetch = options.fetch ? undefined : createGuardedFetch(policy);
  try {
    const discovery = await discoverOidc(
      checked.issuer as string,
      options.fetch ?? (ownFetch as typeof fetch),
      policy,
    );
    return resolveOidcFromDiscovery(discovery);
  } catch (err) {
    if (err instanceof OidcDiscoveryError)
      throw new ProviderConfigError([{ name: 'issuer', message: err.message }], { cause: err });
    throw err;
  } finally {
    await ownFetch?.close();
  }
}
