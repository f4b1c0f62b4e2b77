// kubectl get Tables: the columns and cells of the Kubernetes printers (pkg/printers/internalversion/printers.go),
// and the Accept negotiation of the apiserver (meta.k8s.io/v1 Table, "Receiving resources as Tables" in the API
// concepts reference).
import { describe, expect, test } from 'vitest';
import { RESOURCES, type ResourceKind } from '../../../lib/local/apiserver/resources.ts';
import { StatusError } from '../../../lib/local/apiserver/status-error.ts';
import {
  humanDuration,
  includeObjectParam,
  negotiate,
  toTable,
} from '../../../lib/local/apiserver/tables.ts';

const kind = (group: string, k: string) =>
  RESOURCES.find((r) => r.group === group && r.kind === k) as ResourceKind;
const now = new Date('2026-01-01T01:00:00Z');
const created = '2026-01-01T00:55:00Z';

const svc = (name: string, spec: object, status: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop', creationTimestamp: created, uid: 'u1' },
  spec,
  status,
});

describe('Accept negotiation', () => {
  test('kubectl get asks for a v1 Table, then v1beta1, then JSON: the first is served', () => {
    const kubectl =
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    expect(negotiate(kubectl)).toEqual({ as: 'Table', version: 'v1' });
    expect(negotiate('application/json;as=Table;v=v1beta1;g=meta.k8s.io')).toEqual({
      as: 'Table',
      version: 'v1beta1',
    });
  });

  test('plain JSON, */* or no header get the objects; a Table version not served falls through to the next range', () => {
    expect(negotiate('application/json')).toEqual({ as: 'json' });
    expect(negotiate(undefined)).toEqual({ as: 'json' });
    expect(negotiate('*/*')).toEqual({ as: 'json' });
    expect(negotiate('application/json;as=Table;v=v9;g=meta.k8s.io, application/json')).toEqual({
      as: 'json',
    });
  });

  test('nothing servable is a 406', () => {
    const error = (() => {
      try {
        negotiate('application/vnd.kubernetes.protobuf');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StatusError);
    expect((error as StatusError).code).toBe(406);
  });

  test('includeObject: Metadata by default, None|Metadata|Object, anything else a 400', () => {
    expect(includeObjectParam(null)).toBe('Metadata');
    expect(includeObjectParam('Object')).toBe('Object');
    expect(() => includeObjectParam('All')).toThrow(/Unsupported value: "All"/);
  });
});

describe('Service table', () => {
  const table = (services: object[], wide?: boolean) =>
    toTable(kind('', 'Service'), services as never, { now, wide });

  test('the real columns, SELECTOR only for -o wide (priority 1)', () => {
    expect(table([]).columnDefinitions.map((c) => [c.name, c.priority])).toEqual([
      ['Name', 0],
      ['Type', 0],
      ['Cluster-IP', 0],
      ['External-IP', 0],
      ['Port(s)', 0],
      ['Age', 0],
      ['Selector', 1],
    ]);
  });

  test('cells for each type of Service', () => {
    const rows = table([
      svc('web', {
        type: 'ClusterIP',
        clusterIPs: ['10.96.0.10'],
        ports: [{ port: 80, protocol: 'TCP' }],
        selector: { tier: 'a', app: 'web' },
      }),
      svc('np', {
        type: 'NodePort',
        clusterIPs: ['10.96.0.11'],
        ports: [
          { port: 80, nodePort: 30080 },
          { port: 53, protocol: 'UDP' },
        ],
      }),
      svc('lb', {
        type: 'LoadBalancer',
        clusterIPs: ['10.96.0.12'],
        ports: [{ port: 443, protocol: 'TCP' }],
      }),
      svc('ext', { type: 'ExternalName', externalName: 'db.example.com' }),
    ]).rows.map((r) => r.cells);
    expect(rows).toEqual([
      ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP', '5m', 'app=web,tier=a'],
      ['np', 'NodePort', '10.96.0.11', '<none>', '80:30080/TCP,53/UDP', '5m', '<none>'],
      ['lb', 'LoadBalancer', '10.96.0.12', '<pending>', '443/TCP', '5m', '<none>'],
      ['ext', 'ExternalName', '<none>', 'db.example.com', '<none>', '5m', '<none>'],
    ]);
  });

  test('a LoadBalancer with an address shows it whole from the server, cut to 16 characters by a non-wide printer', () => {
    const host = 'web-1a2b3c4d.elb.eu-west-1.amazonaws.com';
    const lb = svc(
      'lb',
      { type: 'LoadBalancer', externalIPs: ['192.0.2.1'] },
      { loadBalancer: { ingress: [{ hostname: host }, { ip: '198.51.100.7', hostname: 'x' }] } },
    );
    expect(table([lb]).rows[0]?.cells[3]).toBe(`198.51.100.7,${host},192.0.2.1`);
    const onlyHost = svc('lb', { type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ hostname: host }] } });
    expect(table([onlyHost], false).rows[0]?.cells[3]).toBe('web-1a2b3c4d....');
  });

  test('includeObject decides what each row carries', () => {
    const s = svc('web', { type: 'ClusterIP' });
    const kindOf = (include: 'None' | 'Metadata' | 'Object') =>
      toTable(kind('', 'Service'), [s], { includeObject: include, now }).rows[0]?.object;
    expect(kindOf('None')).toBeUndefined();
    expect(kindOf('Metadata')).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: s.metadata,
    });
    expect(kindOf('Object')).toBe(s);
  });
});

