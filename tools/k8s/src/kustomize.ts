import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A renderer for the subset of kustomize that k8s/ uses, so CI can render the overlays offline
 * (no kustomize binary can be installed from the npm registry). Semantics follow kustomize's
 * documentation for each field; a field outside the subset is refused, never silently ignored:
 * - `resources`: YAML files (several documents each) and directories holding a kustomization;
 * - `namespace`: set on every namespaced object (cluster-scoped kinds keep none);
 * - `labels` (`pairs`, `includeTemplates`; `includeSelectors` must stay false): added to
 *   metadata.labels, and with includeTemplates to the pod templates' labels;
 * - `images` (`name`, `newName`, `newTag`): rewrites container and init container images;
 * - `replicas` (`name`, `count`): sets spec.replicas of the named Deployment;
 * - `patches` with `path` only: strategic merge patches, each aimed at the object of its own
 *   kind and name; maps merge, lists of named items (containers, env, ports, volumes) merge by
 *   `name`, other lists and scalars replace.
 * Transformations apply in kustomize's order: resources (each rendered first), then patches,
 * namespace, labels, images, replicas.
 */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'replicas',
  'patches',
]);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
]);
const WORKLOADS_WITH_TEMPLATES = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

export class KustomizeError extends Error {}

interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path?: string; target?: unknown; patch?: string }[];
}

/** Reads every YAML document of a file (empty documents, e.g. a file of comments, are skipped). */
export function readYamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs
    .map((doc) => {
      if (doc.errors.length) throw new KustomizeError(`${file}: ${doc.errors[0].message}`);
      return doc.toJS() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** Renders the kustomization in `dir` into its list of objects. */
export function renderKustomization(dir: string): K8sObject[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => join(dir, f))
    .find((f) => existsSync(f));
  if (!file) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const [k] = readYamlDocuments(file) as Kustomization[];
  for (const field of Object.keys(k))
    if (!KNOWN_FIELDS.has(field))
      throw new KustomizeError(`${file}: field '${field}' is outside the supported subset`);

  let objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new KustomizeError(`${file}: resource '${entry}' does not exist`);
    const added = statSync(path).isDirectory()
      ? renderKustomization(path)
      : (readYamlDocuments(path) as K8sObject[]);
    for (const obj of added) {
      checkObject(obj, path);
      if (objects.some((o) => sameId(o, obj)))
        throw new KustomizeError(`${file}: ${idOf(obj)} is listed twice`);
    }
    objects = objects.concat(added);
  }
  for (const patch of k.patches ?? []) {
    if (!patch.path || patch.target !== undefined || patch.patch !== undefined)
      throw new KustomizeError(`${file}: only patches with a path (strategic merge) are supported`);
    for (const p of readYamlDocuments(resolve(dir, patch.path)) as K8sObject[]) {
      checkObject(p, patch.path);
      const i = objects.findIndex((o) => o.kind === p.kind && o.metadata.name === p.metadata.name);
      if (i < 0)
        throw new KustomizeError(
          `${file}: patch ${patch.path} matches no object (${p.kind} ${p.metadata.name})`,
        );
      objects[i] = strategicMerge(objects[i], p) as K8sObject;
    }
  }
  if (k.namespace)
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  for (const label of k.labels ?? []) {
    if (label.includeSelectors)
      throw new KustomizeError(
        `${file}: labels with includeSelectors are not supported (selectors are immutable)`,
      );
    for (const o of objects) {
      o.metadata.labels = { ...(o.metadata.labels ?? {}), ...label.pairs };
      const template = podTemplateOf(o);
      if (label.includeTemplates && template) {
        const meta = (template['metadata'] ??= {}) as { labels?: Record<string, string> };
        meta.labels = { ...(meta.labels ?? {}), ...label.pairs };
      }
    }
  }
  for (const image of k.images ?? []) {
    for (const o of objects) {
      const spec = podTemplateOf(o)?.['spec'] as
        | { containers?: { image?: string }[]; initContainers?: { image?: string }[] }
        | undefined;
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
        if (!c.image) continue;
        const { name, tag } = splitImage(c.image);
        if (name !== image.name) continue;
        c.image = `${image.newName ?? name}${image.newTag !== undefined ? `:${image.newTag}` : tag !== undefined ? `:${tag}` : ''}`;
      }
    }
  }
  for (const r of k.replicas ?? []) {
    const target = objects.find(
      (o) => o.metadata.name === r.name && ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind),
    );
    if (!target) throw new KustomizeError(`${file}: replicas: no workload named ${r.name}`);
    (target['spec'] as Record<string, unknown>)['replicas'] = r.count;
  }
  return objects;
}

/** kustomize's strategic merge for the cases k8s/ uses (see the header). */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (isMap(base) && isMap(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch))
      out[key] = key in base ? strategicMerge(base[key], value) : value;
    return out;
  }
  if (
    Array.isArray(base) &&
    Array.isArray(patch) &&
    [...base, ...patch].every((item) => isMap(item) && typeof item['name'] === 'string')
  ) {
    const out = base.map((item) => ({ ...(item as Record<string, unknown>) }));
    for (const item of patch as Record<string, unknown>[]) {
      const i = out.findIndex((o) => o['name'] === item['name']);
      if (i >= 0) out[i] = strategicMerge(out[i], item) as Record<string, unknown>;
      else out.push(item);
    }
    return out;
  }
  return patch;
}

/** Splits `registry/name:tag` (a digest is kept in the name). */
export function splitImage(image: string): { name: string; tag?: string } {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash && !image.includes('@')
    ? { name: image.slice(0, colon), tag: image.slice(colon + 1) }
    : { name: image };
}

function podTemplateOf(o: K8sObject): Record<string, unknown> | undefined {
  if (!WORKLOADS_WITH_TEMPLATES.has(o.kind)) return undefined;
  return (o['spec'] as Record<string, unknown> | undefined)?.['template'] as
    | Record<string, unknown>
    | undefined;
}

function checkObject(obj: K8sObject, where: string): void {
  if (
    !isMap(obj) ||
    typeof obj.apiVersion !== 'string' ||
    typeof obj.kind !== 'string' ||
    !isMap(obj.metadata) ||
    typeof obj.metadata.name !== 'string'
  ) {
    throw new KustomizeError(`${where}: every document needs apiVersion, kind and metadata.name`);
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const idOf = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const sameId = (a: K8sObject, b: K8sObject) =>
  a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
