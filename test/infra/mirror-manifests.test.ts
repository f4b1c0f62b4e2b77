// The mirror's deployment as shipped: Kustomize renders the base and the example overlay (kubectl's built-in
// kustomize, offline), every object validates against the Kubernetes schemas, and what the design relies on holds:
// two replicas and a PodDisruptionBudget, a Role for Services, EndpointSlices and its Lease in the write namespace
// only and nothing cluster-wide, the ZooKeeper identity from a Secret, the mirror's bundle in the forwarder's image,
// and settings the mirror knows.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { MIRROR_SETTINGS } from '../../lib/mirror/config.ts';
import { type K8sObject, kustomize, modelFor, theOne } from '../support/kustomize.ts';

const dir = fileURLToPath(new URL('../../infra/mirror/', import.meta.url));

let base: K8sObject[];
let overlay: K8sObject[];

beforeAll(async () => {
  [base, overlay] = await Promise.all([kustomize(`${dir}base`), kustomize(`${dir}overlays/example`)]);
});

describe('kubectl kustomize infra/mirror', () => {
  test('every object validates, all in the write namespace, nothing cluster-wide', () => {
    for (const objects of [base, overlay]) {
      for (const object of objects) {
        const Model = modelFor(object);
        expect(Model, `${object.apiVersion} ${object.kind}`).toBeDefined();
        expect(() => new Model(object as never).validate(), `${object.kind}`).not.toThrow();
        if (object.kind !== 'Namespace') expect(object.metadata.namespace, object.kind).toBe('registry');
      }
      expect(objects.map((o) => o.kind)).not.toContain('ClusterRole');
      expect(objects.map((o) => o.kind)).not.toContain('ClusterRoleBinding');
    }
  });

  test('the Role: Services and EndpointSlices to write, one Lease, nothing else', () => {
    const role = theOne(base, 'Role');
    const resources = role.rules.flatMap((r: { resources: string[] }) => r.resources).sort();
    expect(resources).toEqual(['endpointslices', 'leases', 'leases', 'services']);
    const leaseRules = role.rules.filter((r: { resources: string[] }) => r.resources.includes('leases'));
    // create cannot be limited to a name; everything else on Leases is limited to the mirror's own.
    expect(leaseRules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [MIRROR_SETTINGS.leaseName.default],
        verbs: ['get', 'update'],
      },
    ]);
    const binding = theOne(base, 'RoleBinding');
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'kube-zk-sync-mirror', namespace: 'registry' },
    ]);
  });

  test('the Deployment: 2 replicas, the mirror bundle, probes, the ZooKeeper identity from a Secret', () => {
    const deployment = theOne(base, 'Deployment');
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.command).toEqual(['node', '/app/mirror.mjs']);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const authFile = container.args[container.args.indexOf('--auth-file') + 1];
    const mount = container.volumeMounts.find((m: { mountPath: string }) => authFile.startsWith(m.mountPath));
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    expect(volume.secret.secretName).toBe('kube-zk-sync-mirror-zk');
    const env = Object.fromEntries(
      container.env.map((e: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }) => [
        e.name,
        e.valueFrom?.fieldRef?.fieldPath,
      ]),
    );
    expect(env.MIRROR_NAMESPACE).toBe('metadata.namespace');
    expect(env.POD_NAME).toBe('metadata.name');
    const pdb = theOne(base, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  test('every variable of the ConfigMap is one the mirror reads', () => {
    const known = new Set([
      ...Object.values(MIRROR_SETTINGS).map((s) => s.env),
      'ZK_CONNECT',
      'REGISTRY_PATH',
    ]);
    for (const objects of [base, overlay]) {
      const data = theOne(objects, 'ConfigMap').data as Record<string, string>;
      for (const name of Object.keys(data)) expect(known.has(name), name).toBe(true);
      expect(Object.keys(data)).toEqual(
        expect.arrayContaining(['CLUSTER_ID', 'ZK_CONNECT', 'REGISTRY_PATH']),
      );
    }
    const image = theOne(overlay, 'Deployment').spec.template.spec.containers[0].image;
    expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });
});
