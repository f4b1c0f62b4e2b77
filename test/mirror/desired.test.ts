import { describe, expect, test } from 'vitest';
import { ANNOTATIONS } from '../../lib/kube/annotations.ts';
import { mapService } from '../../lib/kube/mapping.ts';
import { defaultMappingConfig } from '../../lib/kube/mapping-config.ts';
import { trimService } from '../../lib/kube/trim.ts';
import {
  desiredObjects,
  instanceLabel,
  MIRROR_ANNOTATIONS,
  type MirrorSelection,
  SLICE_LABELS,
} from '../../lib/mirror/desired.ts';
import { dns1035Base, isDns1035Label, serviceNames, shortHash } from '../../lib/mirror/names.ts';
import { handEntry, ownedEntry, type RegistryDocument } from '../../lib/registry/document.ts';

const hand = (name: string, ...endpoints: string[]) => handEntry({ name, description: name, endpoints });
const doc = (...entries: RegistryDocument['entries'][number][]): RegistryDocument => ({ entries });
const selection: MirrorSelection = { clusterId: 'prod', includeClusters: [], namespace: 'registry' };

describe('Service names', () => {
  test.each([
    ['kafka', 'kafka'],
    ['Kafka.Brokers', 'kafka-brokers'],
    ['solr_main', 'solr-main'],
    ['3par', 'r-3par'],
    ['db.', 'db'],
  ])('%s → %s', (name, label) => {
    expect(dns1035Base(name)).toBe(label);
    expect(serviceNames([name]).get(name)).toBe(label);
  });

  test('names that meet after mapping: the one that is the label keeps it, the others get a stable hash', () => {
    const names = serviceNames(['a.b', 'a_b', 'a-b']);
    expect(names.get('a-b')).toBe('a-b');
    expect(names.get('a.b')).toBe(`a-b-${shortHash('a.b')}`);
    expect(names.get('a_b')).toBe(`a-b-${shortHash('a_b')}`);
    // The same name gets the same Service name whatever else the document holds.
    expect(serviceNames(['a_b', 'zz', 'a-b']).get('a_b')).toBe(names.get('a_b'));
  });

  test('without a name that is the label, the first in code-unit order keeps it', () => {
    const names = serviceNames(['a_b', 'a.b']);
    expect(names.get('a.b')).toBe('a-b');
    expect(names.get('a_b')).toMatch(/^a-b-[0-9a-f]{8}$/);
  });

  test('long names are cut to 63 characters with a hash of the whole name', () => {
    const long = `${'x'.repeat(100)}.example`;
    const label = serviceNames([long]).get(long) as string;
    expect(label.length).toBeLessThanOrEqual(63);
    expect(isDns1035Label(label)).toBe(true);
    expect(label.endsWith(shortHash(long))).toBe(true);
  });

  test('a long cluster id is cut to a label value with a hash', () => {
    expect(instanceLabel('prod')).toBe('prod');
    const long = `c${'-x'.repeat(60)}`;
    expect(instanceLabel(long).length).toBeLessThanOrEqual(63);
    expect(instanceLabel(long)).toMatch(/^c-x.*[A-Za-z0-9]-[0-9a-f]{8}$/);
  });
});

