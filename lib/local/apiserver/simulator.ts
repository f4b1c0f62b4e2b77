import { randomUUID } from 'node:crypto';
// A kube-apiserver for Services on a loopback port: what tests, benchmarks and `kube-zk-sync simulate` run the
// real @kubernetes/client-node and kubectl against. Changes and faults are driven in process.

import { rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../random.ts';
import { type FaultCounts, Faults } from './faults.ts';
import { ApiHandler, type RequestStats } from './http.ts';
import { type Service, type ServiceInput, ServiceStore } from './store.ts';

export interface SimulatorOptions {
  /** How often watches that asked for bookmarks get one (the apiserver: about a minute). */
  bookmarkIntervalMs?: number;
  /** Changes kept for watch resumption and paged lists before the oldest are compacted away. */
  historyLimit?: number;
  /** Seed for probabilistic faults, so a failing run can be replayed. */
  seed?: number;
  /** The kube-system namespace's uid, the cluster's identity (default: a new one, as a new cluster has). */
  clusterUid?: string;
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
  readonly #store: ServiceStore;
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
    this.#store = new ServiceStore(options.historyLimit);
    this.faults = new Faults(
      { dropAll: () => this.#handler.dropAll(), stallAll: () => this.#handler.stallAll() },
      seededRandom(options.seed ?? 1),
    );
    this.#handler = new ApiHandler({
      store: this.#store,
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
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: simulator',
      '    cluster:',
      `      server: ${this.url}`,
      '      insecure-skip-tls-verify: true',
      'users:',
      '  - name: simulator',
      '    user: {}',
      'contexts:',
      '  - name: simulator',
      '    context:',
      '      cluster: simulator',
      '      user: simulator',
      '      namespace: default',
      'current-context: simulator',
      '',
    ].join('\n');
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
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  createService(input: ServiceInput): Service {
    return this.#store.create(input);
  }

  /** `mutate` edits a copy; an edit that changes nothing commits nothing, as in Kubernetes. */
  updateService(namespace: string, name: string, mutate: (draft: Service) => void): Service {
    return this.#store.update(namespace, name, mutate);
  }

  deleteService(namespace: string, name: string): Service {
    return this.#store.delete(namespace, name);
  }

  getService(namespace: string, name: string): Service | undefined {
    return this.#store.get(namespace, name);
  }

  listServices(): Service[] {
    return this.#store.list();
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
