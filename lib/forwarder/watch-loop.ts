// List, then watch from the list's resourceVersion, forever: the level-triggered core of the forwarder. What to do
// once a watch ends is decided in watch-decision.ts; this loop lists, watches, waits and reports.
// Deletions are computed only from a list that completed (listAllServices is all or nothing): a failed or partial
// list is retried, never compared. Every list also reads the cluster's identity, which every change then carries:
// a cluster rebuilt behind the same endpoint means new connections, so a relist is where a new one shows.
import { type CoreV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';
import { type ServiceKey, serviceKey } from '../events/contract.ts';
import {
  type ClusterIdentity,
  listAllServices,
  readClusterIdentity,
  type ServiceListApi,
  serviceListApi,
} from '../kube/list.ts';
import { Backoff } from '../util/backoff.ts';
import { LIST_PAGE_SIZE, WATCH_STALL_SECONDS, WATCH_TIMEOUT_SECONDS } from '../util/defaults.ts';
import { describeError as describe } from '../util/errors.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import type { ServiceChange } from './event.ts';
import { afterWatchEnd, type WatchEndReason } from './watch-decision.ts';

/** What the loop needs of client-node's Watch (the real one, or one with a shortened inactivity timeout). */
export interface WatchApi {
  watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

/** What the loop reports besides changes: for metrics, readiness and tests. */
export interface WatchLoopObserver {
  /** A list completed; `relist` is false for the first one. */
  listed?(info: { items: number; deleted: number; resourceVersion: string; relist: boolean }): void;
  listFailed?(error: Error): void;
  watchEnded?(reason: WatchEndReason): void;
}

export interface WatchLoopOptions {
  /** Receives every change in order; called synchronously, and must not throw (errors are logged and dropped). */
  readonly onChange: (change: ServiceChange) => void;
  readonly observer?: WatchLoopObserver;
  /** Only this namespace (default: all). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** Asked of the apiserver so a watch never lives forever (client-go uses 5–10 minutes). */
  readonly timeoutSeconds?: number;
  /** A watch that delivers nothing at all (not even a bookmark) for this long is abandoned and resumed. */
  readonly stallMs?: number;
  /** Services per list page. */
  readonly pageSize?: number;
  /** A list page that takes longer fails, and the list is retried. */
  readonly listPageTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** A watch that ends sooner than this without delivering anything counts as a failure (backoff). */
  readonly minWatchMs?: number;
  readonly logger?: Logger;
  readonly random?: () => number;
}

type Outcome =
  | { readonly kind: 'stopped' }
  | { readonly kind: WatchEndReason; readonly progress: boolean; readonly error?: unknown };

/** The parts of client-node a loop talks to. */
export interface KubeApis {
  readonly list: ServiceListApi;
  readonly watch: WatchApi;
}

/** The real client-node APIs, scoped; every list page carries `signal` and a timeout. */
export function kubeApis(
  kc: KubeConfig,
  core: CoreV1Api,
  scope: { namespace?: string; labelSelector?: string },
  limits: { pageTimeoutMs: number; signal: AbortSignal },
): KubeApis {
  return { list: serviceListApi(core, { ...scope, ...limits }), watch: new Watch(kc) };
}

interface WatchedObject {
  metadata?: { namespace?: string; name?: string; resourceVersion?: string };
}

const metaOf = (object: unknown) => (object as WatchedObject | null)?.metadata;

export class ServiceWatchLoop {
  readonly #apis: KubeApis;
  readonly #options: WatchLoopOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #stopping = new AbortController();
  /** The keys in scope and the version last seen of each: what a relist is compared with. */
  readonly #known = new Map<ServiceKey, string>();
  #resourceVersion: string | undefined;
  /** The identity of the cluster the last list came from (undefined: not readable). */
  #identity: string | undefined;
  #identityUnknownLogged = false;
  #listed = false;
  #running?: Promise<void>;

  constructor(apis: KubeApis, options: WatchLoopOptions) {
    this.#apis = apis;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#backoff = new Backoff({
      initialMs: options.backoff?.initialMs ?? 500,
      maxMs: options.backoff?.maxMs ?? 30_000,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** The version the next watch resumes from (undefined until the first list completes). */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /** Services in scope as of the last event seen. */
  get knownServices(): number {
    return this.#known.size;
  }

  /** Starts the loop; a loop runs once, so there are never two watches feeding one forwarder. */
  start(): Promise<void> {
    if (this.#running) throw new Error('the watch loop is already running');
    this.#running = this.#run().catch((error: unknown) => {
      // Unreachable by design (every failure is retried); logged so a bug shows instead of a silent stop.
      this.#log.error('the watch loop stopped on an unexpected error', { error });
      throw error;
    });
    return this.#running;
  }

  /** Ends the current list or watch and the loop; no change is reported after this resolves. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running?.catch(() => {});
  }

  get #stopped(): boolean {
    return this.#stopping.signal.aborted;
  }

  async #run(): Promise<void> {
    let needList = true;
    while (!this.#stopped) {
      if (needList) {
        if (!(await this.#list())) {
          await this.#backoff.wait(this.#stopping.signal);
          continue;
        }
        needList = false;
      }
      const started = Date.now();
      const outcome = await this.#watchOnce(this.#resourceVersion as string);
      if (outcome.kind === 'stopped') break;
      this.#options.observer?.watchEnded?.(outcome.kind);
      const decision = afterWatchEnd(
        { reason: outcome.kind, progress: outcome.progress, lastedMs: Date.now() - started },
        this.#options.minWatchMs ?? 1000,
      );
      if (decision.resetBackoff) this.#backoff.reset();
      this.#log[decision.level](decision.why, {
        reason: outcome.kind,
        resourceVersion: this.#resourceVersion,
        ...(outcome.error !== undefined ? { error: describe(outcome.error) } : {}),
      });
      if (decision.next === 'relist') needList = true;
      if (decision.backOff) await this.#backoff.wait(this.#stopping.signal);
    }
  }

  /** One complete list; reports changes against what was known. False when the list failed. */
  async #list(): Promise<boolean> {
    let identity: ClusterIdentity;
    let list: Awaited<ReturnType<typeof listAllServices>>;
    try {
      identity = await readClusterIdentity(this.#apis.list);
      list = await listAllServices(this.#apis.list, {
        pageSize: this.#options.pageSize ?? LIST_PAGE_SIZE,
        signal: this.#stopping.signal,
      });
    } catch (error) {
      if (this.#stopped) return false;
      this.#log.warn(
        'listing Services failed; retrying after a backoff (nothing is deleted on a failed list)',
        {
          error: describe(error),
        },
      );
      this.#options.observer?.listFailed?.(error as Error);
      return false;
    }
    if (this.#stopped) return false;
    const relist = this.#listed;
    const uid = 'uid' in identity ? identity.uid : undefined;
    // Versions of another incarnation say nothing about what was sent of this one: everything goes again.
    const incarnation = relist && uid !== undefined && this.#identity !== undefined && uid !== this.#identity;
    if (incarnation) {
      this.#log.warn(
        'the cluster identity changed: a new cluster behind the same endpoint; sending every Service',
        { from: this.#identity, to: uid },
      );
    }
    if ('unknown' in identity && !this.#identityUnknownLogged) {
      this.#identityUnknownLogged = true;
      this.#log.warn(
        'events carry no cluster identity: namespace kube-system cannot be read; without it a cluster rebuilt ' +
          "under the same id is told apart only by its lower resourceVersions (grant 'get' on namespaces/kube-system)",
        { why: identity.unknown },
      );
    }
    this.#identity = uid;
    const seen = new Set<ServiceKey>();
    for (const item of list.items) {
      const meta = metaOf(item);
      if (!meta?.namespace || !meta.name) continue;
      const key = serviceKey(meta.namespace, meta.name);
      seen.add(key);
      const version = meta.resourceVersion ?? '';
      // The first list sends everything (nothing downstream is assumed); a relist sends only what changed.
      if (!relist || incarnation || this.#known.get(key) !== version)
        this.#emit({ kind: 'observed', reason: 'list', object: item });
      this.#known.set(key, version);
    }
    let deleted = 0;
    for (const key of [...this.#known.keys()]) {
      if (seen.has(key)) continue;
      // Gone at some revision up to the list's; the list's own revision orders it after every earlier version.
      this.#emit({ kind: 'deleted', key, resourceVersion: list.resourceVersion });
      this.#known.delete(key);
      deleted++;
    }
    this.#resourceVersion = list.resourceVersion;
    this.#listed = true;
    // The backoff is not reset here but by a watch that makes progress: a list that succeeds only to be followed by
    // 410 again must keep backing off.
    this.#log.info(relist ? 'relisted Services' : 'listed Services', {
      services: list.items.length,
      deleted,
      pages: list.pages,
      resourceVersion: list.resourceVersion,
      ...(uid ? { clusterUid: uid } : {}),
    });
    this.#options.observer?.listed?.({
      items: list.items.length,
      deleted,
      resourceVersion: list.resourceVersion,
      relist,
    });
    return true;
  }

  #emit(change: ServiceChange): void {
    try {
      this.#options.onChange(this.#identity ? { ...change, clusterUid: this.#identity } : change);
    } catch (error) {
      this.#log.error('a change could not be queued', { error: describe(error) });
    }
  }

  /** One watch, from `resourceVersion` until it ends one way or another. */
  #watchOnce(resourceVersion: string): Promise<Outcome> {
    const stallMs = this.#options.stallMs ?? WATCH_STALL_SECONDS * 1000;
    const path = this.#options.namespace
      ? `/api/v1/namespaces/${encodeURIComponent(this.#options.namespace)}/services`
      : '/api/v1/services';
    const timeoutSeconds = this.#options.timeoutSeconds ?? WATCH_TIMEOUT_SECONDS;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let progress = false;
      let lastActivity = Date.now();
      let controller: AbortController | undefined;
      const finish = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        this.#stopping.signal.removeEventListener('abort', onStop);
        controller?.abort();
        resolve(outcome);
      };
      const onStop = () => finish({ kind: 'stopped' });
      this.#stopping.signal.addEventListener('abort', onStop);
      // client-node gives up after 30 s without a byte, but only through a private field; this watchdog makes the
      // stall limit ours and also covers a watch whose headers never come.
      const watchdog = setInterval(
        () => {
          if (Date.now() - lastActivity >= stallMs) finish({ kind: 'stall', progress });
        },
        Math.max(10, Math.min(1000, stallMs / 5)),
      );
      const onEvent = (phase: string, object: unknown) => {
        // Events of a watch this loop gave up on are ignored: only one watch feeds the forwarder.
        if (settled) return;
        lastActivity = Date.now();
        const meta = metaOf(object);
        switch (phase) {
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED': {
            if (!meta?.namespace || !meta.name || !meta.resourceVersion) {
              this.#log.warn('ignored a watch event without namespace, name or resourceVersion', { phase });
              return;
            }
            const key = serviceKey(meta.namespace, meta.name);
            if (phase === 'DELETED') {
              this.#known.delete(key);
              this.#emit({ kind: 'deleted', key, resourceVersion: meta.resourceVersion });
            } else {
              this.#known.set(key, meta.resourceVersion);
              this.#emit({ kind: 'observed', reason: 'watch', object });
            }
            this.#resourceVersion = meta.resourceVersion;
            progress = true;
            return;
          }
          case 'BOOKMARK':
            if (meta?.resourceVersion) this.#resourceVersion = meta.resourceVersion;
            progress = true;
            return;
          case 'ERROR': {
            const status = object as { code?: unknown; message?: unknown } | null;
            if (status?.code === 410) return finish({ kind: 'gone', progress });
            return finish({
              kind: 'error',
              progress,
              error: new Error(`watch ERROR event: ${String(status?.message)}`),
            });
          }
          default:
            this.#log.warn('ignored a watch event of an unknown type', { phase });
        }
      };
      const onDone = (error: unknown) => {
        if (error === null || error === undefined) return finish({ kind: 'end', progress });
        const e = error as { name?: unknown; statusCode?: unknown };
        if (e.name === 'TimeoutError') return finish({ kind: 'timeout', progress });
        if (e.statusCode === 410) return finish({ kind: 'gone', progress });
        finish({ kind: 'error', progress, error });
      };
      this.#apis.watch
        .watch(
          path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds,
            labelSelector: this.#options.labelSelector,
          },
          onEvent,
          onDone,
        )
        .then(
          (ctrl) => {
            controller = ctrl;
            // Headers came after the watchdog had given up on this watch: close it now.
            if (settled) ctrl.abort();
          },
          (error: unknown) => finish({ kind: 'error', progress, error }),
        );
    });
  }
}
