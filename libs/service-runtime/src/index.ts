export * from './lib/bootstrap';
export * from './lib/startup-checks';
export * from './lib/async/with-timeout';
export * from './lib/cache/loading-cache';
export * from './lib/config/config.tokens';
export * from './lib/config/service-config';
export * from './lib/database/database.module';
export * from './lib/health/health-check';
export * from './lib/health/draining';
export * from './lib/logging/redaction';
export * from './lib/service-runtime.module';
export * from './lib/events-publisher';
export * from './lib/database/query-error.filter';
export * from './lib/config/migration-job-config';
export * from './lib/database/migration-job';
export * from './lib/metrics/metrics-registry';
export * from './lib/metrics/cached-count';
export { REQUEST_TRACE_ID, labelHttpRoute } from './lib/metrics/http-metrics';
export {
  activeTraceId,
  contextFromTraceparent,
  currentTraceparent,
  inSpan,
  SpanKind,
} from './lib/tracing/tracing';
export * from './lib/metrics/metric-catalogue';
export { loggingModule, useLogDestination } from './lib/logging/logging.module';
