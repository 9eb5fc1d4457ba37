import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROKER_METRICS, PROCESS_METRICS } from '@broker/service-runtime';
import { K8sObject, renderKustomization } from '../src/kustomize';
import { schemaProblems } from '../src/validate';

const K8S = join(__dirname, '..', '..', '..', 'k8s');
const observability = renderKustomization(join(K8S, 'observability'));
const apps = renderKustomization(join(K8S, 'overlays', 'prod'));
const dashboard = JSON.parse(readFileSync(join(K8S, 'observability', 'grafana-dashboard.json'), 'utf8')) as {
  uid: string;
  panels: { title: string; targets: { expr: string }[] }[];
};

type Rule = { alert: string; expr: string; labels: { severity: string } };
const rules = (
  observability.find((o) => o.kind === 'PrometheusRule') as K8sObject & {
    spec: { groups: { rules: Rule[] }[] };
  }
).spec.groups.flatMap((g) => g.rules);
const KNOWN = new Set<string>([...Object.keys(BROKER_METRICS), ...PROCESS_METRICS]);
// PromQL functions and keywords that look like names (everything else in an expression that is a
// bare identifier outside braces and quotes must be a metric the services export).
const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'by',
  'without',
  'and',
  'or',
  'unless',
  'rate',
  'increase',
  'delta',
  'histogram_quantile',
  'le',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
]);

/** The metric names an expression reads (a histogram's _bucket/_sum/_count series count as the histogram). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const words = (bare.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w));
  return words.map((w) => {
    const base = w.replace(/_(bucket|sum|count)$/, '');
    return !KNOWN.has(w) && base !== w && BROKER_METRICS[base as keyof typeof BROKER_METRICS] === 'histogram'
      ? base
      : w;
  });
}

describe('k8s/observability: scraping, alert rules, dashboard', () => {
  it('is valid: the NetworkPolicy against the Kubernetes schema, the PodMonitor and PrometheusRule against their CRD shapes', () => {
    expect(observability.map((o) => o.kind).sort()).toEqual([
      'NetworkPolicy',
      'PodMonitor',
      'PrometheusRule',
    ]);
    expect(schemaProblems(observability)).toEqual([]);
  });

  it('the CRD shape check fails on a broken rule or monitor, naming the object', () => {
    const rule = structuredClone(observability.find((o) => o.kind === 'PrometheusRule')) as K8sObject & {
      spec: { groups: { rules: Record<string, unknown>[] }[] };
    };
    delete rule.spec.groups[0].rules[0]['expr'];
    rule.spec.groups[0].rules[1]['for'] = 'ten minutes';
    const monitor = structuredClone(observability.find((o) => o.kind === 'PodMonitor')) as K8sObject & {
      spec: Record<string, unknown>;
    };
    monitor.spec['podMetricsEndpoint'] = monitor.spec['podMetricsEndpoints'];
    delete monitor.spec['podMetricsEndpoints'];
    const problems = schemaProblems([rule, monitor]);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PrometheusRule oauth-broker: spec\/groups\/0\/rules\/0/),
        expect.stringMatching(/^PrometheusRule oauth-broker: spec\/groups\/0\/rules\/1/),
        expect.stringMatching(/^PodMonitor oauth-broker: /),
      ]),
    );
  });

  it('every alert rule and dashboard query reads only metrics the services export (no drift from the code)', () => {
    const exprs = [
      ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
    ];
    expect(exprs.length).toBeGreaterThan(20);
    const unknown = exprs.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !KNOWN.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The checker itself catches a misspelt metric.
    expect(
      metricNames('max(broker_queue_oldest_wating_age_seconds) > 1').filter((n) => !KNOWN.has(n)),
    ).toEqual(['broker_queue_oldest_wating_age_seconds']);
  });

  it('the alerts the issue asks for exist: refresh failures, queue age, authorizations expiring without a refresh, a client marked invalid', () => {
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    expect(byName['BrokerRefreshFailures']?.expr).toContain('broker_token_refreshes_total');
    expect(byName['BrokerQueueOldestJobAge']?.expr).toContain('broker_queue_oldest_waiting_age_seconds');
    expect(byName['BrokerAuthorizationsRefreshOverdue']?.expr).toContain(
      'broker_authorizations_refresh_overdue',
    );
    expect(byName['BrokerProviderClientInvalid']?.expr).toMatch(/broker_providers\{status="invalid"\}/);
    // Each alert is explained in k8s/README.md.
    const readme = readFileSync(join(K8S, 'README.md'), 'utf8');
    expect(rules.map((r) => r.alert).filter((a) => !readme.includes(a))).toEqual([]);
  });

  it('/metrics is scraped on a port of its own that no Service or Ingress routes, opened to the monitoring namespace only', () => {
    const config = apps.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'broker-config',
    ) as K8sObject & { data: Record<string, string> };
    const port = Number(config.data['METRICS_PORT']);
    type Deployment = K8sObject & {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: { ports: { name: string; containerPort: number }[] }[] };
        };
      };
    };
    for (const d of apps.filter((o) => o.kind === 'Deployment') as Deployment[]) {
      expect({
        deployment: d.metadata.name,
        metrics: d.spec.template.spec.containers[0].ports.find((p) => p.name === 'metrics')?.containerPort,
      }).toEqual({ deployment: d.metadata.name, metrics: port });
      expect(d.spec.template.metadata.labels['app.kubernetes.io/part-of']).toBe('oauth-broker');
    }
    const monitor = observability.find((o) => o.kind === 'PodMonitor') as K8sObject & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: { port: string; path: string }[];
      };
    };
    expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/part-of': 'oauth-broker' });
    expect(monitor.spec.podMetricsEndpoints).toEqual([
      expect.objectContaining({ port: 'metrics', path: '/metrics' }),
    ]);
    // No Service exposes the metrics port, so no Ingress can route to it.
    type Service = K8sObject & { spec: { ports: { port: number; targetPort: string | number }[] } };
    for (const s of apps.filter((o) => o.kind === 'Service') as Service[])
      for (const p of s.spec.ports) {
        expect([p.port, p.targetPort]).not.toContain(port);
        expect(p.targetPort).not.toBe('metrics');
      }
    const policy = observability.find((o) => o.kind === 'NetworkPolicy') as K8sObject & {
      spec: { ingress: { from: unknown[]; ports: { port: number }[] }[] };
    };
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port, protocol: 'TCP' }],
      },
    ]);
  });
});
