// What the mirror wants in its namespace for one registry document: per mirrored entry a Service (selectorless with
// EndpointSlices for IP endpoints, or ExternalName for one host name), and for every other entry the reason it is
// not mirrored. Pure: the same document and options always give the same objects, on every replica.
import { ANNOTATION_PREFIX } from '../events/contract.ts';
import { ANNOTATIONS } from '../kube/annotations.ts';
import { type RegistryDocument, readerView } from '../registry/document.ts';
import { endpointProblem } from '../registry/validate.ts';
import { isDns1035Label, MAX_LABEL_LENGTH, serviceNames, shortHash } from './names.ts';

/** The labels that make an object the mirror's: only objects with both, for this instance, are changed or pruned. */
export const MIRROR_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  instance: `${ANNOTATION_PREFIX}instance`,
} as const;
export const MANAGED_BY = 'kube-zk-sync';
/** `endpointslice.kubernetes.io/managed-by`: the controller that owns a slice (the built-in one leaves it alone). */
const SLICE_MANAGER = 'mirror.kube-zk-sync.io';
export const SLICE_LABELS = {
  serviceName: 'kubernetes.io/service-name',
  managedBy: 'endpointslice.kubernetes.io/managed-by',
} as const;
export const MIRROR_ANNOTATIONS = {
  /** The entry's name in the registry, as written there. */
  registryName: `${ANNOTATION_PREFIX}registry-name`,
  /** `people` for a hand-made entry, else the id of the cluster whose entry it is. */
  registryOwner: `${ANNOTATION_PREFIX}registry-owner`,
  /** The mirror instance's full cluster id (the label holds at most 63 characters of it). */
  instance: `${ANNOTATION_PREFIX}instance`,
} as const;

/** The instance label's value: the cluster id, or its first characters and a hash when it is longer than a label. */
export function instanceLabel(clusterId: string): string {
  if (clusterId.length <= MAX_LABEL_LENGTH) return clusterId;
  return `${clusterId.slice(0, MAX_LABEL_LENGTH - 9).replace(/[^A-Za-z0-9]+$/, '')}-${shortHash(clusterId)}`;
}

export type AddressType = 'IPv4' | 'IPv6';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface MirrorPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP';
}

export interface DesiredService {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec:
    | {
        readonly type: 'ClusterIP';
        readonly ports: readonly MirrorPort[];
        readonly ipFamilyPolicy?: 'PreferDualStack';
      }
    | { readonly type: 'ExternalName'; readonly externalName: string };
}

export interface DesiredSlice {
  readonly apiVersion: 'discovery.k8s.io/v1';
  readonly kind: 'EndpointSlice';
  readonly metadata: ObjectMeta;
  readonly addressType: AddressType;
  readonly ports: readonly MirrorPort[];
  readonly endpoints: ReadonlyArray<{
    readonly addresses: readonly string[];
    readonly conditions: { ready: true };
  }>;
}

export interface MirroredEntry {
  readonly entry: string;
  readonly service: DesiredService;
  readonly slices: readonly DesiredSlice[];
}

export interface EntryReason {
  readonly entry: string;
  readonly reason: string;
}

export interface DesiredState {
  readonly mirrored: readonly MirroredEntry[];
  /** Selected entries that neither form expresses faithfully: reported (log, metric, dry-run), not mirrored. */
  readonly unmirrorable: readonly EntryReason[];
  /** Entries not selected (this cluster's own, other clusters' without --include-clusters). */
  readonly skipped: readonly EntryReason[];
}

export interface MirrorSelection {
  /** This cluster's id: its own entries are never mirrored, and it names the objects' instance. */
  readonly clusterId: string;
  /** Other clusters whose entries are mirrored too: ids, or `*` for every other cluster. */
  readonly includeClusters: readonly string[];
  readonly namespace: string;
}

/** EndpointSlice limits of discovery.k8s.io/v1. */
const MAX_SLICE_PORTS = 100;

type Host = { kind: 'ip'; family: AddressType; address: string } | { kind: 'name'; name: string };

