/**
 * Every metric the services export under the product's own prefix. The metric helpers accept only
 * these names (a new metric is added here first), the e2e test checks that each one is exported by
 * a running service, and tools/k8s checks that the alert rules and the dashboard use no other name:
 * so neither can drift from the code.
 */
export const BROKER_METRICS = {
  broker_http_request_duration_seconds: 'histogram',
  broker_bus_server_request_duration_seconds: 'histogram',
  broker_bus_client_request_duration_seconds: 'histogram',
  broker_bus_server_dropped_total: 'counter',
  broker_bus_server_invalid_total: 'counter',
  broker_token_acquires_total: 'counter',
  broker_token_refreshes_total: 'counter',
  broker_token_lease_waits_total: 'counter',
  broker_queue_jobs: 'gauge',
  broker_queue_oldest_waiting_age_seconds: 'gauge',
  broker_authorizations: 'gauge',
  broker_authorizations_refresh_overdue: 'gauge',
  broker_providers: 'gauge',
  broker_webhook_deliveries: 'gauge',
  broker_encrypted_values: 'gauge',
} as const;

export type BrokerMetricName = keyof typeof BROKER_METRICS;

/** prom-client's default process metrics that the dashboard and rules may use (every service has them). */
export const PROCESS_METRICS = [
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_heap_size_used_bytes',
  'up',
] as const;

/** Which service(s) export each metric (where the e2e test looks for it). */
export const METRIC_SOURCES: Record<
  BrokerMetricName,
  readonly ('gateway' | 'token-broker' | 'provider-registry' | 'worker')[]
> = {
  broker_http_request_duration_seconds: ['gateway', 'token-broker', 'provider-registry', 'worker'],
  broker_bus_server_request_duration_seconds: ['token-broker', 'provider-registry'],
  broker_bus_client_request_duration_seconds: ['gateway', 'token-broker', 'provider-registry'],
  broker_bus_server_dropped_total: ['token-broker', 'provider-registry'],
  broker_bus_server_invalid_total: ['token-broker', 'provider-registry'],
  broker_token_acquires_total: ['token-broker', 'worker'],
  broker_token_refreshes_total: ['token-broker', 'worker'],
  broker_token_lease_waits_total: ['token-broker', 'worker'],
  broker_queue_jobs: ['worker'],
  broker_queue_oldest_waiting_age_seconds: ['worker'],
  broker_authorizations: ['worker'],
  broker_authorizations_refresh_overdue: ['worker'],
  broker_providers: ['worker'],
  broker_webhook_deliveries: ['worker'],
  broker_encrypted_values: ['worker'],
};
