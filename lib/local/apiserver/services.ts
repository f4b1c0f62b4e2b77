// Services: the shape the apiserver serves, the defaults it fills in on create (cluster IP, node ports, policies),
// and the validation kube-zk-sync depends on (ports, type, names), with the apiserver's messages.
import { randomUUID } from 'node:crypto';
import { duplicate, type FieldError, invalidValue, notSupported, required } from './errors.ts';
import type { KubeObject, ObjectMeta } from './store.ts';
import { isDnsLabel, metadataErrors } from './validation.ts';

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export const SERVICE_TYPES: readonly ServiceType[] = [
  'ClusterIP',
  'ExternalName',
  'LoadBalancer',
  'NodePort',
];

export interface ServicePort {
  name?: string;
  protocol: string;
  port: number;
  targetPort: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
}

/** A Service as the apiserver serves it (JSON, `v1`). */
export interface Service extends KubeObject {
  kind: 'Service';
  apiVersion: 'v1';
  metadata: ObjectMeta & { namespace: string };
  spec: {
    type: ServiceType;
    ports: ServicePort[];
    selector?: Record<string, string>;
    clusterIP: string;
    clusterIPs: string[];
    externalIPs?: string[];
    externalName?: string;
    sessionAffinity: string;
    ipFamilies: string[];
    ipFamilyPolicy: string;
    internalTrafficPolicy: string;
    externalTrafficPolicy?: string;
    allocateLoadBalancerNodePorts?: boolean;
    loadBalancerClass?: string;
  };
  status: { loadBalancer: { ingress?: LoadBalancerIngress[] } };
}

/** What a test says about a new Service; the simulator fills in what the apiserver would (uid, clusterIP, …). */
export interface ServiceInput {
  namespace: string;
  name: string;
  type?: ServiceType;
  ports?: { name?: string; port: number; protocol?: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  externalIPs?: string[];
  ingress?: LoadBalancerIngress[];
}

/** The timestamp format of metadata (seconds, UTC). */
export const timestamp = (at = new Date()): string => at.toISOString().replace(/\.\d+Z$/, 'Z');

/** Hands out cluster IPs and node ports, as the apiserver's allocators do, without reuse. */
export class ServiceAllocator {
  #allocated = 0;
  /** A new clusterIP and the serial that node ports are derived from. */
  next(): { clusterIP: string; serial: number } {
    const n = ++this.#allocated;
    return { clusterIP: `10.100.${(n >> 8) & 255}.${n & 255}`, serial: n };
  }
}

const nodePortFor = (serial: number, index: number): number => 30000 + ((serial * 3 + index) % 2768);
const usesNodePorts = (type: string): boolean => type === 'LoadBalancer' || type === 'NodePort';

/** The Service the apiserver would store for `input`; the ingress, if any, is already there (the generator's way). */
export function serviceFromInput(input: ServiceInput, allocator: ServiceAllocator): Service {
  const type = input.type ?? 'ClusterIP';
  const { clusterIP, serial } = allocator.next();
  const external = usesNodePorts(type);
  return {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      uid: randomUUID(),
      resourceVersion: '',
      creationTimestamp: timestamp(),
      ...(input.labels && { labels: { ...input.labels } }),
      ...(input.annotations && { annotations: { ...input.annotations } }),
    },
    spec: {
      type,
      ports: (input.ports ?? []).map((p, i) => ({
        ...(p.name !== undefined && { name: p.name }),
        protocol: p.protocol ?? 'TCP',
        port: p.port,
        targetPort: p.port,
        ...(external && { nodePort: nodePortFor(serial, i) }),
      })),
      selector: { app: input.name },
      clusterIP,
      clusterIPs: [clusterIP],
      ...(input.externalIPs && { externalIPs: [...input.externalIPs] }),
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      ...(external && { externalTrafficPolicy: 'Cluster' }),
      ...(type === 'LoadBalancer' && { allocateLoadBalancerNodePorts: true }),
    },
    status: { loadBalancer: input.ingress ? { ingress: input.ingress.map((i) => ({ ...i })) } : {} },
  };
}

type Json = Record<string, unknown>;

/**
 * Fills in what the apiserver defaults and allocates on a Service write: type, protocols, target ports, cluster IP
 * (kept from `old` on update), node ports for NodePort/LoadBalancer, families and traffic policies. Mutates `draft`.
 */
