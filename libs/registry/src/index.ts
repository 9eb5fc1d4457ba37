export * from './lib/jobs/job.entity';
export * from './lib/jobs/jobs.service';
export * from './lib/providers/provider.entity';
export * from './lib/providers/providers.service';
export * from './lib/registry.module';
export * from './lib/registry.schema';
export * from './lib/secure-configs/secure-config.entity';
export * from './lib/secure-configs/secure-configs.service';
