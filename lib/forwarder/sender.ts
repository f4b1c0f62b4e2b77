// Drains the outbox into PutEvents calls: batches of at most 10 events under the request size limit, a few calls at
// a time. What becomes of each event once EventBridge answers is decided in put-outcome.ts; this module makes the
// calls, settles the events in the outbox, and backs every sender off with jitter while events must be resent.
// The SDK's own retries are off (the client should be built with maxAttempts 1): failures of single PutEvents entries
// need this loop anyway, and one retry policy is easier to reason about and to count than two stacked.
import { setTimeout as sleep } from 'node:timers/promises';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Backoff } from '../util/backoff.ts';
import { callSignal, within } from '../util/deadline.ts';
import { SEND_CONCURRENCY } from '../util/defaults.ts';
import { describeError as describe } from '../util/errors.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { putEventsEntry, type ServiceEvent } from './event.ts';
import type { Outbox } from './outbox.ts';
import { afterPutEvents, afterPutEventsError, type PutEventsOutcome } from './put-outcome.ts';

export interface SenderObserver {
  sent?(count: number): void;
  /** Events dropped for good, by error code. */
  failed?(code: string, count: number): void;
  /** Events put back to be sent again. */
  retried?(count: number): void;
  /** Events that failed retryably but were replaced by a newer version meanwhile. */
  superseded?(count: number): void;
  call?(outcome: 'ok' | 'partial' | 'error'): void;
}

export interface SenderOptions {
  readonly eventBusName: string;
  /** PutEvents calls in flight at once. */
  readonly concurrency?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** A call without an answer after this long is abandoned and its events sent again. */
  readonly callTimeoutMs?: number;
  readonly observer?: SenderObserver;
  readonly logger?: Logger;
  readonly random?: () => number;
}

/** The one call of EventBridgeClient the sender makes. */
export type PutEventsClient = Pick<EventBridgeClient, 'send'>;

export class EventSender {
  readonly #outbox: Outbox<ServiceEvent>;
  readonly #client: PutEventsClient;
  readonly #options: SenderOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #stopping = new AbortController();
  #workers: Promise<void>[] = [];
  /** No call starts before this time (epoch ms): the shared backoff after a throttle or failure. */
  #notBefore = 0;
  #wake: () => void = () => {};
  #woken: Promise<void> = Promise.resolve();
  #lastSuccessAt: number | undefined;
  #throttled = false;

  constructor(outbox: Outbox<ServiceEvent>, client: PutEventsClient, options: SenderOptions) {
    this.#outbox = outbox;
    this.#client = client;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#backoff = new Backoff({
      initialMs: options.backoff?.initialMs ?? 200,
      maxMs: options.backoff?.maxMs ?? 10_000,
      ...(options.random ? { random: options.random } : {}),
    });
    this.#arm();
  }

  /** When a call last had an event accepted (epoch ms), or undefined if none has yet. */
  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt;
  }

  start(): void {
    if (this.#workers.length > 0) throw new Error('the sender is already started');
    const n = Math.max(1, this.#options.concurrency ?? SEND_CONCURRENCY);
    this.#workers = Array.from({ length: n }, () => this.#work());
  }

  /** Tells the senders something changed in the outbox (an offer, a settled batch). */
  notify(): void {
    this.#wake();
  }

  /**
   * Waits until everything offered so far has been sent or dropped, or until `deadline` (epoch ms). True when the
   * outbox is empty.
   */
  async drain(deadline: number): Promise<boolean> {
    while (!this.#outbox.idle) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await within(this.#woken, left);
    }
    return true;
  }

  /** Stops the senders; calls in flight are abandoned, and their events stay unsent. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#wake();
    await Promise.all(this.#workers);
  }

  #arm(): void {
    this.#woken = new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#arm();
        resolve();
      };
    });
  }

  async #work(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      const wait = this.#notBefore - Date.now();
      if (wait > 0) {
        await sleep(wait, undefined, { signal }).catch(() => {});
        continue;
      }
      const batch = this.#outbox.take();
      if (batch.length === 0) {
        await this.#woken;
        continue;
      }
      await this.#send(batch);
      this.notify();
    }
  }

  async #send(batch: ServiceEvent[]): Promise<void> {
    const putEventsEntries = batch.map((event) => putEventsEntry(event, this.#options.eventBusName));
    const call = callSignal(this.#stopping.signal, this.#options.callTimeoutMs ?? 10_000);
    let outcome: PutEventsOutcome<ServiceEvent>;
    let callFailure: string | undefined;
    try {
      const output = await this.#client.send(new PutEventsCommand({ Entries: putEventsEntries }), {
        abortSignal: call.signal,
      });
      outcome = afterPutEvents(batch, output.Entries ?? []);
    } catch (error) {
      callFailure = describe(error);
      outcome = afterPutEventsError(batch, error, this.#stopping.signal.aborted);
    } finally {
      call.done();
    }
    this.#settle(batch, outcome, callFailure);
  }

  /** Settles every event of a call in the outbox as `outcome` says, and counts and logs what it says. */
  #settle(batch: ServiceEvent[], outcome: PutEventsOutcome<ServiceEvent>, callFailure?: string): void {
    const observer = this.#options.observer;
    observer?.call?.(outcome.call);
    for (const event of outcome.sent) this.#outbox.settle(event, 'sent');
    if (outcome.sent.length > 0) {
      this.#lastSuccessAt = Date.now();
      observer?.sent?.(outcome.sent.length);
    }
    for (const { event } of outcome.dropped) this.#outbox.settle(event, 'dropped');
    if (callFailure !== undefined && outcome.dropped.length > 0) {
      this.#log.error('PutEvents call refused; its events are dropped', {
        error: callFailure,
        events: outcome.dropped.length,
        keys: outcome.dropped.map((d) => d.event.key),
      });
    } else {
      for (const { event, code, message } of outcome.dropped) {
        this.#log.error('EventBridge refused an event; it is dropped', {
          key: event.key,
          resourceVersion: event.resourceVersion,
          code,
          error: message,
        });
      }
    }
    for (const [code, count] of outcome.failures) observer?.failed?.(code, count);
    if (outcome.resend.length > 0) {
      const why =
        callFailure !== undefined
          ? `PutEvents call failed: ${callFailure}`
          : `${outcome.resend.length} of ${batch.length} PutEvents entries failed retryably`;
      this.#retry(outcome.resend, why);
    } else if (outcome.sent.length > 0) this.#recovered();
  }

  /** Puts events back and pushes every sender's next call out by a backoff. */
  #retry(events: readonly ServiceEvent[], why: string): void {
    let requeued = 0;
    for (const event of events) if (this.#outbox.settle(event, 'retry') === 'requeued') requeued++;
    if (requeued > 0) this.#options.observer?.retried?.(requeued);
    if (events.length > requeued) this.#options.observer?.superseded?.(events.length - requeued);
    if (this.#stopping.signal.aborted) return;
    const delay = this.#backoff.next();
    this.#notBefore = Math.max(this.#notBefore, Date.now() + delay);
    if (!this.#throttled) {
      this.#throttled = true;
      this.#log.warn('EventBridge is refusing events; backing off and retrying', {
        reason: why,
        delayMs: delay,
        pending: this.#outbox.size,
      });
    }
  }

  #recovered(): void {
    this.#backoff.reset();
    if (this.#throttled) {
      this.#throttled = false;
      this.#log.info('EventBridge accepts events again', { pending: this.#outbox.size });
    }
  }
}
