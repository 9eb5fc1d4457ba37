import { createServer, Server } from 'node:http';
import { metricsRegistry } from './metrics-registry';

/**
 * `/metrics` on its own port (METRICS_PORT), never on the API port: the Kubernetes Services and the
 * Ingress route only the HTTP port, so the public edge cannot reach it, and the NetworkPolicies
 * open the metrics port to the monitoring namespace only. Anything but `GET /metrics` is a 404.
 */
export async function startMetricsServer(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metricsRegistry.metrics().then(
      (body) =>
        res
          .writeHead(200, { 'content-type': metricsRegistry.contentType, 'cache-control': 'no-store' })
          .end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
