import type { DomainSchema } from '@broker/service-runtime';
import { CreateProviders1763900000000 } from './migrations/1763900000000-create-providers';
import { ProviderEntity } from './providers/provider.entity';

/** The registry domain's tables: schema `registry`, owned by the provider-registry service. */
export const REGISTRY_SCHEMA: DomainSchema = {
  schema: 'registry',
  entities: [ProviderEntity],
  migrations: [CreateProviders1763900000000],
};
