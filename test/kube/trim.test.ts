import { loadYaml, type V1Service } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { trimmedServiceSchema } from '../../lib/events/contract.ts';
import { InvalidServiceObjectError, trimService } from '../../lib/kube/trim.ts';

// A Service as the apiserver sends it on a watch, with the fields the trim must drop.
const raw = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: '6d1c0a1e-0000-4000-8000-000000000001',
    resourceVersion: '4711',
    creationTimestamp: '2025-01-02T03:04:05Z',
    generation: 1,
    labels: { app: 'web', tier: 'front' },
    annotations: {
      'kube-zk-sync.io/name': 'shop-web',
      'kube-zk-sync.io/port': 'https',
      'kubectl.kubernetes.io/last-applied-configuration': '{"huge":"json"}',
      'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb',
    },
    managedFields: [{ manager: 'kubectl', operation: 'Apply', time: '2025-01-02T03:04:05Z' }],
  },
  spec: {
    type: 'LoadBalancer',
    clusterIP: '10.0.0.7',
    clusterIPs: ['10.0.0.7'],
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 },
      {
        name: 'https',
        port: 443,
        protocol: 'TCP',
        targetPort: 'https',
        nodePort: 30443,
        appProtocol: 'https',
      },
    ],
    externalIPs: ['192.0.2.10'],
    selector: { app: 'web' },
    sessionAffinity: 'None',
  },
  status: {
    loadBalancer: {
      ingress: [
        {
          hostname: 'abc.elb.us-east-1.amazonaws.com',
          ipMode: 'VIP',
          ports: [{ port: 80, protocol: 'TCP' }],
        },
        { ip: '198.51.100.4' },
      ],
    },
  },
};

const expected = {
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: '6d1c0a1e-0000-4000-8000-000000000001',
    resourceVersion: '4711',
    labels: { app: 'web', tier: 'front' },
    annotations: { 'kube-zk-sync.io/name': 'shop-web', 'kube-zk-sync.io/port': 'https' },
  },
  spec: {
    type: 'LoadBalancer',
    ports: [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'https', port: 443, protocol: 'TCP' },
    ],
    externalIPs: ['192.0.2.10'],
  },
  status: {
    loadBalancer: { ingress: [{ hostname: 'abc.elb.us-east-1.amazonaws.com' }, { ip: '198.51.100.4' }] },
  },
};

describe('trimService', () => {
  test('keeps what the mapping reads from a raw watch object, and only the kube-zk-sync.io/ annotations', () => {
    expect(trimService(structuredClone(raw))).toStrictEqual(expected);
  });

  test('a deserialized client-node model (Date fields, class instances) trims to the same plain object', () => {
    const model = loadYaml<V1Service>(JSON.stringify(raw));
    expect(model.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const trimmed = trimService(model);
    expect(trimmed).toStrictEqual(expected);
    expect(JSON.stringify(trimmed)).toBe(JSON.stringify(trimService(raw)));
  });

  test('a minimal ClusterIP Service has no status, labels or annotations in its trimmed copy', () => {
    const trimmed = trimService({
      metadata: {
        name: 'db',
        namespace: 'data',
        resourceVersion: '1',
        labels: null,
        annotations: { a: 'b' },
      },
      spec: { type: 'ClusterIP', ports: [{ port: 5432 }] },
      status: { loadBalancer: {} },
    });
    expect(trimmed).toStrictEqual({
      metadata: { name: 'db', namespace: 'data', resourceVersion: '1' },
      spec: { type: 'ClusterIP', ports: [{ port: 5432 }] },
    });
  });

  test('ingress items without an address are dropped', () => {
    const trimmed = trimService({
      metadata: { name: 'lb', namespace: 'ns', resourceVersion: '3' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ ipMode: 'Proxy' }, { ip: '203.0.113.1' }] } },
    });
    expect(trimmed.status?.loadBalancer?.ingress).toStrictEqual([{ ip: '203.0.113.1' }]);
  });

  test('the output always satisfies the event contract schema', () => {
    expect(trimmedServiceSchema.safeParse(trimService(raw)).success).toBe(true);
  });

  test.each([
    ['no metadata', { spec: {} }, /cannot read Service \?\/\?: metadata\.name/],
    [
      'no resourceVersion',
      { metadata: { name: 'a', namespace: 'b' }, spec: {} },
      /Service b\/a: .*resourceVersion/,
    ],
    [
      'a port out of range',
      { metadata: { name: 'a', namespace: 'b', resourceVersion: '1' }, spec: { ports: [{ port: 70000 }] } },
      /Service b\/a: spec\.ports\.0\.port/,
    ],
    ['not an object', 'Service', /cannot read Service/],
  ])('refuses %s with an error naming the Service and the field', (_, input, message) => {
    expect(() => trimService(input)).toThrow(InvalidServiceObjectError);
    expect(() => trimService(input)).toThrow(message);
  });
});
