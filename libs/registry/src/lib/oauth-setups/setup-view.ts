import type { OAuthSetup } from '@broker/contracts';
import { ProviderEntity } from '../providers/provider.entity';
import { authMethodId, authMethodOf, catalogueProviderId, credentialsOf, deploymentOf } from './auth-method';
import { OPEN, SetupRow, effectiveStatus } from './setup-row';
import { SetupLinks } from './setup-link';

/**
 * A setup as seed 002 shows it: its hosted `url` while it can still be used, the auth config it
 * produced once completed, and its deployment's credentials, auth method and deployment objects.
 */
export function setupView(
  row: SetupRow,
  deployment: ProviderEntity,
  links: SetupLinks,
  publicUrl: string,
): OAuthSetup {
  const status = effectiveStatus(row);
  const finishedAt = (row.finished_at ?? row.updated_at).toISOString();
  return {
    object: 'provider.oauth_setup',
    id: row.id,
    status,
    is_ephemeral: row.is_ephemeral,
    provider_id: catalogueProviderId(deployment),
    name: row.name,
    description: row.description,
    metadata: row.metadata,
    redirect_url: row.redirect_url,
    url: OPEN.includes(status) ? `${publicUrl}/connect/setup/${links.token(row.id)}` : null,
    auth_config:
      status === 'completed' && row.authorization_id
        ? {
            id: row.authorization_id,
            status: 'active',
            type: 'oauth2',
            name: row.name,
            description: row.description,
            metadata: row.metadata ?? {},
            provider_id: catalogueProviderId(deployment),
            provider_deployment_id: deployment.id,
            provider_auth_method_id: authMethodId(deployment),
            created_at: finishedAt,
            updated_at: finishedAt,
          }
        : null,
    credentials: credentialsOf(deployment),
    auth_method: authMethodOf(deployment),
    deployment: deploymentOf(deployment),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    user_id: row.user_id,
  };
}
