import { join } from 'node:path';
import { QUEUE_GROUPS, QUEUE_GROUP_NAMES, QUEUE_SETTINGS } from '@broker/contracts';
import { K8sObject, readYamlDocuments, renderKustomization } from '../src/kustomize';
import { schemaProblems } from '../src/validate';

const K8S = join(__dirname, '..', '..', '..', 'k8s');
const OVERLAYS = ['dev', 'prod'] as const;

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  topologySpreadConstraints?: unknown[];
  volumes?: { hostPath?: unknown }[];
  hostNetwork?: boolean;
}
type Workload = K8sObject & {
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

const rendered = Object.fromEntries(
  OVERLAYS.map((o) => [
    o,
    {
      apps: renderKustomization(join(K8S, 'overlays', o)),
      migrations: renderKustomization(join(K8S, 'overlays', o, 'migrations')),
    },
  ]),
) as Record<(typeof OVERLAYS)[number], { apps: K8sObject[]; migrations: K8sObject[] }>;

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;

describe.each(OVERLAYS)('k8s/overlays/%s, rendered offline', (overlay) => {
  const { apps, migrations } = rendered[overlay];
  const workloads = [...ofKind(apps, 'Deployment'), ...ofKind(migrations, 'Job')] as Workload[];
  const config = named(apps, 'ConfigMap', 'broker-config') as K8sObject & { data: Record<string, string> };

  it('every object is valid against the Kubernetes and KEDA schemas', () => {
    expect(apps.length).toBeGreaterThan(20);
    expect(schemaProblems([...apps, ...migrations])).toEqual([]);
  });

  it('every pod meets the restricted Pod Security profile', () => {
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      expect({
        name: w.metadata.name,
        runAsNonRoot: pod.securityContext?.runAsNonRoot,
        seccomp: pod.securityContext?.seccompProfile?.type,
      }).toEqual({ name: w.metadata.name, runAsNonRoot: true, seccomp: 'RuntimeDefault' });
      expect(pod.hostNetwork).toBeUndefined();
      expect(pod.volumes?.some((v) => v.hostPath) ?? false).toBe(false);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        expect({ container: `${w.metadata.name}/${c.name}`, ...c.securityContext }).toEqual({
          container: `${w.metadata.name}/${c.name}`,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('the migration Job migrates (MIGRATIONS=only) with the DDL role alone; the services skip migrations', () => {
    expect(config.data['MIGRATIONS']).toBe('skip');
    const [job] = ofKind(migrations, 'Job') as Workload[];
    const steps = [...(job.spec.template.spec.initContainers ?? []), ...job.spec.template.spec.containers];
    // Every app that owns tables migrates its schemas.
    expect(steps.map((c) => c.name).sort()).toEqual(['provider-registry', 'token-broker']);
    for (const c of steps) {
      expect(envOf(c, 'MIGRATIONS')).toBe('only');
      expect(c.envFrom).toBeUndefined();
      expect(c.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
        name: 'broker-migrations',
        key: 'DATABASE_URL',
      });
    }
    for (const d of ofKind(apps, 'Deployment') as Workload[])
      for (const c of d.spec.template.spec.containers) expect(envOf(c, 'MIGRATIONS')).toBeUndefined();
  });

  it('each app reads only its own Secret, and the gateway never the keyring, the pepper or the database', () => {
    const secrets = readYamlDocuments(join(K8S, 'secret.example.yaml')) as (K8sObject & {
      stringData: Record<string, string>;
    })[];
    expect(schemaProblems(secrets)).toEqual([]);
    for (const d of ofKind(apps, 'Deployment') as Workload[]) {
      const app = d.metadata.name.startsWith('worker-') ? 'worker' : d.metadata.name;
      const [c] = d.spec.template.spec.containers;
      expect(c.envFrom?.map((e) => e.secretRef?.name).filter(Boolean)).toEqual([`${app}-secrets`]);
      expect(secrets.some((s) => s.metadata.name === `${app}-secrets`)).toBe(true);
    }
    const gateway = secrets.find((s) => s.metadata.name === 'gateway-secrets');
    expect(Object.keys(gateway?.stringData ?? {}).sort()).toEqual(['REDIS_URL', 'UPSTREAM_CLIENT_SECRET']);
  });

  it('workers: one Deployment per queue group, each consuming only its group, covering every group once', () => {
    const workers = (ofKind(apps, 'Deployment') as Workload[]).filter((d) =>
      d.metadata.name.startsWith('worker-'),
    );
    expect(workers.map((w) => envOf(w.spec.template.spec.containers[0], 'WORKER_QUEUES')).sort()).toEqual(
      [...QUEUE_GROUP_NAMES].sort(),
    );
    for (const w of workers)
      expect(w.metadata.name).toBe(`worker-${envOf(w.spec.template.spec.containers[0], 'WORKER_QUEUES')}`);
  });

  it("a worker's grace period outlasts the longest job lock of its queues, so a rollout lets jobs finish", () => {
    for (const group of QUEUE_GROUP_NAMES) {
      const w = named(apps, 'Deployment', `worker-${group}`) as Workload;
      const longestLockSeconds = Math.max(
        ...QUEUE_GROUPS[group].map((q) => QUEUE_SETTINGS[q].lockDurationMs / 1000),
      );
      expect({
        group,
        enough: (w.spec.template.spec.terminationGracePeriodSeconds ?? 30) >= longestLockSeconds + 10,
      }).toEqual({ group, enough: true });
    }
  });

  it("KEDA scales each worker group on its queues' BullMQ wait lists, never below one replica", () => {
    const prefix = config.data['BUS_PREFIX'] ?? 'broker';
    for (const group of QUEUE_GROUP_NAMES) {
      const so = named(apps, 'ScaledObject', `worker-${group}`) as K8sObject & {
        spec: {
          scaleTargetRef: { name: string };
          minReplicaCount: number;
          triggers: {
            type: string;
            metadata: Record<string, string>;
            authenticationRef?: { name: string };
          }[];
        };
      };
      expect(so.spec.scaleTargetRef.name).toBe(`worker-${group}`);
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so.spec.triggers.map((t) => t.metadata['listName']).sort()).toEqual(
        QUEUE_GROUPS[group].map((q) => `${prefix}:jobs:${q}:wait`).sort(),
      );
      for (const t of so.spec.triggers) {
        expect(t.type).toBe('redis');
        expect(named(apps, 'TriggerAuthentication', t.authenticationRef?.name ?? '')).toBeDefined();
      }
    }
  });

  it('gateway and token-broker scale with an HPA; every Deployment has a PDB and spreads over zones and nodes', () => {
    for (const name of ['gateway', 'token-broker']) {
      const hpa = named(apps, 'HorizontalPodAutoscaler', name) as K8sObject & {
        spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
      };
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    }
    for (const d of ofKind(apps, 'Deployment') as Workload[]) {
      const pdb = ofKind(apps, 'PodDisruptionBudget').find((p) => {
        const sel = (p['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
        return Object.entries(sel).every(([k, v]) => d.spec.template.metadata.labels[k] === v);
      });
      expect({ deployment: d.metadata.name, pdb: pdb?.metadata.name }).toEqual({
        deployment: d.metadata.name,
        pdb: d.metadata.name,
      });
      expect(d.spec.template.spec.topologySpreadConstraints?.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('only the gateway takes ingress; everything else is denied by default; an Ingress reaches it with TRUST_PROXY_HOPS set', () => {
    const policies = ofKind(apps, 'NetworkPolicy') as (K8sObject & {
      spec: {
        podSelector: { matchLabels?: Record<string, string> };
        policyTypes: string[];
        ingress?: unknown[];
      };
    })[];
    const deny = policies.find(
      (p) =>
        Object.keys(p.spec.podSelector).length === 0 &&
        !p.spec.ingress &&
        p.spec.policyTypes.includes('Ingress'),
    );
    expect(deny).toBeDefined();
    expect(policies.filter((p) => p.spec.ingress?.length).map((p) => p.spec.podSelector.matchLabels)).toEqual(
      [{ 'app.kubernetes.io/name': 'gateway' }],
    );
    const [ingress] = ofKind(apps, 'Ingress') as (K8sObject & {
      spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] };
    })[];
    expect(ingress.spec.rules[0].http.paths[0].backend.service.name).toBe('gateway');
    expect(Number(config.data['TRUST_PROXY_HOPS'])).toBeGreaterThanOrEqual(1);
  });

  it('images come from the overlay, the same tag for the Job and the apps', () => {
    const images = new Set(
      workloads.flatMap((w) =>
        [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])].map(
          (c) => c.image,
        ),
      ),
    );
    const tags = new Set([...images].map((i) => i.slice(i.lastIndexOf(':') + 1)));
    expect(tags.size).toBe(1);
    expect(tags.has('latest')).toBe(false);
  });
});

describe('the validation fails on an invalid manifest', () => {
  const deployment = () => structuredClone(named(rendered.prod.apps, 'Deployment', 'gateway')) as Workload;

  it('a wrong type, a missing required field, a bad enum, an unknown kind and a broken KEDA object are each reported, naming the object', () => {
    const wrongType = deployment();
    (wrongType.spec as Record<string, unknown>)['replicas'] = 'three';
    const missing = deployment();
    delete (missing.spec as Record<string, unknown>)['selector'];
    const badEnum = deployment();
    (
      badEnum.spec.template.spec.containers[0] as unknown as { ports: { protocol: string }[] }
    ).ports[0].protocol = 'TCPX';
    const so = structuredClone(named(rendered.prod.apps, 'ScaledObject', 'worker-refresh')) as K8sObject & {
      spec: { triggers: Record<string, unknown>[] };
    };
    delete so.spec.triggers[0]['type'];
    const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } } as K8sObject;

    const problems = schemaProblems([wrongType, missing, badEnum, so, unknown]);
    expect(problems).toEqual([
      expect.stringMatching(/^Deployment gateway: .*replicas must be integer/),
      expect.stringMatching(/^Deployment gateway: .*must have required property selector/),
      expect.stringMatching(/^Deployment gateway: .*protocol must be equal to one of the allowed values/),
      expect.stringMatching(/^ScaledObject worker-refresh: .*triggers\/0 must have required property type/),
      'Widget w: no schema for example.com/v1/Widget',
    ]);
  });
});
