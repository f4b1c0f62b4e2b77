import { randomUUID } from 'node:crypto';
// A kube-apiserver on a loopback port: what tests, benchmarks and `kube-zk-sync simulate` run the real
// @kubernetes/client-node and kubectl against. It serves Services, EndpointSlices, Leases and Events (reads and
// writes), with a cloud controller for LoadBalancer Services; the churn generator and faults are driven in process.

import { rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../random.ts';
import { CloudController } from './cloud-controller.ts';
import { ApiError } from './errors.ts';
import { type FaultCounts, Faults } from './faults.ts';
import { ApiHandler, type RequestStats } from './http.ts';
import {
  type DeleteOptions,
  type DeleteResult,
  Registry,
  type WriteOptions,
  type WriteResult,
} from './registry.ts';
import { apiVersionOf, RESOURCES, type ResourceKind } from './resources.ts';
import { type Service, ServiceAllocator, type ServiceInput, serviceFromInput } from './services.ts';
import { type KubeObject, type KubeObjectInput, ObjectStore } from './store.ts';

const SERVICES = 'services';

export interface SimulatorOptions {
  /** How often watches that asked for bookmarks get one (the apiserver: about a minute). */
  bookmarkIntervalMs?: number;
  /** Changes kept for watch resumption and paged lists before the oldest are compacted away. */
  historyLimit?: number;
  /** Seed for probabilistic faults, so a failing run can be replayed. */
  seed?: number;
  /** The kube-system namespace's uid, the cluster's identity (default: a new one, as a new cluster has). */
  clusterUid?: string;
  /**
   * How long the cloud controller takes to give a LoadBalancer Service written through the API its address, and
   * to release it after a delete. 0 (the default) gives the address in the creating write, as before the
   * controller existed; Services made by createService (the generator) are born as they are described.
   */
  lbDelayMs?: number;
  /** The AWS region in load balancer hostnames. */
  region?: string;
}

export interface SimulatorStats extends RequestStats {
  faults: FaultCounts;
}

export class ApiServerSimulator {
  readonly faults: Faults;
  /** The kube-system namespace's uid: what the reconcile reads as the cluster's identity. */
  readonly clusterUid: string;
  /** Can change while running; applies to watches opened afterwards. */
  bookmarkIntervalMs: number;
  readonly #store: ObjectStore;
  readonly #allocator = new ServiceAllocator();
  readonly #registry: Registry;
  readonly #cloud: CloudController;
  readonly #stats: RequestStats = {
    requests: { discovery: 0, list: 0, watch: 0, get: 0, other: 0 },
    openWatches: 0,
    watchesStarted: 0,
    eventsSent: 0,
    bookmarksSent: 0,
    recent: [],
  };
  readonly #handler: ApiHandler;
  readonly #stopping = new AbortController();
  #server?: Server;
  #url?: string;

  constructor(options: SimulatorOptions = {}) {
    this.clusterUid = options.clusterUid ?? randomUUID();
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.#store = new ObjectStore(options.historyLimit);
    this.#cloud = new CloudController({ delayMs: options.lbDelayMs ?? 0, region: options.region });
    this.#registry = new Registry({
      store: this.#store,
      allocator: this.#allocator,
      admitService: this.#cloud.admit,
    });
    this.#cloud.start(this.#store, this.#registry);
    this.faults = new Faults(
      { dropAll: () => this.#handler.dropAll(), stallAll: () => this.#handler.stallAll() },
      seededRandom(options.seed ?? 1),
    );
    this.#handler = new ApiHandler({
      store: this.#store,
      registry: this.#registry,
      stats: this.#stats,
      faults: this.faults,
      bookmarkIntervalMs: () => this.bookmarkIntervalMs,
      signal: this.#stopping.signal,
      clusterUid: this.clusterUid,
    });
  }

  /** Listens (port 0: any free port) and returns the server URL; one start per simulator, e.g. `http://127.0.0.1:41234`. */
  async start(options: { port?: number; host?: string } = {}): Promise<string> {
    if (this.#server) throw new Error('the apiserver simulator is already started');
    const host = options.host ?? '127.0.0.1';
    const server = createServer(this.#handler.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.#url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this.#url;
  }

  get url(): string {
    if (!this.#url) throw new Error('the apiserver simulator is not started');
    return this.#url;
  }

  /**
   * A kubeconfig for this server. `insecure-skip-tls-verify` means nothing to kubectl over http, but
   * @kubernetes/client-node refuses an http server without it.
   */
  kubeconfig(): string {
    return kubeconfigFor(this.url);
  }

  /** Written whole (temporary file, then rename), so whoever waits for the file never reads half of it. */
  async writeKubeconfig(file: string): Promise<void> {
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(partial, this.kubeconfig(), { mode: 0o600 });
    await rename(partial, file);
  }

  /** Closes the listener and every connection (open watches included) and cancels pending delays. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#cloud.stop();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The cloud controller's delay (ms) from a LoadBalancer Service's creation to its address. */
  get lbDelayMs(): number {
    return this.#cloud.delayMs;
  }

  /** A Service as described, stored at once (no finalizer, ingress as given): the generator's and churn's way. */
  createService(input: ServiceInput): Service {
    const { namespace, name } = input;
    if (this.#store.get(SERVICES, namespace, name))
      throw new Error(`services "${name}" already exists in ${namespace}`);
    for (const [what, value] of [
      ['namespace', namespace],
      ['name', name],
    ] as const) {
      if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value))
        throw new Error(`Service ${what} "${value}" is not a valid DNS label`);
    }
    return this.#store.put(SERVICES, serviceFromInput(input, this.#allocator));
  }

  /**
   * `mutate` edits a copy, stored as it is (status included, identity fields kept): the churn's way. Like the
   * apiserver, an edit that changes nothing commits nothing.
   */
  updateService(namespace: string, name: string, mutate: (draft: Service) => void): Service {
    const current = this.#store.get<Service>(SERVICES, namespace, name);
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
    return this.#store.put(SERVICES, draft);
  }

  /** Removes the Service at once, finalizers or not (the churn's way; `delete` is the API's). */
  deleteService(namespace: string, name: string): Service {
    const removed = this.#store.remove<Service>(SERVICES, namespace, name);
    if (!removed) throw new Error(`services "${name}" not found in ${namespace}`);
    return removed;
  }

  getService(namespace: string, name: string): Service | undefined {
    return this.#store.get<Service>(SERVICES, namespace, name);
  }

  listServices(): Service[] {
    return this.#store.list<Service>(SERVICES);
  }

  /**
   * POST, in process: `object` names its kind by apiVersion and kind, as in a manifest. Throws ApiError with the
   * Status the HTTP API would answer.
   */
  create(object: KubeObjectInput, options: WriteOptions = {}): KubeObject {
    const resource = resourceFor(object.apiVersion, object.kind);
    return this.#registry.create(resource, object.metadata?.namespace, object, options);
  }

  /** PUT, in process (`subresource: 'status'` for the status). */
  replace(object: KubeObject, options: WriteOptions & { subresource?: string } = {}): WriteResult {
    const resource = resourceFor(object.apiVersion, object.kind);
    return this.#registry.replace(
      resource,
      object.metadata?.namespace,
      object.metadata?.name,
      object,
      options,
    );
  }

  /** PATCH, in process: `contentType` picks the patch type, as the Content-Type header does. */
  patch(
    target: ObjectRef,
    contentType: string,
    patch: unknown,
    options: WriteOptions & { subresource?: string; force?: boolean } = {},
  ): WriteResult {
    const resource = resourceFor(target.apiVersion, target.kind);
    const body = typeof patch === 'string' ? patch : JSON.stringify(patch);
    return this.#registry.patch(resource, target.namespace, target.name, contentType, body, options);
  }

  /** DELETE, in process: with finalizers the object stays (deletionTimestamp set) until they are removed. */
  delete(target: ObjectRef, deleteOptions: DeleteOptions = {}, options: WriteOptions = {}): DeleteResult {
    return this.#registry.delete(
      resourceFor(target.apiVersion, target.kind),
      target.namespace,
      target.name,
      deleteOptions,
      options,
    );
  }

  /** GET, in process: the object as its API version serves it, or undefined. */
  get(target: ObjectRef): KubeObject | undefined {
    try {
      return this.#registry.get(resourceFor(target.apiVersion, target.kind), target.namespace, target.name);
    } catch (error) {
      if (error instanceof ApiError && error.status.code === 404) return undefined;
      throw error;
    }
  }

  /** Objects of one kind, as its API version serves them, in namespace/name order. */
  list(apiVersion: string, kind: string): KubeObject[] {
    const resource = resourceFor(apiVersion, kind);
    return this.#store
      .list(resource.plural)
      .map((o) => this.#registry.get(resource, o.metadata.namespace, o.metadata.name));
  }

  /** The cluster's current resourceVersion. */
  get resourceVersion(): string {
    return String(this.#store.resourceVersion);
  }

  /** Forgets history through `resourceVersion` (default: all): older watches and continue tokens get 410. */
  compact(resourceVersion?: string | number): void {
    this.#store.compact(resourceVersion === undefined ? undefined : Number(resourceVersion));
  }

  /** A copy of the counters, safe to keep and compare. */
  stats(): SimulatorStats {
    return { ...structuredClone(this.#stats), faults: { ...this.faults.counts } };
  }
}

/** An object named the way kubectl names one: its API version, kind, namespace and name. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

function resourceFor(apiVersion: string | undefined, kind: string | undefined): ResourceKind {
  const resource = RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  if (!resource)
    throw new ApiError({
      code: 404,
      reason: 'NotFound',
      message: `the server could not find the requested resource (no ${String(kind)} in ${String(apiVersion)})`,
    });
  return resource;
}

/** A kubeconfig whose one context talks plain HTTP to `server` (the simulator, or a proxy in front of it), with no
 * credentials. @kubernetes/client-node refuses http:// unless the cluster skips TLS verification, so it does. */
export function kubeconfigFor(server: string, namespace = 'default'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: local\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
    'users:',
    '- name: local\n  user: {}',
    'contexts:',
    `- name: local\n  context:\n    cluster: local\n    user: local\n    namespace: ${namespace}`,
    'current-context: local',
    '',
  ].join('\n');
}