function parseHost(host: string): Host {
  if (host.startsWith('[')) return { kind: 'ip', family: 'IPv6', address: host.slice(1, -1).toLowerCase() };
  if (/^[\d.]+$/.test(host)) return { kind: 'ip', family: 'IPv4', address: host };
  return { kind: 'name', name: host.toLowerCase().replace(/\.$/, '') };
}

/** Addresses that an EndpointSlice must not hold (the Kubernetes docs; kube-proxy would send traffic nowhere). */
function specialAddress(family: AddressType, address: string): string | undefined {
  if (family === 'IPv4') {
    const [a, b] = address.split('.').map(Number);
    if (a === 127) return 'a loopback address';
    if (a === 169 && b === 254) return 'a link-local address';
    if (a === 0) return 'an unspecified address';
    if (a !== undefined && a >= 224) return 'a multicast or reserved address';
    return undefined;
  }
  if (address === '::1') return 'a loopback address';
  if (address === '::') return 'an unspecified address';
  if (/^fe[89ab]/.test(address)) return 'a link-local address';
  if (address.startsWith('ff')) return 'a multicast address';
  return undefined;
}

/** The port's name in the Service and in every slice: kube-proxy matches them by name. */
const portName = (port: number): string => `tcp-${port}`;

const mirrorPort = (port: number): MirrorPort => ({ name: portName(port), port, protocol: 'TCP' });

/** Why an entry's endpoints make no Service, or the Service's shape. */
type Shape =
  | { problem: string }
  | { externalName: string }
  | { ports: number[]; byFamily: Map<AddressType, Map<string, number[]>> };

function shapeOf(endpoints: readonly string[]): Shape {
  if (endpoints.length === 0) return { problem: 'it has no endpoints' };
  const names = new Set<string>();
  const byFamily = new Map<AddressType, Map<string, number[]>>();
  const ports = new Set<number>();
  for (const endpoint of endpoints) {
    const problem = endpointProblem(endpoint);
    if (problem) return { problem };
    const cut = endpoint.lastIndexOf(':');
    const host = parseHost(endpoint.slice(0, cut));
    const port = Number(endpoint.slice(cut + 1));
    ports.add(port);
    if (host.kind === 'name') {
      names.add(host.name);
      continue;
    }
    const special = specialAddress(host.family, host.address);
    if (special)
      return { problem: `endpoint "${endpoint}" is ${special}, which an EndpointSlice may not hold` };
    const family = byFamily.get(host.family) ?? new Map<string, number[]>();
    family.set(host.address, [...(family.get(host.address) ?? []), port]);
    byFamily.set(host.family, family);
  }
  if (names.size > 0 && byFamily.size > 0) {
    return {
      problem:
        'it mixes host names and IP addresses; an ExternalName Service is one DNS name and a selectorless ' +
        'Service takes IP addresses only',
    };
  }
  if (names.size > 1) {
    return {
      problem: `it has ${names.size} host names (${[...names].sort().join(', ')}); an ExternalName Service is one DNS name, and host names are not resolved to IP addresses`,
    };
  }
  const [name] = names;
  if (name !== undefined) return { externalName: name };
  if (ports.size > MAX_SLICE_PORTS) {
    return {
      problem: `it has ${ports.size} distinct ports; an EndpointSlice holds at most ${MAX_SLICE_PORTS}`,
    };
  }
  return { ports: [...ports].sort((a, b) => a - b), byFamily };
}

/** Whether an entry of `owner` (undefined: hand-made) is mirrored, or why not. */
function selectionReason(owner: string | undefined, selection: MirrorSelection): string | undefined {
  if (owner === undefined) return undefined;
  if (owner === selection.clusterId) return `it is this cluster's own entry (cluster "${owner}")`;
  const included = selection.includeClusters;
  if (included.includes('*') || included.includes(owner)) return undefined;
  return `it is cluster "${owner}"'s entry and --include-clusters does not name that cluster`;
}

