import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { OAuthAuthMethod, OAuthSetupCredentials, OAuthSetupDeployment } from '@broker/contracts';
import type { ResolvedProvider } from '@broker/provider-adapters';
import type { ProviderEntity } from '../providers/provider.entity';
import { describeScope } from './scope-words';

/** When the catalogue's OAuth methods took their current form (they have no rows of their own). */
const CATALOGUE_RELEASED_AT = '2025-11-01T00:00:00.000Z';

/** The seed's `provider_id`: the catalogue entry of the deployment's type (e.g. `github`, `oidc`). */
export const catalogueProviderId = (p: ProviderEntity) => p.type;

/** The id of a type's one OAuth method in the catalogue. */
export const authMethodId = (p: ProviderEntity) => `oauth2-${p.type}`;

/** The scopes a deployment asks for: the org's own list, else the catalogue's defaults. */
export function deploymentScopes(p: ProviderEntity): string[] {
  return p.customScopes.length
    ? p.customScopes
    : ((p.resolved as unknown as ResolvedProvider).defaultScopes ?? []);
}

/** What a setup's `config` accepts: the scopes to ask for, a subset of the deployment's. */
export function inputSchema(p: ProviderEntity): Record<string, unknown> {
  const scopes = deploymentScopes(p);
  return {
    type: 'object',
    properties: {
      scopes: {
        type: 'array',
        description:
          'The access to ask the user for: some of the deployment’s scopes (default: all of them).',
        items: scopes.length ? { type: 'string', enum: scopes } : { type: 'string' },
        minItems: 1,
        uniqueItems: true,
      },
    },
    additionalProperties: false,
  };
}

/** `config` checked against the method's `input_schema`: the problems as (field, message), none when it conforms. */
export function configProblems(p: ProviderEntity, config: unknown): { field: string; message: string }[] {
  const parsed = z.fromJSONSchema(inputSchema(p) as Parameters<typeof z.fromJSONSchema>[0]).safeParse(config);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({
          field: `config.${k}`,
          message: 'is not a field of this auth method’s input_schema',
        }))
      : [{ field: ['config', ...issue.path.map(String)].join('.'), message: issue.message }],
  );
}

/** `provider.auth_method` of a deployment: the catalogue's OAuth method with its scopes described. */
export function authMethodOf(p: ProviderEntity): OAuthAuthMethod {
  const resolved = p.resolved as unknown as Partial<ResolvedProvider>;
  return {
    object: 'provider.auth_method',
    id: authMethodId(p),
    type: 'oauth',
    name: 'OAuth 2.0',
    description: `Authenticate with ${resolved.displayName ?? p.type} using OAuth 2.0 (authorization code${resolved.pkce ? ' with PKCE' : ''})`,
    input_schema: inputSchema(p),
    scopes: deploymentScopes(p).map((scope) => ({
      object: 'provider.auth_method.scope',
      id: `scope_${createHash('sha256').update(`${p.type}\u0000${scope}`).digest('hex').slice(0, 16)}`,
      scope,
      ...describeScope(scope),
    })),
    provider_id: catalogueProviderId(p),
    provider_specification_id: `${p.type}@catalogue`,
    created_at: CATALOGUE_RELEASED_AT,
    updated_at: CATALOGUE_RELEASED_AT,
  };
}

/** The deployment's OAuth client as seed 002 `credentials`: its client id, never its secret. */
export function credentialsOf(p: ProviderEntity): OAuthSetupCredentials {
  return {
    id: p.secureConfigId ?? '',
    type: 'oauth2',
    name: `${p.name} OAuth client`,
    description: null,
    metadata: {},
    provider_id: catalogueProviderId(p),
    client_id: p.clientId,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export function deploymentOf(p: ProviderEntity): OAuthSetupDeployment {
  return { id: p.id, name: p.name, provider_id: catalogueProviderId(p) };
}
