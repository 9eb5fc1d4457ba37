import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EnvelopeCipher } from '@broker/crypto';
import { sharedEgress } from '@broker/egress';
import { resolveProviderAsync } from '@broker/provider-adapters';
import { SERVICE_CONFIG, ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { createHmac } from 'node:crypto';
import { JobsService } from './jobs/jobs.service';
import { ListCursors } from './oauth-setups/list-cursor';
import { OAuthSetupsService } from './oauth-setups/oauth-setups.service';
import { SetupLinks } from './oauth-setups/setup-link';
import { WebhooksService } from './webhooks/webhooks.service';
import { ProviderResolver, ProvidersService } from './providers/providers.service';
import { REGISTRY_SCHEMA } from './registry.schema';
import { RegistryMetrics } from './observability/registry-metrics';
import { SecureConfigsService } from './secure-configs/secure-configs.service';

const REGISTRY_DS = domainDataSourceToken(REGISTRY_SCHEMA);

/** The catalogue resolver with the service's egress policy (discovery documents are fetched through the guard). */
export function registryResolver(config: ServiceConfig): ProviderResolver {
  const fetchImpl = sharedEgress(config.egress).fetch();
  return (type, instance) =>
    resolveProviderAsync(type, instance, { fetch: fetchImpl, policy: config.egress });
}

/** A key for one purpose, derived from the service's pepper (never the pepper itself). */
function derivedKey(config: ServiceConfig, purpose: string): Buffer {
  if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
  return createHmac('sha256', config.secrets.pepper).update(`registry:${purpose}`).digest();
}

/** Domain services of the provider registry (providers, encrypted secrets, job records, OAuth setups, webhooks). */
@Module({
  providers: [
    // Counts of providers, webhook deliveries and secrets per key on /metrics (worker only).
    RegistryMetrics,
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
    {
      provide: WebhooksService,
      inject: [REGISTRY_DS, SecureConfigsService, SERVICE_CONFIG],
      useFactory: (ds: DataSource, secrets: SecureConfigsService, config: ServiceConfig) =>
        new WebhooksService(ds, secrets, config.egress),
    },
    {
      provide: OAuthSetupsService,
      inject: [REGISTRY_DS, WebhooksService, SERVICE_CONFIG],
      useFactory: (ds: DataSource, webhooks: WebhooksService, config: ServiceConfig) =>
        new OAuthSetupsService(
          ds,
          webhooks,
          new SetupLinks(derivedKey(config, 'oauth-setup-links')),
          new ListCursors(derivedKey(config, 'list-cursors'), 'oauth-setups'),
          {
            publicUrl: config.publicUrl,
            defaultTtlMs: config.setups.defaultTtlSeconds * 1000,
            maxTtlMs: 7 * 24 * 3_600_000,
            ephemeralRetentionMs: config.setups.ephemeralRetentionSeconds * 1000,
          },
        ),
    },
  ],
  exports: [SecureConfigsService, JobsService, ProvidersService, WebhooksService, OAuthSetupsService],
})
export class RegistryDomainModule {}
