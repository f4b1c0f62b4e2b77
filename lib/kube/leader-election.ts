// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics (tools/leaderelection): read the
// Lease; create it when missing; wait while another holder's lease has not expired; otherwise write it with the
// resourceVersion that was read, so of two candidates racing only one write succeeds (409 for the other). Expiry is
// measured by this process's own clock from the moment it last saw the record change, plus the lease duration,
// never by the renewTime another machine wrote: clocks of different nodes may disagree, durations do not.
// @kubernetes/client-node has no such helper. Like client-go's, it does not fence: a leader that stalls longer than
// the renew deadline may still finish a write it had started, so the work done under it must be idempotent.
import { CoordinationV1Api, type KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { backoffDelay } from '../util/backoff.ts';
import { httpFailure, messageOf } from '../util/errors.ts';
import { callWithDeadline } from './deadline-call.ts';

export interface LeaseRecord {
  /** '' when nobody holds it (released). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** ISO times, as read or written. */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
}

export interface ElectionTimings {
  /** How long a lease holds before others may take it (client-go default 15 s). */
  readonly leaseDurationMs: number;
  /** A leader that could not renew for this long stops leading (client-go default 10 s). */
  readonly renewDeadlineMs: number;
  /** How often candidates try and leaders renew (client-go default 2 s). */
  readonly retryPeriodMs: number;
}

const DEFAULT_ELECTION_TIMINGS: ElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's requirement: duration > renew deadline > 1.2 × retry period (its jitter factor). */
export function timingsProblem(t: ElectionTimings): string | undefined {
  if (!(t.leaseDurationMs > t.renewDeadlineMs))
    return `the lease duration (${t.leaseDurationMs} ms) must be longer than the renew deadline (${t.renewDeadlineMs} ms)`;
  if (!(t.renewDeadlineMs > 1.2 * t.retryPeriodMs))
    return `the renew deadline (${t.renewDeadlineMs} ms) must be longer than 1.2 × the retry period (${t.retryPeriodMs} ms)`;
  if (t.leaseDurationMs % 1000 !== 0) return 'the lease duration must be whole seconds';
  return undefined;
}

/** The record as last seen, and when (by the local clock) it was last seen to change. */
export interface ObservedLease {
  readonly record: LeaseRecord;
  readonly observedAt: number;
}

export type LeaseRead =
  | { readonly found: false }
  | { readonly found: true; readonly record: LeaseRecord; readonly resourceVersion: string };

export type ElectionAction =
  | { readonly kind: 'create'; readonly record: LeaseRecord }
  | { readonly kind: 'update'; readonly record: LeaseRecord; readonly resourceVersion: string }
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresAt: number };

const sameRecord = (a: LeaseRecord, b: LeaseRecord): boolean =>
  a.holderIdentity === b.holderIdentity &&
  a.leaseDurationSeconds === b.leaseDurationSeconds &&
  a.acquireTime === b.acquireTime &&
  a.renewTime === b.renewTime &&
  a.leaseTransitions === b.leaseTransitions;

/**
 * One try to acquire or renew, decided without I/O: the Lease as read, what was observed before, who this is, and
 * the local time now. Returns what to write (or to wait), and the observation to keep.
 */
export function decideElection(
  read: LeaseRead,
  before: ObservedLease | undefined,
  identity: string,
  leaseDurationMs: number,
  now: number,
): { action: ElectionAction; observed: ObservedLease | undefined } {
  const time = new Date(now).toISOString();
  const durationSeconds = Math.round(leaseDurationMs / 1000);
  if (!read.found) {
    return {
      action: {
        kind: 'create',
        record: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: time,
          renewTime: time,
          leaseTransitions: 0,
        },
      },
      observed: before,
    };
  }
  const old = read.record;
  const observed = before && sameRecord(before.record, old) ? before : { record: old, observedAt: now };
  const expiresAt = observed.observedAt + old.leaseDurationSeconds * 1000;
  if (old.holderIdentity !== '' && old.holderIdentity !== identity && expiresAt > now) {
    return { action: { kind: 'wait', holder: old.holderIdentity, expiresAt }, observed };
  }
  const renewing = old.holderIdentity === identity;
  const record: LeaseRecord = {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: renewing && old.acquireTime ? old.acquireTime : time,
    renewTime: time,
    leaseTransitions: renewing ? old.leaseTransitions : old.leaseTransitions + 1,
  };
  return { action: { kind: 'update', record, resourceVersion: read.resourceVersion }, observed };
}

