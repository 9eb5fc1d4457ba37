import { Namespace, ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { K8sObject } from './kustomize';
import { CRD_SHAPES } from './monitoring-crds';

/**
 * Validates objects against the Kubernetes API's and KEDA's published schemas, as compiled (with
 * ajv) into the `kubernetes-models` and `@kubernetes-models/keda` packages: types, required
 * fields, enums and formats. Those schemas allow unknown fields, as the API server's own OpenAPI
 * does; the test suite adds the checks a typo would slip past (see k8s-manifests.spec.ts).
 * Only the kinds k8s/ uses are known; any other kind is an error rather than unchecked. The
 * Prometheus Operator's kinds (CRDs, no published schema package) are checked for their shape
 * (monitoring-crds.ts).
 */
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** Every schema violation of `objects`, one line each naming the object (empty: all valid). */
export function schemaProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const obj of objects) {
    const id = `${obj.kind ?? '?'} ${obj.metadata?.name ?? '?'}`;
    const shape = CRD_SHAPES[`${obj.apiVersion}/${obj.kind}`];
    if (shape) {
      const parsed = shape.safeParse(obj);
      if (!parsed.success)
        problems.push(...parsed.error.issues.map((i) => `${id}: ${i.path.join('/')} ${i.message}`));
      continue;
    }
    const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
    if (!Model) {
      problems.push(`${id}: no schema for ${obj.apiVersion}/${obj.kind}`);
      continue;
    }
    try {
      new Model(structuredClone(obj) as never).validate();
    } catch (err) {
      problems.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}
