import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EnvelopeCipher } from '@broker/crypto';
import { createGuardedFetch, resolveProviderAsync } from '@broker/provider-adapters';
import { SERVICE_CONFIG, ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { JobsService } from './jobs/jobs.service';
import { ProviderResolver, ProvidersService } from './providers/providers.service';
import { REGISTRY_SCHEMA } from './registry.schema';
import { SecureConfigsService } from './secure-configs/secure-configs.service';

const REGISTRY_DS = domainDataSourceToken(REGISTRY_SCHEMA);

/** The catalogue resolver with the service's egress policy (discovery documents are fetched through the guard). */
export function registryResolver(config: ServiceConfig): ProviderResolver {
  const fetchImpl = createGuardedFetch(config.egress);
  return (type, instance) => resolveProviderAsync(type, instance, { fetch: fetchImpl, policy: config.egress });
}

/** Domain services of the provider registry (providers, encrypted secrets, job records). */
@Module({
  providers: [
    {
      provide: SecureConfigsService,
      inject: [REGISTRY_DS, SERVICE_CONFIG],
      useFactory: (ds: DataSource, config: ServiceConfig) => {
        if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
        return new SecureConfigsService(ds, new EnvelopeCipher(config.secrets.keyring));
      },
    },
    { provide: JobsService, inject: [REGISTRY_DS], useFactory: (ds: DataSource) => new JobsService(ds) },
    {
      provide: ProvidersService,
      inject: [REGISTRY_DS, SecureConfigsService, JobsService, SERVICE_CONFIG],
      useFactory: (ds: DataSource, secrets: SecureConfigsService, jobs: JobsService, config: ServiceConfig) =>
        new ProvidersService(ds, secrets, jobs, registryResolver(config)),
    },
  ],
  exports: [SecureConfigsService, JobsService, ProvidersService],
})
export class RegistryDomainModule {}
