// The simulator's etcd: Services keyed `namespace/name`, one integer revision shared by every object, and the
// history of changes since the last compaction. History is what lets a watch resume from an old resourceVersion
// and a paged list serve every page from one snapshot; compaction is what makes both answer 410 Gone.
import { randomUUID } from 'node:crypto';

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServicePort {
  name?: string;
  protocol: string;
  port: number;
  targetPort: number | string;
  nodePort?: number;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

/** A Service as the apiserver serves it (JSON, `v1`). */
export interface Service {
  kind: 'Service';
  apiVersion: 'v1';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    type: ServiceType;
    ports: ServicePort[];
    selector?: Record<string, string>;
    clusterIP: string;
    clusterIPs: string[];
    externalIPs?: string[];
    sessionAffinity: 'None';
    ipFamilies: ['IPv4'];
    ipFamilyPolicy: 'SingleStack';
    internalTrafficPolicy: 'Cluster';
    externalTrafficPolicy?: 'Cluster';
    allocateLoadBalancerNodePorts?: boolean;
  };
  status: { loadBalancer: { ingress?: LoadBalancerIngress[] } };
}

/** What a test says about a new Service; the store fills in what the apiserver would (uid, clusterIP, …). */
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

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. `previous` is the state before it, which is what undoing it for a snapshot restores. */
export interface Change {
  readonly rv: number;
  readonly type: ChangeType;
  readonly object: Service;
  readonly previous?: Service;
}

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class ServiceStore {
  #objects = new Map<string, Service>();
  #history: Change[] = [];
  #rv = 1;
  #compactedThrough = 1;
  #allocated = 0;
  #listeners = new Set<(change: Change) => void>();
  readonly #historyLimit: number;

  /** `historyLimit`: changes kept before the oldest are compacted away, as etcd does every few minutes. */
  constructor(historyLimit = 10_000) {
    this.#historyLimit = historyLimit;
  }

  /** The revision of the last change (the cluster's current resourceVersion). */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Changes at or below this revision are gone; reads and watches from before it get 410. */
  get compactedThrough(): number {
    return this.#compactedThrough;
  }

  get size(): number {
    return this.#objects.size;
  }

  get(namespace: string, name: string): Service | undefined {
    return this.#objects.get(keyOf(namespace, name));
  }

  /** Current objects in key order (the order etcd returns them in). */
  list(): Service[] {
    return sortByKey([...this.#objects.values()]);
  }

  create(input: ServiceInput): Service {
    for (const [what, value] of [
      ['namespace', input.namespace],
      ['name', input.name],
    ] as const) {
      if (!DNS_LABEL.test(value)) throw new Error(`Service ${what} "${value}" is not a valid DNS label`);
    }
    const key = keyOf(input.namespace, input.name);
    if (this.#objects.has(key))
      throw new Error(`services "${input.name}" already exists in ${input.namespace}`);
    const type = input.type ?? 'ClusterIP';
    const n = ++this.#allocated;
    const clusterIP = `10.100.${(n >> 8) & 255}.${n & 255}`;
    const external = type === 'LoadBalancer' || type === 'NodePort';
    const service: Service = {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: {
        name: input.name,
        namespace: input.namespace,
        uid: randomUUID(),
        resourceVersion: '',
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
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
          ...(external && { nodePort: 30000 + ((n * 3 + i) % 2768) }),
        })),
        selector: { app: input.name },
        clusterIP,
        clusterIPs: [clusterIP],
        ...(input.externalIPs && { externalIPs: [...input.externalIPs] }),
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
        ...(external && { externalTrafficPolicy: 'Cluster' as const }),
        ...(type === 'LoadBalancer' && { allocateLoadBalancerNodePorts: true }),
      },
      status: { loadBalancer: input.ingress ? { ingress: input.ingress.map((i) => ({ ...i })) } : {} },
    };
    return this.#commit('ADDED', key, service, undefined);
  }

  /**
   * Applies `mutate` to a copy. Like the apiserver, an update that changes nothing writes nothing (same
   * resourceVersion, no event); identity fields cannot change.
   */
  update(namespace: string, name: string, mutate: (draft: Service) => void): Service {
    const key = keyOf(namespace, name);
    const current = this.#objects.get(key);
    if (!current) throw new Error(`services "${name}" not found in ${namespace}`);
    const draft = structuredClone(current) as Service;
    mutate(draft);
    draft.kind = 'Service';
    draft.apiVersion = 'v1';
    draft.metadata = {
      ...draft.metadata,
      name,
      namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      resourceVersion: current.metadata.resourceVersion,
    };
    if (JSON.stringify(draft) === JSON.stringify(current)) return current;
    return this.#commit('MODIFIED', key, draft, current);
  }

  delete(namespace: string, name: string): Service {
    const key = keyOf(namespace, name);
    const current = this.#objects.get(key);
    if (!current) throw new Error(`services "${name}" not found in ${namespace}`);
    return this.#commit('DELETED', key, structuredClone(current) as Service, current);
  }

  /** Drops history through `rv` (default: all of it). */
  compact(rv = this.#rv): void {
    const through = Math.min(rv, this.#rv);
    if (through <= this.#compactedThrough) return;
    const kept = this.#history.findIndex((c) => c.rv > through);
    this.#history.splice(0, kept === -1 ? this.#history.length : kept);
    this.#compactedThrough = through;
  }

  /** Changes after `rv`, oldest first, or undefined when some of them were compacted away. */
  changesSince(rv: number): Change[] | undefined {
    if (rv < this.#compactedThrough) return undefined;
    return this.#history.filter((c) => c.rv > rv);
  }

  /** The objects as they were at revision `rv`, in key order, or undefined when that revision was compacted. */
  snapshotAt(rv: number): Service[] | undefined {
    if (rv >= this.#rv) return this.list();
    const later = this.changesSince(rv);
    if (!later) return undefined;
    const objects = new Map(this.#objects);
    for (const change of later.reverse()) {
      const key = keyOf(change.object.metadata.namespace, change.object.metadata.name);
      if (change.previous) objects.set(key, change.previous);
      else objects.delete(key);
    }
    return sortByKey([...objects.values()]);
  }

  /** Called synchronously after each commit, so a reader that subscribes in the same tick misses nothing. */
  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #commit(type: ChangeType, key: string, object: Service, previous: Service | undefined): Service {
    const rv = ++this.#rv;
    object.metadata.resourceVersion = String(rv);
    const stored = deepFreeze(object);
    if (type === 'DELETED') this.#objects.delete(key);
    else this.#objects.set(key, stored);
    const change: Change = { rv, type, object: stored, ...(previous && { previous }) };
    this.#history.push(change);
    if (this.#history.length > this.#historyLimit) {
      this.compact((this.#history[this.#history.length - this.#historyLimit - 1] as Change).rv);
    }
    for (const listener of this.#listeners) listener(change);
    return stored;
  }
}

/** Sorted by namespace/name; each key is built once, since the churn driver lists on every change. */
function sortByKey(services: Service[]): Service[] {
  return services
    .map((s) => [keyOf(s.metadata.namespace, s.metadata.name), s] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => s);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
