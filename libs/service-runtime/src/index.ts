export * from './lib/bootstrap';
export * from './lib/config/config.tokens';
export * from './lib/config/service-config';
export * from './lib/database/database.module';
export * from './lib/health/health-check';
export * from './lib/logging/redaction';
export * from './lib/service-runtime.module';
export * from './lib/events-publisher';
