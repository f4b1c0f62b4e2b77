// Fault injection: the failures a forwarder meets in production (apiserver restarts, load balancers dropping idle
// connections, overload, compaction), on demand. Knobs about future requests live here; the two that act on
// open watches (drop, stall) reach them through the `OpenWatches` the HTTP layer provides.

/** What a request is, for routing faults and counting. */
export type RequestKind = 'discovery' | 'list' | 'watch' | 'get' | 'other';
export type FaultTarget = 'list' | 'watch' | 'get' | 'any';

/** How 410 Gone reaches the client: an ERROR event in a 200 stream (watch cache) or the HTTP status itself. */
export type GoneShape = 'stream' | 'http';

export interface OpenWatches {
  /** Destroys every open watch socket (no clean end); returns how many. */
  dropAll(): number;
  /** Silences every open watch: the socket stays open and nothing more is written. Returns how many. */
  stallAll(): number;
}

/** What to do to one request, decided when it arrives. */
export interface FaultPlan {
  delayMs: number;
  failStatus?: number;
  gone?: GoneShape;
  stall: boolean;
}

export interface FaultCounts {
  failed: number;
  gone: number;
  stalled: number;
  dropped: number;
  delayed: number;
  /** Namespace reads refused with 403 (forbidNamespaces). */
  forbidden: number;
}

interface FailRule {
  on: FaultTarget;
  status: number;
}

export class Faults {
  readonly #watches: OpenWatches;
  readonly #random: () => number;
  #failNext: (FailRule & { remaining: number })[] = [];
  #failRate?: FailRule & { probability: number };
  #latencyMs = 0;
  #goneNext: { remaining: number; shape: GoneShape }[] = [];
  #stallNew = false;
  #namespacesForbidden = false;
  readonly counts: FaultCounts = { failed: 0, gone: 0, stalled: 0, dropped: 0, delayed: 0, forbidden: 0 };

  constructor(watches: OpenWatches, random: () => number) {
    this.#watches = watches;
    this.#random = random;
  }

  /** The next `count` list/watch/get requests (or only those of kind `on`) answer `status` (default 500). */
  failNext(count: number, options: { on?: FaultTarget; status?: number } = {}): void {
    this.#failNext.push({ remaining: count, on: options.on ?? 'any', status: options.status ?? 500 });
  }

  /** Each list/watch/get request (or only kind `on`) fails with this probability until cleared. */
  failRandomly(probability: number, options: { on?: FaultTarget; status?: number } = {}): void {
    this.#failRate =
      probability > 0 ? { probability, on: options.on ?? 'any', status: options.status ?? 500 } : undefined;
  }

  /** Delay before every list/watch/get response starts (headers included). */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** The next `count` watch requests get 410 Gone, whatever resourceVersion they ask for. */
  goneOnNextWatch(count = 1, options: { shape?: GoneShape } = {}): void {
    this.#goneNext.push({ remaining: count, shape: options.shape ?? 'stream' });
  }

  /** Destroys the sockets of all open watches, as a load balancer or a restarting apiserver would. */
  dropWatches(): number {
    const n = this.#watches.dropAll();
    this.counts.dropped += n;
    return n;
  }

  /**
   * Silences open watches (headers sent, then nothing at all, not even bookmarks or the end at timeoutSeconds):
   * a half-dead connection. With `alsoNew`, watches opened later stall right after their headers, until clear().
   */
  stallWatches(options: { alsoNew?: boolean } = {}): number {
    if (options.alsoNew) this.#stallNew = true;
    const n = this.#watches.stallAll();
    this.counts.stalled += n;
    return n;
  }

  /**
   * Every read of a namespace answers 403 Forbidden, as the apiserver answers an account whose RBAC has no `get` on
   * namespaces: the cluster's identity (the kube-system namespace's uid) cannot be read. Until clear().
   */
  forbidNamespaces(forbidden = true): void {
    this.#namespacesForbidden = forbidden;
  }

  /** Whether this namespace read is refused (and counted). */
  refuseNamespaceRead(): boolean {
    if (this.#namespacesForbidden) this.counts.forbidden++;
    return this.#namespacesForbidden;
  }

  /** Removes every knob about future requests. Watches already stalled stay silent until closed. */
  clear(): void {
    this.#namespacesForbidden = false;
    this.#failNext = [];
    this.#failRate = undefined;
    this.#latencyMs = 0;
    this.#goneNext = [];
    this.#stallNew = false;
  }

  planFor(kind: RequestKind): FaultPlan {
    const plan: FaultPlan = { delayMs: 0, stall: false };
    if (kind !== 'list' && kind !== 'watch' && kind !== 'get') return plan;
    if (this.#latencyMs > 0) {
      plan.delayMs = this.#latencyMs;
      this.counts.delayed++;
    }
    const applies = (rule: FailRule) => rule.on === 'any' || rule.on === kind;
    const queued = this.#failNext.find((r) => r.remaining > 0 && applies(r));
    if (queued) {
      queued.remaining--;
      plan.failStatus = queued.status;
    } else if (this.#failRate && applies(this.#failRate) && this.#random() < this.#failRate.probability) {
      plan.failStatus = this.#failRate.status;
    }
    this.#failNext = this.#failNext.filter((r) => r.remaining > 0);
    if (plan.failStatus !== undefined) {
      this.counts.failed++;
      return plan;
    }
    if (kind !== 'watch') return plan;
    const gone = this.#goneNext.find((g) => g.remaining > 0);
    if (gone) {
      gone.remaining--;
      plan.gone = gone.shape;
      this.counts.gone++;
      this.#goneNext = this.#goneNext.filter((g) => g.remaining > 0);
    } else if (this.#stallNew) {
      plan.stall = true;
      this.counts.stalled++;
    }
    return plan;
  }
}
