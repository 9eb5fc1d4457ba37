import type { DomainSchema } from '@broker/service-runtime';
import { JobEntity } from './jobs/job.entity';
import { CreateProviders1763900000000 } from './migrations/1763900000000-create-providers';
import { SecretsAndJobs1763900500000 } from './migrations/1763900500000-secrets-and-jobs';
import { GitHubAppSettings1763900600000 } from './migrations/1763900600000-github-app-settings';
import { OAuthSetupsAndWebhooks1763900700000 } from './migrations/1763900700000-oauth-setups-and-webhooks';
import { ProviderEntity } from './providers/provider.entity';
import { SecureConfigEntity } from './secure-configs/secure-config.entity';

/** The registry domain's tables: schema `registry`, owned by the provider-registry service. */
export const REGISTRY_SCHEMA: DomainSchema = {
  schema: 'registry',
  entities: [ProviderEntity, SecureConfigEntity, JobEntity],
  migrations: [
    CreateProviders1763900000000,
    SecretsAndJobs1763900500000,
    GitHubAppSettings1763900600000,
    OAuthSetupsAndWebhooks1763900700000,
  ],
};
