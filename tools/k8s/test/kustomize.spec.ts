import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KustomizeError, renderKustomization, splitImage, strategicMerge } from '../src/kustomize';

/** A throwaway directory tree from `{path: content}`. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kustomize-spec-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  roots.push(root);
  return root;
}
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: example/web:1.0
          env:
            - { name: A, value: "1" }
            - { name: B, value: "2" }
      initContainers:
        - name: init
          image: example/web
`;
const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n';

// Each case is the behaviour kustomize's reference documents for the field.
describe('the kustomize subset renderer', () => {
  it('resources: files with several documents and nested kustomization directories, in order', () => {
    const root = tree({
      'base/kustomization.yaml': 'resources:\n  - ns.yaml\n  - web.yaml\n',
      'base/ns.yaml': namespace,
      'base/web.yaml': `${deployment}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{ port: 80 }]\n`,
      'overlay/kustomization.yaml': 'resources:\n  - ../base\n',
    });
    expect(renderKustomization(join(root, 'overlay')).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/shop',
      'Deployment/web',
      'Service/web',
    ]);
  });

  it('namespace: set on namespaced objects, not on cluster-scoped ones', () => {
    const root = tree({
      'kustomization.yaml': 'namespace: prod\nresources: [ns.yaml, web.yaml]\n',
      'ns.yaml': namespace,
      'web.yaml': deployment,
    });
    const [ns, web] = renderKustomization(root);
    expect(ns.metadata.namespace).toBeUndefined();
    expect(web.metadata.namespace).toBe('prod');
  });

  it('labels: added to metadata, to pod templates only with includeTemplates, never to selectors', () => {
    const root = tree({
      'kustomization.yaml':
        'resources: [web.yaml]\nlabels:\n  - pairs: { env: prod }\n    includeTemplates: true\n  - pairs: { team: a }\n',
      'web.yaml': deployment,
    });
    const [web] = renderKustomization(root) as never as [
      {
        metadata: { labels: object };
        spec: { selector: object; template: { metadata: { labels: object } } };
      },
    ];
    expect(web.metadata.labels).toEqual({ app: 'web', env: 'prod', team: 'a' });
    expect(web.spec.template.metadata.labels).toEqual({ app: 'web', env: 'prod' });
    expect(web.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    const selectors = tree({
      'kustomization.yaml':
        'resources: [web.yaml]\nlabels:\n  - pairs: { env: prod }\n    includeSelectors: true\n',
      'web.yaml': deployment,
    });
    expect(() => renderKustomization(selectors)).toThrow(KustomizeError);
  });

  it('images: newName and newTag replace the matching image in containers and init containers; the tag is kept when no newTag', () => {
    const root = tree({
      'kustomization.yaml':
        'resources: [web.yaml]\nimages:\n  - name: example/web\n    newName: registry.io/web\n',
      'web.yaml': deployment,
    });
    const [web] = renderKustomization(root) as never as [
      {
        spec: {
          template: { spec: { containers: { image: string }[]; initContainers: { image: string }[] } };
        };
      },
    ];
    expect(web.spec.template.spec.containers[0].image).toBe('registry.io/web:1.0');
    expect(web.spec.template.spec.initContainers[0].image).toBe('registry.io/web');
    const tagged = tree({
      'kustomization.yaml': 'resources: [web.yaml]\nimages:\n  - name: example/web\n    newTag: "2.0"\n',
      'web.yaml': deployment,
    });
    const [web2] = renderKustomization(tagged) as never as [
      { spec: { template: { spec: { containers: { image: string }[] } } } },
    ];
    expect(web2.spec.template.spec.containers[0].image).toBe('example/web:2.0');
    expect(splitImage('localhost:5000/a/b:3')).toEqual({ name: 'localhost:5000/a/b', tag: '3' });
    expect(splitImage('localhost:5000/a/b')).toEqual({ name: 'localhost:5000/a/b' });
  });

  it('replicas: sets the count of the named workload; an unknown name is an error', () => {
    const root = tree({
      'kustomization.yaml': 'resources: [web.yaml]\nreplicas:\n  - name: web\n    count: 5\n',
      'web.yaml': deployment,
    });
    expect((renderKustomization(root)[0]['spec'] as { replicas: number }).replicas).toBe(5);
    const bad = tree({
      'kustomization.yaml': 'resources: [web.yaml]\nreplicas:\n  - name: api\n    count: 5\n',
      'web.yaml': deployment,
    });
    expect(() => renderKustomization(bad)).toThrow('replicas: no workload named api');
  });

  it('patches (strategic merge): maps merge, named lists merge by name, other values replace', () => {
    const root = tree({
      'kustomization.yaml': 'resources: [web.yaml]\npatches:\n  - path: patch.yaml\n',
      'web.yaml': deployment,
      'patch.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          env:\n            - { name: B, value: "20" }\n            - { name: C, value: "3" }\n',
    });
    const [web] = renderKustomization(root) as never as [
      { spec: { replicas: number; template: { spec: { containers: { image: string; env: object[] }[] } } } },
    ];
    expect(web.spec.template.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '20' },
      { name: 'C', value: '3' },
    ]);
    expect(web.spec.template.spec.containers[0].image).toBe('example/web:1.0');
    expect(web.spec.replicas).toBe(2);
    expect(strategicMerge({ args: ['a', 'b'] }, { args: ['c'] })).toEqual({ args: ['c'] });
  });

  it('refuses what it does not implement or cannot apply, rather than rendering something else', () => {
    expect(() =>
      renderKustomization(
        tree({
          'kustomization.yaml': 'resources: [web.yaml]\ncommonLabels: { a: b }\n',
          'web.yaml': deployment,
        }),
      ),
    ).toThrow("field 'commonLabels' is outside the supported subset");
    expect(() =>
      renderKustomization(
        tree({
          'kustomization.yaml': 'resources: [web.yaml]\npatches:\n  - path: p.yaml\n',
          'web.yaml': deployment,
          'p.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n',
        }),
      ),
    ).toThrow('matches no object');
    expect(() =>
      renderKustomization(
        tree({ 'kustomization.yaml': 'resources: [web.yaml, web.yaml]\n', 'web.yaml': deployment }),
      ),
    ).toThrow('listed twice');
    expect(() => renderKustomization(tree({ 'kustomization.yaml': 'resources: [gone.yaml]\n' }))).toThrow(
      "resource 'gone.yaml' does not exist",
    );
    expect(() =>
      renderKustomization(
        tree({ 'kustomization.yaml': 'resources: [x.yaml]\n', 'x.yaml': 'kind: Service\n' }),
      ),
    ).toThrow('needs apiVersion, kind and metadata.name');
  });
});
