// The forwarder's outbox: at most one waiting event per Service key, the newest by resourceVersion. While EventBridge
// is slow or throttling, a Service that changes a thousand times still takes one slot, so memory is bounded by the
// number of Services, not by the number of changes (README, guarantee 6). Pure: no I/O, no timers.
import type { ServiceKey } from '../events/contract.ts';
import { compareResourceVersions } from '../events/resource-version.ts';

/** One event ready to send; `size` is what EventBridge counts of it against the request limit. */
export interface OutgoingEvent {
  readonly key: ServiceKey;
  readonly resourceVersion: string;
  readonly size: number;
}

export type OfferResult =
  /** Nothing for this key was waiting. */
  | 'added'
  /** An older waiting event for this key was replaced: one event fewer to send. */
  | 'coalesced'
  /** This version (or a newer one) is already waiting or in flight: nothing to do. */
  | 'stale';

export type SettleOutcome = 'sent' | 'dropped' | 'retry';

export type SettleResult =
  /** Done with: sent, or dropped for good. */
  | 'done'
  /** A retryable failure, put back to be sent again. */
  | 'requeued'
  /** A retryable failure, but a newer version of the key arrived meanwhile and replaces it. */
  | 'superseded';

export interface BatchLimits {
  /** Events in one batch: PutEvents takes at most 10 PutEvents entries, one per event. */
  readonly maxEvents: number;
  /** The sum of event sizes must stay below this (EventBridge: "less than 256KB" per request). */
  readonly maxBytes: number;
}

export const PUT_EVENTS_LIMITS: BatchLimits = { maxEvents: 10, maxBytes: 256 * 1024 };

/** The events waiting to be sent and those a sender has taken, at most one of each per Service key. */
export class Outbox<E extends OutgoingEvent = OutgoingEvent> {
  readonly #limits: BatchLimits;
  /** Waiting events in the order their key first started waiting: the oldest change goes out first. */
  readonly #waiting = new Map<ServiceKey, E>();
  /** Taken by a sender and not yet settled; a key is in at most one batch at a time. */
  readonly #inFlight = new Map<ServiceKey, E>();

  constructor(limits: BatchLimits = PUT_EVENTS_LIMITS) {
    if (!(limits.maxEvents >= 1)) throw new RangeError('a batch must hold at least one event');
    this.#limits = limits;
  }

  /** Events waiting to be taken. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Events taken and not yet settled. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** True when take() would return something: a waiting event whose key is not in flight. */
  get sendable(): boolean {
    if (this.#waiting.size > this.#inFlight.size) return true;
    for (const key of this.#waiting.keys()) if (!this.#inFlight.has(key)) return true;
    return false;
  }

  /** True when nothing is waiting or in flight. */
  get idle(): boolean {
    return this.#waiting.size === 0 && this.#inFlight.size === 0;
  }

  offer(event: E): OfferResult {
    if (event.size >= this.#limits.maxBytes) {
      throw new RangeError(
        `event for ${event.key} is ${event.size} bytes, too big for one request (${this.#limits.maxBytes})`,
      );
    }
    const flying = this.#inFlight.get(event.key);
    if (flying && compareResourceVersions(event.resourceVersion, flying.resourceVersion) <= 0) return 'stale';
    const waiting = this.#waiting.get(event.key);
    if (!waiting) {
      this.#waiting.set(event.key, event);
      return 'added';
    }
    if (compareResourceVersions(event.resourceVersion, waiting.resourceVersion) <= 0) return 'stale';
    // Replacing keeps the key's place in line, so a Service that changes constantly is not starved.
    this.#waiting.set(event.key, event);
    return 'coalesced';
  }

  /**
   * Takes the next batch: waiting events in order, at most `maxEvents`, whose sizes sum below `maxBytes`, skipping
   * keys already in flight (so one key's versions never race each other). Empty when nothing is sendable.
   */
  take(): E[] {
    const batch: E[] = [];
    let bytes = 0;
    for (const [key, event] of this.#waiting) {
      if (batch.length >= this.#limits.maxEvents) break;
      if (this.#inFlight.has(key)) continue;
      if (bytes + event.size >= this.#limits.maxBytes) break;
      batch.push(event);
      bytes += event.size;
    }
    for (const event of batch) {
      this.#waiting.delete(event.key);
      this.#inFlight.set(event.key, event);
    }
    return batch;
  }

  /** Reports what became of an event that take() returned. */
  settle(event: E, outcome: SettleOutcome): SettleResult {
    if (this.#inFlight.get(event.key) !== event) {
      throw new Error(`settled an event for ${event.key} that is not in flight`);
    }
    this.#inFlight.delete(event.key);
    if (outcome !== 'retry') return 'done';
    // Only a newer version can be waiting (offer refuses anything not newer than what is in flight).
    if (this.#waiting.has(event.key)) return 'superseded';
    this.#waiting.set(event.key, event);
    return 'requeued';
  }

  /** Forgets everything waiting (not what is in flight); returns how many events were dropped. */
  clear(): number {
    const n = this.#waiting.size;
    this.#waiting.clear();
    return n;
  }
}