/** What a leader writes when it lets go: nobody holds it, and it expires in one second (client-go's release). */
export function releasedRecord(held: LeaseRecord, now: number): LeaseRecord {
  const time = new Date(now).toISOString();
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: time,
    renewTime: time,
    leaseTransitions: held.leaseTransitions,
  };
}

/** The other writer won the race (HTTP 409), or the Lease exists already (create). */
export class LeaseConflictError extends Error {
  override readonly name = 'LeaseConflictError';
}

/** The Lease's three calls; the real client through `leaseApi`, or anything shaped like it. */
export interface LeaseApi {
  read(): Promise<LeaseRead>;
  /** Returns the new resourceVersion; LeaseConflictError on 409. */
  create(record: LeaseRecord): Promise<string>;
  replace(record: LeaseRecord, resourceVersion: string): Promise<string>;
}

const timeOf = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : new Date(value as string).toISOString();

/** The Lease `namespace/name` through CoordinationV1Api, each call with a deadline. */
export function leaseApi(kc: KubeConfig, namespace: string, name: string, timeoutMs: number): LeaseApi {
  const api = kc.makeApiClient(CoordinationV1Api);
  const body = (record: LeaseRecord, resourceVersion?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      // MicroTime: RFC 3339 with six fractional digits, as the apiserver writes it.
      ...(record.acquireTime ? { acquireTime: new V1MicroTime(record.acquireTime) } : {}),
      ...(record.renewTime ? { renewTime: new V1MicroTime(record.renewTime) } : {}),
    },
  });
  const conflicts = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (httpFailure(error).status === 409) throw new LeaseConflictError(httpFailure(error).message);
      throw error;
    }
  };
  return {
    async read() {
      try {
        const lease = await callWithDeadline(timeoutMs, (o) =>
          api.readNamespacedLease({ name, namespace }, o),
        );
        const spec = lease.spec ?? {};
        const acquireTime = timeOf(spec.acquireTime);
        const renewTime = timeOf(spec.renewTime);
        return {
          found: true,
          resourceVersion: lease.metadata?.resourceVersion ?? '',
          record: {
            holderIdentity: spec.holderIdentity ?? '',
            leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
            leaseTransitions: spec.leaseTransitions ?? 0,
            ...(acquireTime ? { acquireTime } : {}),
            ...(renewTime ? { renewTime } : {}),
          },
        };
      } catch (error) {
        if (httpFailure(error).status === 404) return { found: false };
        throw error;
      }
    },
    create: (record) =>
      conflicts(async () => {
        const lease = await callWithDeadline(timeoutMs, (o) =>
          api.createNamespacedLease({ namespace, body: body(record) }, o),
        );
        return lease.metadata?.resourceVersion ?? '';
      }),
    replace: (record, resourceVersion) =>
      conflicts(async () => {
        const lease = await callWithDeadline(timeoutMs, (o) =>
          api.replaceNamespacedLease({ name, namespace, body: body(record, resourceVersion) }, o),
        );
        return lease.metadata?.resourceVersion ?? '';
      }),
  };
}

export interface ElectionObserver {
  /** This process became the leader (`transitions`: the Lease's count after taking it). */
  startedLeading?(transitions: number): void;
  stoppedLeading?(reason: string): void;
  /** Someone else leads (first seen, or changed). */
  newLeader?(holder: string): void;
  /** A try failed (not a lost race: an error reading or writing). */
  failed?(error: unknown): void;
}

export interface LeaderElectorOptions extends Partial<ElectionTimings> {
  readonly api: LeaseApi;
  readonly identity: string;
  readonly observer?: ElectionObserver;
  /** The local clock (ms); injectable for tests. */
  readonly clock?: () => number;
  readonly random?: () => number;
}

/**
 * The loop around decideElection: candidates try every retry period (with jitter), the leader renews as often, and
 * stops leading when it has not renewed within the renew deadline. `isLeader` is the check to make before each
 * write of the work the leader does.
 */
