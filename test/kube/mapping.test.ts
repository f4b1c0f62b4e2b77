import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { TrimmedService } from '../../lib/events/contract.ts';
import {
  defaultMappingConfig,
  type MappingConfig,
  mapService,
  mapServices,
  nameRefusalFor,
} from '../../lib/kube/mapping.ts';
import { parseMappingConfig } from '../../lib/kube/mapping-config.ts';
import { entryProblems } from '../../lib/registry/validate.ts';

type Patch = {
  name?: string;
  namespace?: string;
  type?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: { name?: string; port: number }[];
  externalIPs?: string[];
  ingress?: { ip?: string; hostname?: string }[];
};

/** A published-by-default LoadBalancer `shop/web` with one ingress IP and ports http:80, https:443. */
function service(patch: Patch = {}): TrimmedService {
  return {
    metadata: {
      name: patch.name ?? 'web',
      namespace: patch.namespace ?? 'shop',
      resourceVersion: '7',
      ...(patch.labels ? { labels: patch.labels } : {}),
      ...(patch.annotations ? { annotations: patch.annotations } : {}),
    },
    spec: {
      type: patch.type ?? 'LoadBalancer',
      ports: patch.ports ?? [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
      ...(patch.externalIPs ? { externalIPs: patch.externalIPs } : {}),
    },
    status: { loadBalancer: { ingress: patch.ingress ?? [{ ip: '203.0.113.10' }] } },
  };
}

const config = (env: Record<string, string> = {}): MappingConfig => parseMappingConfig(env);

describe('mapService: the published entry', () => {
  test('defaults: name {name}.{namespace}, a description naming the Service and cluster, every port', () => {
    expect(mapService(service(), defaultMappingConfig, 'prod')).toStrictEqual({
      kind: 'entry',
      key: 'shop/web',
      entry: {
        name: 'web.shop',
        description: 'Kubernetes Service shop/web (cluster prod)',
        endpoints: ['203.0.113.10:443', '203.0.113.10:80'],
      },
    });
  });

  test('without a cluster id the default description leaves the cluster out', () => {
    const result = mapService(service(), defaultMappingConfig);
    expect(result.kind === 'entry' && result.entry.description).toBe('Kubernetes Service shop/web');
  });

  test.each<[string, Patch, Partial<{ name: string; description: string; endpoints: string[] }>]>([
    [
      'name annotation',
      { annotations: { 'kube-zk-sync.io/name': 'frontend.shop' } },
      { name: 'frontend.shop' },
    ],
    [
      'description annotation',
      { annotations: { 'kube-zk-sync.io/description': 'The shop, public side' } },
      { description: 'The shop, public side' },
    ],
    [
      'port annotation by name',
      { annotations: { 'kube-zk-sync.io/port': 'https' } },
      { endpoints: ['203.0.113.10:443'] },
    ],
    [
      'port annotation by number',
      { annotations: { 'kube-zk-sync.io/port': '80' } },
      { endpoints: ['203.0.113.10:80'] },
    ],
    [
      'port annotation with spaces',
      { annotations: { 'kube-zk-sync.io/port': ' 80 ' } },
      { endpoints: ['203.0.113.10:80'] },
    ],
    ['register "true" with the default on', { annotations: { 'kube-zk-sync.io/register': 'true' } }, {}],
    ['register "True" (case does not matter)', { annotations: { 'kube-zk-sync.io/register': 'True' } }, {}],
    [
      'ingress by IP',
      { ingress: [{ ip: '198.51.100.1' }] },
      { endpoints: ['198.51.100.1:443', '198.51.100.1:80'] },
    ],
    [
      'ingress by hostname',
      { ingress: [{ hostname: 'a1.elb.us-east-1.amazonaws.com' }] },
      { endpoints: ['a1.elb.us-east-1.amazonaws.com:443', 'a1.elb.us-east-1.amazonaws.com:80'] },
    ],
    [
      'ingress with both: the hostname wins',
      { ingress: [{ ip: '198.51.100.1', hostname: 'lb.example.com' }], ports: [{ port: 80 }] },
      { endpoints: ['lb.example.com:80'] },
    ],
    [
      'several ingresses, one port',
      {
        ingress: [{ ip: '198.51.100.2' }, { hostname: 'lb.example.com' }, { ip: '198.51.100.1' }],
        ports: [{ port: 9092 }],
      },
      { endpoints: ['198.51.100.1:9092', '198.51.100.2:9092', 'lb.example.com:9092'] },
    ],
    [
      'duplicate ingresses are published once',
      { ingress: [{ ip: '198.51.100.1' }, { ip: '198.51.100.1' }], ports: [{ port: 80 }] },
      { endpoints: ['198.51.100.1:80'] },
    ],
    [
      'an IPv6 ingress is bracketed',
      { ingress: [{ ip: '2001:db8::1' }], ports: [{ port: 443 }] },
      { endpoints: ['[2001:db8::1]:443'] },
    ],
    [
      'externalIPs are not read by default: the load balancer gives the address',
      { externalIPs: ['192.0.2.1', '192.0.2.2'], ports: [{ port: 80 }] },
      { endpoints: ['203.0.113.10:80'] },
    ],
    ['unnamed single port', { ports: [{ port: 5432 }] }, { endpoints: ['203.0.113.10:5432'] }],
  ])('%s', (_, patch, expected) => {
    const result = mapService(service(patch), defaultMappingConfig, 'prod');
    expect(result.kind).toBe('entry');
    if (result.kind !== 'entry') return;
    expect(result.entry).toMatchObject(expected);
    expect(entryProblems(result.entry)).toStrictEqual([]);
  });

  test('templates fill {name}, {namespace} and {cluster}', () => {
    const templated = config({
      NAME_TEMPLATE: '{cluster}-{namespace}-{name}',
      DESCRIPTION_TEMPLATE: '{name} in {namespace} of {cluster}',
    });
    const result = mapService(service(), templated, 'eu1');
    expect(result).toMatchObject({
      kind: 'entry',
      entry: { name: 'eu1-shop-web', description: 'web in shop of eu1' },
    });
  });

  test('annotations win over templates', () => {
    const templated = config({ NAME_TEMPLATE: '{name}-{namespace}', DESCRIPTION_TEMPLATE: 'from template' });
    const annotated = service({
      annotations: { 'kube-zk-sync.io/name': 'chosen.shop', 'kube-zk-sync.io/description': 'chosen too' },
    });
    expect(mapService(annotated, templated)).toMatchObject({
      entry: { name: 'chosen.shop', description: 'chosen too' },
    });
  });
});

describe('mapService: skipped Services', () => {
  test.each<[string, Patch, Record<string, string>, RegExp]>([
    [
      'a ClusterIP Service with the default types',
      { type: 'ClusterIP' },
      {},
      /type ClusterIP is not in SERVICE_TYPES \(LoadBalancer\)/,
    ],
    [
      'a NodePort Service with the default types',
      { type: 'NodePort' },
      {},
      /type NodePort is not in SERVICE_TYPES/,
    ],
    ['a LoadBalancer without ingress yet', { ingress: [] }, {}, /load balancer has no ingress address yet/],
    ['a LoadBalancer whose ingress has no address', { ingress: [{}] }, {}, /no ingress address yet/],
    [
      'a NodePort Service without externalIPs when NodePort is configured',
      { type: 'NodePort', ingress: [] },
      { SERVICE_TYPES: 'NodePort' },
      /no external address \(no spec.externalIPs\)/,
    ],
    [
      'register "false"',
      { annotations: { 'kube-zk-sync.io/register': 'false' } },
      {},
      /opted out with kube-zk-sync.io\/register: "false"/,
    ],
    [
      'no register annotation when DEFAULT_REGISTER is false',
      {},
      { DEFAULT_REGISTER: 'false' },
      /DEFAULT_REGISTER is false/,
    ],
    [
      'register "false" when DEFAULT_REGISTER is false',
      { annotations: { 'kube-zk-sync.io/register': 'false' } },
      { DEFAULT_REGISTER: 'false' },
      /opted out/,
    ],
    [
      'a namespace outside NAMESPACES_ALLOW',
      {},
      { NAMESPACES_ALLOW: 'billing,team-*' },
      /namespace shop is not in NAMESPACES_ALLOW \(billing,team-\*\)/,
    ],
    [
      'a namespace in NAMESPACES_DENY',
      {},
      { NAMESPACES_DENY: 'shop' },
      /namespace shop matches NAMESPACES_DENY entry "shop"/,
    ],
    [
      'deny wins over allow',
      {},
      { NAMESPACES_ALLOW: '*', NAMESPACES_DENY: 'sh*' },
      /matches NAMESPACES_DENY entry "sh\*"/,
    ],
    [
      'deny wins over an opt-in',
      { annotations: { 'kube-zk-sync.io/register': 'true' } },
      { NAMESPACES_DENY: 'shop' },
      /NAMESPACES_DENY/,
    ],
    [
      'labels that do not match',
      { labels: { app: 'web' } },
      { LABEL_SELECTOR: 'app=web,expose' },
      /do not match LABEL_SELECTOR "app=web,expose" \(at "expose"\)/,
    ],
    ['no labels and an equality selector', {}, { LABEL_SELECTOR: 'app=web' }, /LABEL_SELECTOR/],
    [
      'a set-based selector that excludes it',
      { labels: { tier: 'internal' } },
      { LABEL_SELECTOR: 'tier notin (internal,batch)' },
      /at "tier"/,
    ],
    [
      'a type filter wins over an opt-in',
      { type: 'ClusterIP', annotations: { 'kube-zk-sync.io/register': 'true' } },
      {},
      /type ClusterIP/,
    ],
  ])('%s', (_, patch, env, reason) => {
    const result = mapService(service(patch), config(env), 'prod');
    expect(result).toMatchObject({ kind: 'skipped', key: 'shop/web' });
    expect(result.kind === 'skipped' && result.reason).toMatch(/^Service shop\/web: /);
    expect(result.kind === 'skipped' && result.reason).toMatch(reason);
  });

  test.each<[string, Patch, Record<string, string>]>([
    [
      'register "true" when DEFAULT_REGISTER is false',
      { annotations: { 'kube-zk-sync.io/register': 'true' } },
      { DEFAULT_REGISTER: 'false' },
    ],
    ['a namespace matching an allow glob', { namespace: 'team-a' }, { NAMESPACES_ALLOW: 'team-*' }],
    ['a namespace not denied', {}, { NAMESPACES_DENY: 'kube-*' }],
    [
      'matching labels',
      { labels: { app: 'web', tier: 'front' } },
      { LABEL_SELECTOR: 'app in (web,api),tier!=back,!canary' },
    ],
    [
      'a configured NodePort type with externalIPs of a trusted namespace',
      { type: 'NodePort', externalIPs: ['192.0.2.1'], ingress: [] },
      { SERVICE_TYPES: 'LoadBalancer,NodePort', ALLOW_EXTERNAL_IPS: 'true', EXTERNAL_IPS_NAMESPACES: 'shop' },
    ],
    [
      'a configured ClusterIP type with externalIPs of a trusted namespace',
      { type: 'ClusterIP', externalIPs: ['192.0.2.1'], ingress: [] },
      { SERVICE_TYPES: 'ClusterIP', ALLOW_EXTERNAL_IPS: 'true', EXTERNAL_IPS_NAMESPACES: '*' },
    ],
  ])('published: %s', (_, patch, env) => {
    expect(mapService(service(patch), config(env), 'prod').kind).toBe('entry');
  });
});

describe('mapService: invalid Services', () => {
  test.each<[string, Patch, Record<string, string>, string | undefined, RegExp]>([
    [
      'a register annotation that is not a boolean',
      { annotations: { 'kube-zk-sync.io/register': 'yes' } },
      {},
      'prod',
      /annotation kube-zk-sync.io\/register is "yes"; use "true" or "false"/,
    ],
    [
      'a port annotation naming no port',
      { annotations: { 'kube-zk-sync.io/port': 'grpc' } },
      {},
      'prod',
      /no port is named "grpc"; its ports are http \(80\), https \(443\) \(annotation kube-zk-sync.io\/port\)/,
    ],
    [
      'a port annotation numbering no port',
      { annotations: { 'kube-zk-sync.io/port': '8080' } },
      {},
      'prod',
      /no port is numbered "8080"/,
    ],
    [
      'an empty port annotation',
      { annotations: { 'kube-zk-sync.io/port': '' } },
      {},
      'prod',
      /no port is named ""/,
    ],
    ['no ports at all', { ports: [] }, {}, 'prod', /it has no ports/],
    [
      'a name annotation with bad characters',
      { annotations: { 'kube-zk-sync.io/name': 'shop web!' } },
      {},
      'prod',
      /registry entry "shop web!" is invalid: .*letters, digits.*\(name from annotation kube-zk-sync.io\/name/,
    ],
    [
      'an empty name annotation',
      { annotations: { 'kube-zk-sync.io/name': '' } },
      {},
      'prod',
      /the name is empty/,
    ],
    [
      'a name annotation over 253 characters',
      { annotations: { 'kube-zk-sync.io/name': 'a'.repeat(254) } },
      {},
      'prod',
      /longer than 253/,
    ],
    [
      'a description annotation over the limit',
      { annotations: { 'kube-zk-sync.io/description': 'd'.repeat(5000) } },
      {},
      'prod',
      /description is longer.*description from annotation kube-zk-sync.io\/description/,
    ],
    [
      'a name template rendering bad characters',
      {},
      { NAME_TEMPLATE: '{cluster}/{name}.{namespace}' },
      'prod',
      /"prod\/web.shop" is invalid.*name from NAME_TEMPLATE/,
    ],
    [
      '{cluster} in the name template without a cluster',
      {},
      { NAME_TEMPLATE: '{name}.{namespace}.{cluster}' },
      undefined,
      /NAME_TEMPLATE "\{name\}.\{namespace\}.\{cluster\}" uses \{cluster\}, but the cluster is not known/,
    ],
    [
      'an ingress hostname that is not a host name',
      { ingress: [{ hostname: 'bad_host' }] },
      {},
      'prod',
      /invalid host "bad_host"/,
    ],
  ])('%s', (_, patch, env, cluster, error) => {
    const result = mapService(service(patch), config(env), cluster);
    expect(result).toMatchObject({ kind: 'invalid', key: 'shop/web' });
    expect(result.kind === 'invalid' && result.error).toMatch(/^Service shop\/web: /);
    expect(result.kind === 'invalid' && result.error).toMatch(error);
  });

  test('a template that bypassed parseMappingConfig is reported, not thrown', () => {
    const result = mapService(service(), { ...defaultMappingConfig, nameTemplate: '{nam}' }, 'prod');
    expect(result).toMatchObject({
      kind: 'invalid',
      error: expect.stringContaining('unknown placeholder {nam}'),
    });
  });

  test('a bad annotation on one Service among many leaves the others mapped', () => {
    const services = [
      service({ name: 'a' }),
      service({ name: 'b', annotations: { 'kube-zk-sync.io/port': 'nope' } }),
      service({ name: 'c', annotations: { 'kube-zk-sync.io/register': 'sometimes' } }),
      service({ name: 'd', annotations: { 'kube-zk-sync.io/name': 'd d' } }),
      service({ name: 'e', ingress: [] }),
      service({ name: 'f' }),
    ];
    expect(mapServices(services, defaultMappingConfig, 'prod').map((r) => [r.key, r.kind])).toStrictEqual([
      ['shop/a', 'entry'],
      ['shop/b', 'invalid'],
      ['shop/c', 'invalid'],
      ['shop/d', 'invalid'],
      ['shop/e', 'skipped'],
      ['shop/f', 'entry'],
    ]);
  });
});

describe('mapService: addresses', () => {
  const trusted = { SERVICE_TYPES: 'LoadBalancer,NodePort,ClusterIP', ALLOW_EXTERNAL_IPS: 'true' };
  test.each<[string, Patch, Record<string, string>, string[] | RegExp]>([
    [
      'externalIPs of a trusted namespace win over the ingress',
      { externalIPs: ['192.0.2.1', '192.0.2.2'], ports: [{ port: 80 }] },
      { ...trusted, EXTERNAL_IPS_NAMESPACES: 'shop' },
      ['192.0.2.1:80', '192.0.2.2:80'],
    ],
    [
      'externalIPs of a trusted namespace publish a LoadBalancer that has no ingress yet',
      { externalIPs: ['192.0.2.1'], ingress: [], ports: [{ port: 80 }] },
      { ...trusted, EXTERNAL_IPS_NAMESPACES: 'team-*,sh*' },
      ['192.0.2.1:80'],
    ],
    [
      'externalIPs of another namespace: the ingress',
      { externalIPs: ['192.0.2.1'], ports: [{ port: 80 }] },
      { ...trusted, EXTERNAL_IPS_NAMESPACES: 'platform' },
      ['203.0.113.10:80'],
    ],
    [
      'a ClusterIP Service whose externalIPs are not read is skipped, saying why',
      { type: 'ClusterIP', externalIPs: ['203.0.113.66'], ingress: [], ports: [{ port: 443 }] },
      { SERVICE_TYPES: 'ClusterIP' },
      /it has no load balancer address; its spec.externalIPs are ignored: ALLOW_EXTERNAL_IPS is not "true"/,
    ],
    [
      'a NodePort Service of an untrusted namespace is skipped, naming the setting',
      { type: 'NodePort', externalIPs: ['203.0.113.66'], ingress: [] },
      { ...trusted, EXTERNAL_IPS_NAMESPACES: 'platform,infra-*' },
      /externalIPs are ignored: namespace shop is not in EXTERNAL_IPS_NAMESPACES \(platform,infra-\*\)/,
    ],
    [
      'a LoadBalancer without ingress and with unread externalIPs waits for its load balancer',
      { externalIPs: ['203.0.113.66'], ingress: [] },
      {},
      /load balancer has no ingress address yet; its spec.externalIPs are ignored/,
    ],
  ])('%s', (_, patch, env, expected) => {
    const result = mapService(service(patch), config(env), 'prod');
    if (expected instanceof RegExp) {
      expect(result.kind).toBe('skipped');
      expect(result.kind === 'skipped' && result.reason).toMatch(expected);
    } else {
      expect(result).toMatchObject({ kind: 'entry', entry: { endpoints: expected } });
    }
  });
});

describe('mapService: the name policy', () => {
  const named = (name: string): Patch => ({ annotations: { 'kube-zk-sync.io/name': name } });
  test.each<[string, Patch, Record<string, string>, string | RegExp]>([
    ['its own default name, annotated', named('web.shop'), {}, 'web.shop'],
    ['a name ending in .<namespace>', named('api.shop'), {}, 'api.shop'],
    ['case does not count', named('Api.SHOP'), {}, 'Api.SHOP'],
    [
      'a name of no namespace',
      named('kafka'),
      {},
      /the name "kafka" is not namespace shop's: its Services may publish their NAME_TEMPLATE name \("web.shop"\) or a name ending in ".shop"; other names only .*NAME_OVERRIDE_NAMESPACES.*\(name from annotation kube-zk-sync.io\/name\)/,
    ],
    ["another namespace's default name", named('web.payments'), {}, /"web.payments" is not namespace shop's/],
    ['the namespace alone', named('shop'), {}, /"shop" is not namespace shop's/],
    ['a suffix that only starts with the namespace', named('x.shop.evil'), {}, /is not namespace shop's/],
    ['a lookalike of the namespace', named('web.shop-2'), {}, /is not namespace shop's/],
    ['any name, for a trusted namespace', named('kafka'), { NAME_OVERRIDE_NAMESPACES: 'shop' }, 'kafka'],
    ['any name, for a namespace a glob trusts', named('kafka'), { NAME_OVERRIDE_NAMESPACES: 'sh*' }, 'kafka'],
    [
      'a reserved name, whoever asks',
      named('Kafka'),
      { NAME_OVERRIDE_NAMESPACES: '*', RESERVED_NAMES: 'kafka,solr' },
      /the name "Kafka" matches RESERVED_NAMES entry "kafka": no cluster may publish it/,
    ],
    [
      'a reserved pattern',
      named('orders.db'),
      { NAME_OVERRIDE_NAMESPACES: 'shop', RESERVED_NAMES: '*.db' },
      /matches RESERVED_NAMES entry "\*.db"/,
    ],
    [
      'a reserved pattern covers template names too',
      {},
      { RESERVED_NAMES: '*.SHOP' },
      /the name "web.shop" matches RESERVED_NAMES entry "\*.SHOP".*\(name from NAME_TEMPLATE\)/,
    ],
    [
      'a reserved pattern matches whole names',
      named('kafka-ui.shop'),
      { RESERVED_NAMES: 'kafka' },
      'kafka-ui.shop',
    ],
    [
      "a template's name without a dot",
      {},
      { NAME_TEMPLATE: '{cluster}-{namespace}-{name}' },
      'prod-shop-web',
    ],
    [
      "another Service's name of that template",
      named('prod-shop-api'),
      { NAME_TEMPLATE: '{cluster}-{namespace}-{name}' },
      /"prod-shop-api" is not namespace shop's: .*\("prod-shop-web"\)/,
    ],
    [
      'a template without {namespace}, every namespace trusted',
      {},
      { NAME_TEMPLATE: '{name}', NAME_OVERRIDE_NAMESPACES: '*' },
      'web',
    ],
  ])('%s', (_, patch, env, expected) => {
    const mapping = config(env);
    const result = mapService(service(patch), mapping, 'prod');
    if (expected instanceof RegExp) {
      expect(result.kind).toBe('invalid');
      expect(result.kind === 'invalid' && result.error).toMatch(expected);
    } else {
      expect(result).toMatchObject({ kind: 'entry', entry: { name: expected } });
    }
    // The step judges the names a Service holds with the same rule, from its key alone.
    const name =
      typeof expected === 'string' ? expected : (patch.annotations?.['kube-zk-sync.io/name'] ?? 'web.shop');
    expect(nameRefusalFor('shop/web', name, mapping, 'prod') === undefined).toBe(
      typeof expected === 'string',
    );
  });
});

describe('mapService: properties', () => {
  const dnsLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
  const arbitraryService: fc.Arbitrary<TrimmedService> = fc
    .record({
      name: dnsLabel,
      namespace: dnsLabel,
      type: fc.constantFrom('LoadBalancer', 'NodePort', 'ClusterIP', undefined),
      ports: fc.array(
        fc.record({
          name: fc.option(dnsLabel, { nil: undefined }),
          port: fc.integer({ min: 1, max: 65535 }),
        }),
        { maxLength: 4 },
      ),
      externalIPs: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 3 }),
      ingress: fc.array(
        fc.record({
          ip: fc.option(fc.ipV4(), { nil: undefined }),
          hostname: fc.option(address, { nil: undefined }),
        }),
        { maxLength: 4 },
      ),
      annotations: fc.dictionary(
        fc.constantFrom('kube-zk-sync.io/port', 'kube-zk-sync.io/register', 'kube-zk-sync.io/name'),
        fc.oneof(fc.constantFrom('true', 'false', '80', 'http'), dnsLabel),
      ),
    })
    .map(({ ingress, ...p }) =>
      service({
        ...p,
        ingress: ingress.map((i) => Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined))),
      }),
    );
  const arbitraryConfig = fc.record({
    SERVICE_TYPES: fc.constantFrom('LoadBalancer', 'LoadBalancer,NodePort,ClusterIP'),
    DEFAULT_REGISTER: fc.constantFrom('true', 'false'),
  });

  test('mapping is deterministic, and endpoints are sorted, unique and valid', () => {
    fc.assert(
      fc.property(arbitraryService, arbitraryConfig, (svc, env) => {
        const mappingConfig = config(env);
        const first = mapService(svc, mappingConfig, 'prod');
        expect(mapService(structuredClone(svc), mappingConfig, 'prod')).toStrictEqual(first);
        if (first.kind === 'entry') {
          const { endpoints } = first.entry;
          expect(endpoints).toStrictEqual([...new Set(endpoints)].sort());
          expect(entryProblems(first.entry)).toStrictEqual([]);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('the order of ingresses, externalIPs and ports does not change the entry', () => {
    fc.assert(
      fc.property(arbitraryService, fc.integer(), (svc, seed) => {
        // Fisher–Yates driven by a small LCG, so fast-check can shrink and replay the permutation by its seed.
        let state = seed >>> 0;
        const next = () => {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          return state;
        };
        const shuffle = <T>(items: readonly T[] | undefined): T[] | undefined => {
          if (items === undefined) return undefined;
          const out = [...items];
          for (let i = out.length - 1; i > 0; i--) {
            const j = next() % (i + 1);
            [out[i], out[j]] = [out[j] as T, out[i] as T];
          }
          return out;
        };
        const reordered: TrimmedService = {
          ...svc,
          spec: { ...svc.spec, ports: shuffle(svc.spec.ports), externalIPs: shuffle(svc.spec.externalIPs) },
          status: { loadBalancer: { ingress: shuffle(svc.status?.loadBalancer?.ingress) } },
        };
        expect(mapService(reordered, defaultMappingConfig, 'prod')).toStrictEqual(
          mapService(svc, defaultMappingConfig, 'prod'),
        );
      }),
    );
  });
});

describe('mapService: shared entries', () => {
  const shared = (value: string): Patch => ({ annotations: { 'kube-zk-sync.io/shared': value } });
  const sharing = (patch: Patch, env: Record<string, string> = {}) => {
    const m = mapService(service(patch), config(env), 'prod');
    return m.kind === 'entry' ? (m.shared ?? false) : m;
  };

  test('the annotation opts a Service in, or out of SHARED_NAMES; SHARED_NAMES decides the rest', () => {
    expect(sharing({})).toBe(false);
    expect(sharing(shared('true'))).toBe(true);
    expect(sharing(shared(' TRUE '))).toBe(true);
    expect(sharing({}, { SHARED_NAMES: 'web.*' })).toBe(true);
    expect(sharing({}, { SHARED_NAMES: 'WEB.SHOP' })).toBe(true);
    expect(sharing({}, { SHARED_NAMES: 'api.*' })).toBe(false);
    expect(sharing(shared('false'), { SHARED_NAMES: '*' })).toBe(false);
  });

  test('a bad annotation is invalid, naming it', () => {
    expect(sharing(shared('yes'))).toMatchObject({
      kind: 'invalid',
      error: 'Service shop/web: annotation kube-zk-sync.io/shared is "yes"; use "true" or "false"',
    });
  });

  test('sharing takes no name the name policy refuses: another namespace cannot join web.shop', () => {
    const m = mapService(
      service({
        namespace: 'payments',
        annotations: { 'kube-zk-sync.io/shared': 'true', 'kube-zk-sync.io/name': 'web.shop' },
      }),
      config({ SHARED_NAMES: '*' }),
      'prod',
    );
    expect(m).toMatchObject({
      kind: 'invalid',
      error: expect.stringMatching(/"web.shop" is not namespace payments's/),
    });
  });
});
