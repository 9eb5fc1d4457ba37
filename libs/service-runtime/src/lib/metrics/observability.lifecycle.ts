import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { SERVICE_CONFIG } from '../config/config.tokens';
import type { ServiceConfig } from '../config/service-config';
import { flushTracing, startTracing } from '../tracing/tracing';
import { traceOutboundCalls } from '../tracing/provider-call-spans';
import { observeHttpServer } from './http-metrics';
import { startDefaultMetrics } from './metrics-registry';
import { startMetricsServer } from './metrics-server';

/**
 * Starts what a service exports about itself: traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set),
 * process metrics, HTTP timing on the app's server, and the `/metrics` listener (when METRICS_PORT
 * is set); closes the listener and flushes spans at shutdown.
 */
@Injectable()
export class ObservabilityLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Observability');
  private metricsServer?: Server;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    // Before any request or bus message is handled (providers are built before the app listens).
    startTracing(config.service, config.observability.otlpEndpoint);
    traceOutboundCalls();
    startDefaultMetrics();
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server) observeHttpServer(server);
    const port = this.config.observability.metricsPort;
    if (port !== undefined) {
      this.metricsServer = await startMetricsServer(this.config.host, port);
      this.logger.log(`metrics on http://${this.config.host}:${port}/metrics`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.metricsServer;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await flushTracing();
  }
}