export class LeaderElector {
  readonly identity: string;
  readonly #api: LeaseApi;
  readonly #timings: ElectionTimings;
  readonly #observer: ElectionObserver;
  readonly #clock: () => number;
  readonly #random: () => number;
  #observed: ObservedLease | undefined;
  /** The record this process last wrote as leader, its resourceVersion, and when (local clock). */
  #held: { record: LeaseRecord; resourceVersion: string; renewedAt: number } | undefined;
  #leader = false;
  #lastHolder: string | undefined;
  #stopped = false;
  #wake: () => void = () => {};
  #loop: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.#api = options.api;
    this.#timings = {
      leaseDurationMs: options.leaseDurationMs ?? DEFAULT_ELECTION_TIMINGS.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_ELECTION_TIMINGS.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? DEFAULT_ELECTION_TIMINGS.retryPeriodMs,
    };
    const problem = timingsProblem(this.#timings);
    if (problem) throw new RangeError(`leader election: ${problem}`);
    this.#observer = options.observer ?? {};
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** True while this process holds the Lease and renewed it within the renew deadline. */
  get isLeader(): boolean {
    if (!this.#leader || !this.#held) return false;
    if (this.#clock() - this.#held.renewedAt < this.#timings.renewDeadlineMs) return true;
    this.#lose(`could not renew the lease within ${this.#timings.renewDeadlineMs} ms`);
    return false;
  }

  get timings(): ElectionTimings {
    return this.#timings;
  }

  #lose(reason: string): void {
    if (!this.#leader) return;
    this.#leader = false;
    this.#held = undefined;
    this.#observer.stoppedLeading?.(reason);
  }

  /** One try: read, decide, write. Returns whether this process leads afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const read = await this.#api.read();
    const now = this.#clock();
    const { action, observed } = decideElection(
      read,
      this.#observed,
      this.identity,
      this.#timings.leaseDurationMs,
      now,
    );
    this.#observed = observed;
    if (action.kind === 'wait') {
      this.#lose(`the lease is held by ${action.holder}`);
      if (action.holder !== this.#lastHolder) {
        this.#lastHolder = action.holder;
        this.#observer.newLeader?.(action.holder);
      }
      return false;
    }
    let resourceVersion: string;
    try {
      resourceVersion =
        action.kind === 'create'
          ? await this.#api.create(action.record)
          : await this.#api.replace(action.record, action.resourceVersion);
    } catch (error) {
      if (error instanceof LeaseConflictError) {
        this.#lose('another candidate wrote the lease first');
        return false;
      }
      throw error;
    }
    this.#observed = { record: action.record, observedAt: now };
    this.#held = { record: action.record, resourceVersion, renewedAt: now };
    this.#lastHolder = this.identity;
    if (!this.#leader) {
      this.#leader = true;
      this.#observer.startedLeading?.(action.record.leaseTransitions);
    }
    return true;
  }

  /** Runs the loop until `stop`. */
  start(): void {
    if (this.#loop) return;
    this.#loop = (async () => {
      let failures = 0;
      while (!this.#stopped) {
        try {
          await this.tryAcquireOrRenew();
          failures = 0;
        } catch (error) {
          failures++;
          this.#observer.failed?.(error);
          // Check the deadline now, so a leader cut off from the apiserver stops leading on time.
          void this.isLeader;
        }
        const period = this.#timings.retryPeriodMs;
        const wait =
          failures > 0
            ? Math.min(
                period,
                backoffDelay(failures - 1, { initialMs: period / 4, maxMs: period, random: this.#random }),
              )
            : period * (1 + (this.#leader ? 0 : 0.2 * this.#random()));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  /** Stops trying; a leader releases the Lease (holder '', duration 1 s) so that another takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake();
    await this.#loop;
    const held = this.#held;
    const leading = this.isLeader;
    this.#lose('stopped');
    if (!leading || !held) return;
    try {
      await this.#api.replace(releasedRecord(held.record, this.#clock()), held.resourceVersion);
    } catch (error) {
      // The lease expires by itself within its duration; the error is reported, not thrown.
      this.#observer.failed?.(new Error(`releasing the lease failed: ${messageOf(error)}`, { cause: error }));
    }
  }
}
