// The forwarder: watch loop → event → outbox (coalesced per key) → senders → EventBridge. This module only wires
// the parts together and owns their lifecycle: start, graceful stop with a flush deadline, and abort.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { InvalidEventError } from '../events/contract.ts';
import { InvalidServiceObjectError } from '../kube/trim.ts';
import { LIST_PAGE_TIMEOUT_MS } from '../util/defaults.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { eventFor, type ServiceChange, type ServiceEvent } from './event.ts';
import { ForwarderMetrics } from './metrics.ts';
import { Outbox, PUT_EVENTS_LIMITS } from './outbox.ts';
import { EventSender, type PutEventsClient } from './sender.ts';
import { kubeApis, ServiceWatchLoop, type WatchApi, type WatchLoopOptions } from './watch-loop.ts';

export interface ForwarderOptions {
  readonly clusterId: string;
  readonly eventBusName: string;
  readonly kubeConfig: KubeConfig;
  /** Build it with maxAttempts: 1; the sender does the retrying. */
  readonly eventBridge: PutEventsClient;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly watch?: Pick<
    WatchLoopOptions,
    'timeoutSeconds' | 'stallMs' | 'pageSize' | 'listPageTimeoutMs' | 'backoff' | 'minWatchMs'
  > & {
    /** Replaces client-node's Watch (tests use one with a shorter inactivity timeout). */
    readonly api?: WatchApi;
  };
  readonly send?: {
    readonly concurrency?: number;
    readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
    readonly callTimeoutMs?: number;
    /** The PutEvents request size limit (EventBridge: 256 KiB, raised to 1 MiB in 2026). */
    readonly maxRequestBytes?: number;
  };
  readonly logger?: Logger;
  /** Node's own process metrics in /metrics (off for forwarders that share a test process). */
  readonly processMetrics?: boolean;
  readonly now?: () => Date;
}

export interface StopResult {
  /** True when everything observed was sent (or dropped for good) before the deadline. */
  readonly flushed: boolean;
  /** Events still unsent when the forwarder stopped. */
  readonly unsent: number;
}

export class Forwarder {
  readonly metrics: ForwarderMetrics;
  readonly #options: ForwarderOptions;
  readonly #log: Logger;
  readonly #outbox: Outbox<ServiceEvent>;
  readonly #sender: EventSender;
  readonly #loop: ServiceWatchLoop;
  readonly #apiAbort = new AbortController();
  readonly #now: () => Date;
  #ready = false;
  #failed = false;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#now = options.now ?? (() => new Date());
    this.#outbox = new Outbox<ServiceEvent>({
      ...PUT_EVENTS_LIMITS,
      maxBytes: options.send?.maxRequestBytes ?? PUT_EVENTS_LIMITS.maxBytes,
    });
    const startedAt = Date.now();
    this.metrics = new ForwarderMetrics(
      {
        pending: () => this.#outbox.size,
        inFlight: () => this.#outbox.inFlight,
        knownServices: () => this.#loop.knownServices,
        lastSuccessAt: () => this.#sender.lastSuccessAt,
        startedAt,
      },
      { processMetrics: options.processMetrics ?? true },
    );
    this.#sender = new EventSender(this.#outbox, options.eventBridge, {
      eventBusName: options.eventBusName,
      observer: this.metrics,
      logger: this.#log,
      ...(options.send?.concurrency !== undefined ? { concurrency: options.send.concurrency } : {}),
      ...(options.send?.backoff ? { backoff: options.send.backoff } : {}),
      ...(options.send?.callTimeoutMs !== undefined ? { callTimeoutMs: options.send.callTimeoutMs } : {}),
    });
    const scope = {
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
    };
    const apis = kubeApis(options.kubeConfig, options.kubeConfig.makeApiClient(CoreV1Api), scope, {
      pageTimeoutMs: options.watch?.listPageTimeoutMs ?? LIST_PAGE_TIMEOUT_MS,
      signal: this.#apiAbort.signal,
    });
    const { api: watchApi, ...watch } = options.watch ?? {};
    this.#loop = new ServiceWatchLoop(
      { list: apis.list, watch: watchApi ?? apis.watch },
      {
        ...watch,
        ...scope,
        logger: this.#log,
        onChange: (change) => this.#onChange(change),
        observer: {
          listed: (info) => {
            this.metrics.listed(info);
            this.#ready = true;
          },
          listFailed: () => this.metrics.listFailed(),
          watchEnded: (reason) => this.metrics.watchEnded(reason),
        },
      },
    );
  }

  /** Ready once the first complete list is queued: from then on, the forwarder knows the cluster. */
  get ready(): boolean {
    return this.#ready && this.#state === 'running';
  }

  /** Alive unless the watch loop died (it retries every failure, so that is a bug worth a restart). */
  get healthy(): boolean {
    return !this.#failed;
  }

  /** Events waiting to be sent: at most one per Service. */
  get pending(): number {
    return this.#outbox.size;
  }

  get inFlight(): number {
    return this.#outbox.inFlight;
  }

  start(): void {
    if (this.#state !== 'new') throw new Error(`the forwarder cannot start: it is ${this.#state}`);
    this.#state = 'running';
    this.#log.info('forwarder starting', {
      cluster: this.#options.clusterId,
      eventBus: this.#options.eventBusName,
      namespace: this.#options.namespace ?? '(all)',
      labelSelector: this.#options.labelSelector ?? '',
    });
    this.#sender.start();
    this.#loop.start().catch(() => {
      this.#failed = true;
    });
  }

  /**
   * Stops watching, then sends what is pending until `flushMs` have passed, then stops sending. What is still unsent
   * then is lost to this replica; the other replica, the next start's list, or the reconcile covers it.
   */
  async stop(options: { flushMs: number }): Promise<StopResult> {
    if (this.#state === 'stopped' || this.#state === 'stopping')
      return { flushed: this.#outbox.idle, unsent: 0 };
    this.#state = 'stopping';
    const deadline = Date.now() + options.flushMs;
    this.#apiAbort.abort();
    await this.#loop.stop();
    const flushed = await this.#sender.drain(deadline);
    const unsent = this.#outbox.size + this.#outbox.inFlight;
    await this.#sender.stop();
    this.#state = 'stopped';
    this.#log[flushed ? 'info' : 'warn']('forwarder stopped', { flushed, unsent });
    return { flushed, unsent };
  }

  /** Stops at once, sending nothing more: what a crash would do, minus the process exit. */
  async abort(): Promise<void> {
    this.#state = 'stopping';
    this.#apiAbort.abort();
    await Promise.all([this.#loop.stop(), this.#sender.stop()]);
    this.#outbox.clear();
    this.#state = 'stopped';
  }

  #onChange(change: ServiceChange): void {
    let event: ServiceEvent;
    try {
      event = eventFor(this.#options.clusterId, change, this.#now());
    } catch (error) {
      if (!(error instanceof InvalidServiceObjectError || error instanceof InvalidEventError)) throw error;
      this.metrics.invalid();
      this.#log.warn('skipped a Service that cannot be sent', { error: error.message });
      return;
    }
    this.metrics.observed(event.reason);
    if (this.#outbox.offer(event) === 'coalesced') this.metrics.coalesced();
    this.#sender.notify();
  }
}