export function defaultService(
  draft: KubeObject,
  old: Service | undefined,
  allocator: ServiceAllocator,
): void {
  const spec = (draft.spec ?? {}) as Json;
  draft.spec = spec;
  spec.type ??= 'ClusterIP';
  const type = String(spec.type);
  const ports = Array.isArray(spec.ports) ? (spec.ports as Json[]) : [];
  if (type === 'ExternalName') {
    for (const field of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) delete spec[field];
  } else {
    let serial: number | undefined;
    if (
      old &&
      old.spec.type !== 'ExternalName' &&
      old.spec.clusterIP &&
      (spec.clusterIP === undefined || spec.clusterIP === old.spec.clusterIP)
    ) {
      spec.clusterIP = old.spec.clusterIP;
      spec.clusterIPs = [...old.spec.clusterIPs];
    } else if (spec.clusterIP === undefined || spec.clusterIP === '') {
      const allocated = allocator.next();
      serial = allocated.serial;
      spec.clusterIP = allocated.clusterIP;
      spec.clusterIPs = [allocated.clusterIP];
    } else {
      spec.clusterIPs ??= [spec.clusterIP];
    }
    spec.ipFamilies ??= spec.clusterIP === 'None' ? ['IPv4'] : ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
    const external = usesNodePorts(type);
    if (external) spec.externalTrafficPolicy ??= 'Cluster';
    else delete spec.externalTrafficPolicy;
    if (type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    else delete spec.allocateLoadBalancerNodePorts;
    const oldNodePorts = new Map((old?.spec.ports ?? []).map((p) => [`${p.port}/${p.protocol}`, p.nodePort]));
    ports.forEach((port, i) => {
      port.protocol ??= 'TCP';
      if (!external) {
        delete port.nodePort;
        return;
      }
      if (port.nodePort === undefined || port.nodePort === 0) {
        const kept = oldNodePorts.get(`${String(port.port)}/${String(port.protocol)}`);
        serial ??= allocator.next().serial;
        port.nodePort = kept ?? nodePortFor(serial, i);
      }
    });
  }
  for (const port of ports) {
    port.protocol ??= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '')
      port.targetPort = port.port;
  }
  spec.sessionAffinity ??= 'None';
  const status = ((draft.status as Json | undefined) ?? {}) as Json;
  status.loadBalancer ??= {};
  draft.status = status;
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** The apiserver's checks of what kube-zk-sync reads: name, type, ports, externalName, an unchanged cluster IP. */
export function serviceErrors(service: KubeObject, old: Service | undefined): FieldError[] {
  const errors = metadataErrors(service, 'dns1035', true);
  const spec = (service.spec ?? {}) as Json;
  const oldIPs = old?.spec.clusterIPs;
  if (
    oldIPs?.length &&
    spec.type !== 'ExternalName' &&
    old?.spec.type !== 'ExternalName' &&
    spec.clusterIP !== oldIPs[0]
  )
    errors.push(invalidValue('spec.clusterIPs[0]', [spec.clusterIP], 'may not change once set'));
  const type = spec.type;
  if (typeof type !== 'string' || !SERVICE_TYPES.includes(type as ServiceType))
    errors.push(notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ExternalName') {
    const externalName = spec.externalName;
    if (!externalName) errors.push(required('spec.externalName'));
    else if (
      typeof externalName !== 'string' ||
      !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/.test(externalName)
    )
      errors.push(
        invalidValue(
          'spec.externalName',
          externalName,
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ),
      );
  }
  const ports = Array.isArray(spec.ports) ? (spec.ports as Json[]) : [];
  if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None')
    errors.push(required('spec.ports'));
  const seen = new Set<string>();
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const at = `spec.ports[${i}]`;
    const { name, port: number, protocol, targetPort, nodePort } = port;
    if (ports.length > 1 && !name) errors.push(required(`${at}.name`));
    if (typeof name === 'string' && name !== '') {
      if (!isDnsLabel(name))
        errors.push(
          invalidValue(
            `${at}.name`,
            name,
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
          ),
        );
      else if (names.has(name)) errors.push(duplicate(`${at}.name`, name));
      names.add(name);
    }
    if (!(Number.isInteger(number) && (number as number) >= 1 && (number as number) <= 65535))
      errors.push(invalidValue(`${at}.port`, number, 'must be between 1 and 65535, inclusive'));
    if (!PROTOCOLS.includes(String(protocol)))
      errors.push(notSupported(`${at}.protocol`, protocol, PROTOCOLS));
    if (
      typeof targetPort === 'number' &&
      !(Number.isInteger(targetPort) && targetPort >= 1 && targetPort <= 65535)
    )
      errors.push(invalidValue(`${at}.targetPort`, targetPort, 'must be between 1 and 65535, inclusive'));
    if (
      nodePort !== undefined &&
      !(Number.isInteger(nodePort) && (nodePort as number) >= 1 && (nodePort as number) <= 65535)
    )
      errors.push(invalidValue(`${at}.nodePort`, nodePort, 'must be between 1 and 65535, inclusive'));
    const key = `${String(number)}/${String(protocol)}`;
    if (seen.has(key)) errors.push(duplicate(at, key));
    seen.add(key);
  });
  return errors;
}
