export * from './lib/providers/provider.entity';
export * from './lib/providers/providers.service';
export * from './lib/registry.module';
export * from './lib/registry.schema';
