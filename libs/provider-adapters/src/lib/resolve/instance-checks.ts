import { PROVIDER_TYPES, type ProviderType } from '@broker/contracts';
import { checkUrlStatic, EgressDeniedError, isIpLiteral, type EgressPolicy } from '@broker/egress';
import { PROVIDER_CATALOGUE, type CatalogueEntry, type InstanceField } from '../catalogue';
import { type FieldError, ProviderConfigError } from '../errors';
import type { ProviderEndpoints, ProviderInstanceInput } from '../resolve';

/*
 * The checks of a provider's instance settings (`host`, `baseUrl`, `tenant`, `issuer`,
 * `endpoints`): shapes, the egress policy's static checks, cloud hosts given as instances. No
 * network; every bad field is reported at once.
 */

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
export const TENANT_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TENANT_ALIASES = ['common', 'organizations', 'consumers'];
const SHAREPOINT_HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.sharepoint\.com$/;

/** A self-hosted instance's location: web base URL (no trailing slash) and host (with a non-default port). */
export interface Instance {
  base: string;
  host: string;
  /** The field it came from, for error messages. */
  field: 'host' | 'baseUrl';
}

export interface Checked {
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

/** Every instance-setting error of a type at once (ProviderConfigError), or the checked settings. */
export function validate(
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