const sortedKeys = <V>(m: Map<string, V>) => [...m.keys()].sort();

function slicesFor(
  service: string,
  byFamily: Map<AddressType, Map<string, number[]>>,
  meta: (name: string, labels: Record<string, string>) => ObjectMeta,
): DesiredSlice[] {
  const slices: DesiredSlice[] = [];
  for (const family of ['IPv4', 'IPv6'] as const) {
    const addresses = byFamily.get(family);
    if (!addresses) continue;
    // A slice's ports apply to each of its endpoints, so addresses are grouped by the ports they have: an address
    // listed only with 9092 never receives traffic for 9093.
    const groups = new Map<string, { ports: number[]; addresses: string[] }>();
    for (const address of sortedKeys(addresses)) {
      const ports = [...new Set(addresses.get(address))].sort((a, b) => a - b);
      const key = ports.join(',');
      const group = groups.get(key) ?? { ports, addresses: [] };
      group.addresses.push(address);
      groups.set(key, group);
    }
    [...groups.keys()].sort().forEach((key, index) => {
      const group = groups.get(key) as { ports: number[]; addresses: string[] };
      const suffix = index === 0 ? '' : `-${index}`;
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta(`${service}-${family.toLowerCase()}${suffix}`, {
          [SLICE_LABELS.serviceName]: service,
          [SLICE_LABELS.managedBy]: SLICE_MANAGER,
        }),
        addressType: family,
        ports: group.ports.map(mirrorPort),
        endpoints: group.addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
      });
    });
  }
  return slices;
}

/** The objects the document asks for in the mirror's namespace, and why the other entries are left out. */
export function desiredObjects(document: RegistryDocument, selection: MirrorSelection): DesiredState {
  const skipped: EntryReason[] = [];
  const unmirrorable: EntryReason[] = [];
  const selected = document.entries.filter((stored) => {
    const reason = selectionReason(stored.owner?.cluster, selection);
    if (reason) skipped.push({ entry: stored.name, reason });
    return reason === undefined;
  });
  const names = serviceNames(selected.map((e) => e.name));
  const ownership = {
    [MIRROR_LABELS.managedBy]: MANAGED_BY,
    [MIRROR_LABELS.instance]: instanceLabel(selection.clusterId),
  };
  const mirrored: MirroredEntry[] = [];
  for (const stored of selected) {
    const entry = readerView(stored);
    const name = names.get(entry.name);
    if (name === undefined || !isDns1035Label(name)) {
      unmirrorable.push({ entry: entry.name, reason: 'its Service name collides with another entry' });
      continue;
    }
    const shape = shapeOf(entry.endpoints);
    if ('problem' in shape) {
      unmirrorable.push({ entry: entry.name, reason: shape.problem });
      continue;
    }
    const annotations = {
      [ANNOTATIONS.register]: 'false',
      [MIRROR_ANNOTATIONS.registryName]: entry.name,
      [MIRROR_ANNOTATIONS.registryOwner]: stored.owner?.cluster ?? 'people',
      [MIRROR_ANNOTATIONS.instance]: selection.clusterId,
    };
    const meta = (objectName: string, labels: Record<string, string>): ObjectMeta => ({
      name: objectName,
      namespace: selection.namespace,
      labels: { ...labels, ...ownership },
      annotations,
    });
    const service = (spec: DesiredService['spec']): DesiredService => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name, {}),
      spec,
    });
    mirrored.push(
      'externalName' in shape
        ? {
            entry: entry.name,
            service: service({ type: 'ExternalName', externalName: shape.externalName }),
            slices: [],
          }
        : {
            entry: entry.name,
            service: service({
              type: 'ClusterIP',
              ports: shape.ports.map(mirrorPort),
              ...(shape.byFamily.has('IPv6') ? { ipFamilyPolicy: 'PreferDualStack' as const } : {}),
            }),
            slices: slicesFor(name, shape.byFamily, meta),
          },
    );
  }
  return { mirrored, unmirrorable, skipped };
}
