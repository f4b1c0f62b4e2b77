// The forwarder's deployment as shipped: Kustomize renders the base and the example overlay (kubectl's built-in
// kustomize, offline), every object validates against the Kubernetes schemas (kubernetes-models), and the properties
// the design relies on hold: two replicas, probes on the right paths, a restricted security context, read-only RBAC
// (Services, and the kube-system namespace for the cluster's identity), a NetworkPolicy that closes everything but
// DNS, HTTPS and the metrics port, settings the forwarder knows, an image pinned by digest, a PutEvents-only IAM
// policy, and an image with nothing but the bundle.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../lib/events/contract.ts';
import { SETTINGS } from '../../lib/forwarder/config.ts';
import { type K8sObject, kustomize, modelFor, theOne } from '../support/kustomize.ts';

const dir = fileURLToPath(new URL('../../infra/forwarder/', import.meta.url));
const base = `${dir}base/`;
const example = `${dir}overlays/example/`;

let rendered: K8sObject[];
let overlay: K8sObject[];
const one = (kind: string) => theOne(rendered, kind);

beforeAll(async () => {
  [rendered, overlay] = await Promise.all([kustomize(base), kustomize(example)]);
});

describe('kubectl kustomize infra/forwarder/base', () => {
  test('renders exactly the objects the forwarder needs, all in its namespace', () => {
    expect(rendered.map((o) => o.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'Namespace',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'ServiceAccount',
      ].sort(),
    );
    const namespaced = rendered.filter(
      (o) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind),
    );
    for (const o of namespaced) expect(o.metadata.namespace, o.kind).toBe('kube-zk-sync');
  });

  test('every object validates against its Kubernetes schema', () => {
    for (const object of rendered) {
      const Model = modelFor(object);
      expect(Model, `${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(
        () => new Model(object as never).validate(),
        `${object.kind} ${object.metadata.name}`,
      ).not.toThrow();
    }
  });

  test('each source file also validates on its own', async () => {
    for (const file of [
      'namespace.yaml',
      'serviceaccount.yaml',
      'rbac.yaml',
      'deployment.yaml',
      'poddisruptionbudget.yaml',
      'networkpolicy.yaml',
    ]) {
      for (const doc of parseAllDocuments(await readFile(`${base}${file}`, 'utf8'))) {
        const object = doc.toJS() as K8sObject;
        const Model = modelFor(object);
        expect(() => new Model(object as never).validate(), file).not.toThrow();
      }
    }
  });

  test('the Deployment: 2 replicas, probes, resources, a restricted and read-only container', () => {
    const deployment = one('Deployment');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe(one('ServiceAccount').metadata.name);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    const [container, ...others] = pod.containers;
    expect(others).toEqual([]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.resources.requests).toEqual(
      expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
    );
    expect(container.resources.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    // The base names the image only: an overlay's `images` entry gives the registry and the digest.
    expect(container.image).toBe('kube-zk-sync-forwarder');
    // SIGTERM's flush (FLUSH_SECONDS, 20 s by default) fits in the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(SETTINGS.flushSeconds.default);
  });

  test('configuration: the generated ConfigMap carries the required settings, and every variable is one the forwarder reads', () => {
    const configMap = one('ConfigMap');
    const container = one('Deployment').spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
    expect(configMap.metadata.name).toMatch(/^kube-zk-sync-forwarder-[a-z0-9]+$/);
    expect(Object.keys(configMap.data).sort()).toEqual(['AWS_REGION', 'CLUSTER_ID', 'EVENT_BUS_NAME']);
    const known = new Set<string>([...Object.values(SETTINGS).map((s) => s.env), 'NODE_OPTIONS']);
    for (const name of [
      ...Object.keys(configMap.data),
      ...container.env.map((e: { name: string }) => e.name),
    ]) {
      expect(known, name).toContain(name);
    }
    expect(container.env).toContainEqual({ name: 'HTTP_PORT', value: '8080' });
  });

  test('RBAC: list and watch on Services, get on namespace kube-system only, bound to the forwarder ServiceAccount', () => {
    expect(one('ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
      // The cluster's identity, and no other namespace: a rule without resourceNames would grant them all.
      { apiGroups: [''], resources: ['namespaces'], resourceNames: ['kube-system'], verbs: ['get'] },
    ]);
    const binding = one('ClusterRoleBinding');
    const account = one('ServiceAccount');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: one('ClusterRole').metadata.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace },
    ]);
  });

  test('the ServiceAccount names an IAM role for IRSA', () => {
    expect(one('ServiceAccount').metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(
      /^arn:aws:iam::\d{12}:role\/.+/,
    );
  });

  test('the PodDisruptionBudget keeps one replica and selects the Deployment pods', () => {
    const pdb = one('PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(1);
    const podLabels = one('Deployment').spec.template.metadata.labels;
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) expect(podLabels[k]).toBe(v);
    expect(one('Deployment').spec.selector).toEqual(pdb.spec.selector);
  });

  test('the namespace enforces the restricted Pod Security Standard', () => {
    expect(one('Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('the NetworkPolicy: the forwarder pods, in only on the metrics port from one namespace, out only to DNS, 443 and the Pod Identity Agent', () => {
    const policy = one('NetworkPolicy');
    expect(policy.spec.podSelector).toEqual(one('Deployment').spec.selector);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const metricsPort = one('Deployment').spec.template.spec.containers[0].ports[0].containerPort;
    expect(policy.spec.ingress).toEqual([
      {
        // By name: the apiserver sets this label, a tenant cannot put it on its own namespace.
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port: metricsPort, protocol: 'TCP' }],
      },
    ]);
    expect(policy.spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }],
        ports: [{ port: 443, protocol: 'TCP' }],
      },
      {
        to: [{ ipBlock: { cidr: '169.254.170.23/32' } }, { ipBlock: { cidr: 'fd00:ec2::23/128' } }],
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    ]);
  });
});

describe('kubectl kustomize infra/forwarder/overlays/example', () => {
  test('the base, valid, with the image pinned by digest and every placeholder replaced', () => {
    expect(overlay.map((o) => o.kind).sort()).toEqual(rendered.map((o) => o.kind).sort());
    for (const object of overlay) {
      const Model = modelFor(object);
      expect(() => new Model(object as never).validate(), `${object.kind}`).not.toThrow();
    }
    const images = theOne(overlay, 'Deployment').spec.template.spec.containers.map(
      (c: { image: string }) => c.image,
    );
    expect(images).toEqual([
      expect.stringMatching(
        /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/kube-zk-sync-forwarder@sha256:[0-9a-f]{64}$/,
      ),
    ]);
    expect(theOne(overlay, 'ConfigMap').data).toEqual({
      CLUSTER_ID: expect.any(String),
      EVENT_BUS_NAME: expect.any(String),
      AWS_REGION: expect.any(String),
    });
  });

  test('the NetworkPolicy names the namespace that scrapes, and HTTPS narrowed to the VPC', () => {
    const policy = theOne(overlay, 'NetworkPolicy');
    expect(policy.spec.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } },
    ]);
    expect(policy.spec.egress[1]).toEqual({
      to: [{ ipBlock: { cidr: '10.0.0.0/16' } }],
      ports: [{ port: 443, protocol: 'TCP' }],
    });
    // Only those two changed.
    expect(policy.spec.egress.filter((_: unknown, i: number) => i !== 1)).toEqual(
      one('NetworkPolicy').spec.egress.filter((_: unknown, i: number) => i !== 1),
    );
  });
});

describe('infra/forwarder/iam-policy.json', () => {
  test('allows events:PutEvents on one bus, for this source and detail-type only', async () => {
    const policy = JSON.parse(await readFile(`${dir}iam-policy.json`, 'utf8'));
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement).toHaveLength(1);
    const [statement] = policy.Statement;
    expect(statement.Effect).toBe('Allow');
    expect(statement.Action).toBe('events:PutEvents');
    expect(statement.Resource).toMatch(/^arn:aws:events:[a-z0-9-]+:\d{12}:event-bus\/[\w.-]+$/);
    expect(statement.Condition.StringEquals).toEqual({
      'events:source': EVENT_SOURCE,
      'events:detail-type': EVENT_DETAIL_TYPE,
    });
  });
});

describe('infra/forwarder/Dockerfile', () => {
  test('Node 22 on Alpine, only the bundles (forwarder, mirror), a numeric non-root user, an exec-form entry point', async () => {
    const lines = (await readFile(`${dir}Dockerfile`, 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.filter((l) => l.startsWith('FROM '))).toEqual(['FROM node:22-alpine']);
    const copies = lines.filter((l) => /^(COPY|ADD) /.test(l));
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/ dist\/forwarder\.mjs dist\/mirror\.mjs \/app\/$/);
    expect(lines.filter((l) => l.startsWith('RUN '))).toEqual([]);
    const user = lines.find((l) => l.startsWith('USER '));
    expect(user).toMatch(/^USER [1-9]\d*(:\d+)?$/);
    expect(lines.at(-1)).toBe('ENTRYPOINT ["node", "/app/forwarder.mjs"]');
    // The image's node user is uid 1000: the pod's runAsUser must be the same.
    const deploymentText = await readFile(`${base}deployment.yaml`, 'utf8');
    expect(deploymentText).toContain(`runAsUser: ${user?.split(' ')[1]?.split(':')[0]}`);
  });
});
