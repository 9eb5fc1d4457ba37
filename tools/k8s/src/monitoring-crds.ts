import { z } from 'zod';

/**
 * The shape of the Prometheus Operator objects k8s/observability uses (monitoring.coreos.com/v1),
 * written from the operator's API reference: the fields we set, their types and the enums that
 * matter. Strict where a typo would make the operator silently ignore a field (an alert without
 * `expr`, a rule with `severity` outside `labels`).
 */
const meta = z.object({
  name: z.string().min(1),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
const duration = z
  .string()
  .regex(/^(\d+(ms|s|m|h|d|w|y))+$/, { message: 'must be a Prometheus duration (30s, 5m, 1h)' });

const alertRule = z.strictObject({
  alert: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be a metric-style name' }),
  expr: z.string().min(1),
  for: duration.optional(),
  labels: z.object({ severity: z.enum(['critical', 'warning', 'info']) }).catchall(z.string()),
  annotations: z.object({ summary: z.string().min(1), description: z.string().min(1) }).catchall(z.string()),
});
const recordingRule = z.strictObject({
  record: z.string().min(1),
  expr: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
});

const prometheusRule = z.object({
  apiVersion: z.literal('monitoring.coreos.com/v1'),
  kind: z.literal('PrometheusRule'),
  metadata: meta,
  spec: z.strictObject({
    groups: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          interval: duration.optional(),
          rules: z.array(z.union([alertRule, recordingRule])).min(1),
        }),
      )
      .min(1),
  }),
});

const podMonitor = z.object({
  apiVersion: z.literal('monitoring.coreos.com/v1'),
  kind: z.literal('PodMonitor'),
  metadata: meta,
  spec: z.strictObject({
    selector: z.object({
      matchLabels: z.record(z.string(), z.string()).optional(),
      matchExpressions: z.array(z.unknown()).optional(),
    }),
    namespaceSelector: z
      .object({ any: z.boolean().optional(), matchNames: z.array(z.string()).optional() })
      .optional(),
    podMetricsEndpoints: z
      .array(
        z.strictObject({
          port: z.string().min(1),
          path: z.string().startsWith('/').optional(),
          scheme: z.enum(['http', 'https']).optional(),
          interval: duration.optional(),
          scrapeTimeout: duration.optional(),
          relabelings: z
            .array(
              z.strictObject({
                sourceLabels: z.array(z.string()).optional(),
                targetLabel: z.string().optional(),
                action: z.string().optional(),
                regex: z.string().optional(),
                replacement: z.string().optional(),
              }),
            )
            .optional(),
        }),
      )
      .min(1),
  }),
});

/** Shape checks by `apiVersion/kind`. */
export const CRD_SHAPES: Record<string, z.ZodType> = {
  'monitoring.coreos.com/v1/PrometheusRule': prometheusRule,
  'monitoring.coreos.com/v1/PodMonitor': podMonitor,
};