describe('desired objects', () => {
  test('IP endpoints: a selectorless Service, one port per distinct port, IPv4 and IPv6 in separate slices', () => {
    const state = desiredObjects(
      doc(hand('Postgres.Main', '10.0.0.1:5432', '10.0.0.2:5432', '[2001:DB8::1]:5432', '10.0.0.1:9187')),
      selection,
    );
    expect(state.unmirrorable).toEqual([]);
    const [mirrored] = state.mirrored;
    expect(mirrored?.service.metadata.name).toBe('postgres-main');
    expect(mirrored?.service.spec).toEqual({
      type: 'ClusterIP',
      ports: [
        { name: 'tcp-5432', port: 5432, protocol: 'TCP' },
        { name: 'tcp-9187', port: 9187, protocol: 'TCP' },
      ],
      ipFamilyPolicy: 'PreferDualStack',
    });
    expect(mirrored?.service.metadata.annotations).toMatchObject({
      [ANNOTATIONS.register]: 'false',
      [MIRROR_ANNOTATIONS.registryName]: 'Postgres.Main',
      [MIRROR_ANNOTATIONS.registryOwner]: 'people',
    });
    expect(mirrored?.service.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'kube-zk-sync',
      'kube-zk-sync.io/instance': 'prod',
    });
    const slices = mirrored?.slices.map((s) => ({
      name: s.metadata.name,
      type: s.addressType,
      ports: s.ports.map((p) => p.name),
      addresses: s.endpoints.map((e) => e.addresses[0]),
      service: s.metadata.labels[SLICE_LABELS.serviceName],
      manager: s.metadata.labels[SLICE_LABELS.managedBy],
    }));
    // 10.0.0.1 has both ports, 10.0.0.2 only 5432: each address gets exactly the ports the entry lists.
    expect(slices).toEqual([
      {
        name: 'postgres-main-ipv4',
        type: 'IPv4',
        ports: ['tcp-5432'],
        addresses: ['10.0.0.2'],
        service: 'postgres-main',
        manager: 'mirror.kube-zk-sync.io',
      },
      {
        name: 'postgres-main-ipv4-1',
        type: 'IPv4',
        ports: ['tcp-5432', 'tcp-9187'],
        addresses: ['10.0.0.1'],
        service: 'postgres-main',
        manager: 'mirror.kube-zk-sync.io',
      },
      {
        name: 'postgres-main-ipv6',
        type: 'IPv6',
        ports: ['tcp-5432'],
        addresses: ['2001:db8::1'],
        service: 'postgres-main',
        manager: 'mirror.kube-zk-sync.io',
      },
    ]);
    // Every slice port name is a Service port name: kube-proxy matches them by name.
    const servicePorts = new Set(
      mirrored?.service.spec.type === 'ClusterIP' ? mirrored.service.spec.ports.map((p) => p.name) : [],
    );
    for (const s of mirrored?.slices ?? [])
      for (const p of s.ports) expect(servicePorts.has(p.name)).toBe(true);
  });

  test('one host name (any ports): an ExternalName Service, lower case, no slices', () => {
    const state = desiredObjects(
      doc(hand('kafka', 'Kafka.Internal.:9092', 'kafka.internal:9093')),
      selection,
    );
    expect(state.mirrored[0]?.service.spec).toEqual({ type: 'ExternalName', externalName: 'kafka.internal' });
    expect(state.mirrored[0]?.slices).toEqual([]);
  });

  test.each([
    [['a.internal:1', 'b.internal:1'], /2 host names \(a\.internal, b\.internal\)/],
    [['a.internal:1', '10.0.0.1:1'], /mixes host names and IP addresses/],
    [[], /no endpoints/],
    [['not an endpoint'], /is not host:port/],
    [['127.0.0.1:5432'], /loopback/],
    [['169.254.1.1:80'], /link-local/],
    [['[fe80::1]:80'], /link-local/],
  ])('%j is not mirrored: %s', (endpoints, reason) => {
    const state = desiredObjects(doc(hand('db', ...endpoints)), selection);
    expect(state.mirrored).toEqual([]);
    expect(state.unmirrorable).toEqual([{ entry: 'db', reason: expect.stringMatching(reason) }]);
  });

  test("hand-made entries by default; other clusters' with --include-clusters; never this cluster's own", () => {
    const document = doc(
      hand('kafka', '10.0.0.1:9092'),
      ownedEntry(
        { name: 'web.shop', description: '', endpoints: ['10.1.0.1:443'] },
        { cluster: 'prod', service: 'shop/web' },
      ),
      ownedEntry(
        { name: 'api.eu', description: '', endpoints: ['10.2.0.1:443'] },
        { cluster: 'eu', service: 'x/api' },
      ),
    );
    const names = (s: MirrorSelection) => desiredObjects(document, s).mirrored.map((m) => m.entry);
    expect(names(selection)).toEqual(['kafka']);
    expect(names({ ...selection, includeClusters: ['eu'] })).toEqual(['kafka', 'api.eu']);
    expect(names({ ...selection, includeClusters: ['*'] })).toEqual(['kafka', 'api.eu']);
    expect(desiredObjects(document, selection).skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/this cluster's own entry/),
      expect.stringMatching(/cluster "eu"'s entry and --include-clusters/),
    ]);
    const eu = desiredObjects(document, { ...selection, includeClusters: ['eu'] }).mirrored[1];
    expect(eu?.service.metadata.annotations?.[MIRROR_ANNOTATIONS.registryOwner]).toBe('eu');
  });

  test('a mirrored Service is never published back: the mapping skips it whatever types it publishes', () => {
    const [mirrored] = desiredObjects(doc(hand('kafka', '10.0.0.1:9092')), selection).mirrored;
    const service = {
      ...mirrored?.service,
      metadata: { ...mirrored?.service.metadata, resourceVersion: '1', uid: 'u' },
      spec: { ...mirrored?.service.spec, clusterIP: '10.96.0.10', externalIPs: ['203.0.113.5'] },
    };
    const config = {
      ...defaultMappingConfig,
      serviceTypes: ['ClusterIP', 'LoadBalancer', 'NodePort', 'ExternalName'],
      allowExternalIPs: true,
      externalIPsNamespaces: ['*'],
    };
    const result = mapService(trimService(service), config, 'prod');
    expect(result).toMatchObject({ kind: 'skipped', reason: expect.stringMatching(/opted out/) });
  });
});