describe('the other kinds', () => {
  test('EndpointSlice: NAME ADDRESSTYPE PORTS ENDPOINTS AGE, three addresses then "+ N more..."', () => {
    const slice = {
      metadata: { name: 'web-abc', creationTimestamp: created },
      addressType: 'IPv4',
      ports: [{ port: 8080 }, { name: 'metrics' }],
      endpoints: [
        { addresses: ['10.0.0.1', '10.0.0.2'] },
        { addresses: ['10.0.0.3'] },
        { addresses: ['10.0.0.4'] },
      ],
    };
    const t = toTable(kind('discovery.k8s.io', 'EndpointSlice'), [slice], { now });
    expect(t.columnDefinitions.map((c) => c.name)).toEqual([
      'Name',
      'AddressType',
      'Ports',
      'Endpoints',
      'Age',
    ]);
    expect(t.rows[0]?.cells).toEqual([
      'web-abc',
      'IPv4',
      '8080,metrics',
      '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...',
      '5m',
    ]);
    expect(
      toTable(kind('discovery.k8s.io', 'EndpointSlice'), [{ metadata: { name: 'e' }, addressType: 'IPv4' }], {
        now,
      }).rows[0]?.cells,
    ).toEqual(['e', 'IPv4', '<unset>', '<unset>', '<unknown>']);
  });

  test('Lease: NAME HOLDER AGE; Namespace: NAME STATUS AGE', () => {
    const lease = {
      metadata: { name: 'kube-zk-sync', creationTimestamp: created },
      spec: { holderIdentity: 'pod-1' },
    };
    expect(toTable(kind('coordination.k8s.io', 'Lease'), [lease], { now }).rows[0]?.cells).toEqual([
      'kube-zk-sync',
      'pod-1',
      '5m',
    ]);
    const ns = {
      metadata: { name: 'shop', creationTimestamp: '2025-12-20T01:00:00Z' },
      status: { phase: 'Active' },
    };
    expect(toTable(kind('', 'Namespace'), [ns], { now }).rows[0]?.cells).toEqual(['shop', 'Active', '12d']);
  });

  test('Events, core/v1 and events.k8s.io/v1, print the same: LAST SEEN TYPE REASON OBJECT MESSAGE (+ wide)', () => {
    const core = {
      metadata: { name: 'web.1', creationTimestamp: created },
      involvedObject: { kind: 'Service', name: 'web' },
      reason: 'EnsuringLoadBalancer',
      message: 'Ensuring load balancer ',
      type: 'Normal',
      source: { component: 'service-controller' },
      firstTimestamp: '2026-01-01T00:50:00Z',
      lastTimestamp: '2026-01-01T00:59:30Z',
      count: 3,
    };
    const modern = {
      metadata: { name: 'web.1', creationTimestamp: created },
      regarding: { kind: 'Service', name: 'web' },
      reason: 'EnsuringLoadBalancer',
      note: 'Ensuring load balancer',
      type: 'Normal',
      reportingController: 'service-controller',
      reportingInstance: 'node-1',
      eventTime: '2026-01-01T00:50:00.000000Z',
      series: { count: 3, lastObservedTime: '2026-01-01T00:59:30.000000Z' },
    };
    const coreTable = toTable(kind('', 'Event'), [core], { now });
    expect(coreTable.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual([
      'Last Seen',
      'Type',
      'Reason',
      'Object',
      'Message',
    ]);
    expect(coreTable.rows[0]?.cells).toEqual([
      '30s',
      'Normal',
      'EnsuringLoadBalancer',
      'service/web',
      '',
      'service-controller',
      'Ensuring load balancer',
      '10m',
      3,
      'web.1',
    ]);
    expect(toTable(kind('events.k8s.io', 'Event'), [modern], { now }).rows[0]?.cells).toEqual([
      '30s',
      'Normal',
      'EnsuringLoadBalancer',
      'service/web',
      '',
      'service-controller, node-1',
      'Ensuring load balancer',
      '10m',
      3,
      'web.1',
    ]);
  });

  test('ages read as kubectl prints them', () => {
    const s = 1000;
    expect(
      [
        59 * s,
        119 * s,
        150 * s,
        600 * s,
        3 * 3600 * s + 60 * s,
        7 * 3600 * s + 5 * 60 * s,
        50 * 3600 * s,
        800 * 86400 * s,
        -5 * s,
      ].map(humanDuration),
    ).toEqual(['59s', '119s', '2m30s', '10m', '3h1m', '7h5m', '2d2h', '2y70d', '<invalid>']);
  });
});
