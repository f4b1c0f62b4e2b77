// Drains the outbox into PutEvents calls: batches of at most 10 entries under the request size limit, a few calls at
// a time. What comes back decides each entry's fate (aws-serverless notes, section 1):
// - accepted: done;
// - failed with a retryable code (ThrottlingException, InternalFailure), or the whole call throttled, 5xx, timed
//   out or unreachable: back to the outbox, unless a newer version of the key is already waiting, and the senders
//   back off with jitter;
// - failed with any other code: logged, counted and dropped (resending would fail the same way; the scheduled
//   reconcile repairs what is lost).
// The SDK's own retries are off (the client should be built with maxAttempts 1): entry-level failures need this
// loop anyway, and one retry policy is easier to reason about and to count than two stacked.
import { setTimeout as sleep } from 'node:timers/promises';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Backoff } from '../util/backoff.ts';
import { callSignal, within } from '../util/deadline.ts';
import { SEND_CONCURRENCY } from '../util/defaults.ts';
import { describeError as describe } from '../util/errors.ts';
import { putEventsEntry, type ServiceEvent } from './entry.ts';
import { type Logger, silentLogger } from './log.ts';
import type { PendingEvents } from './pending.ts';

export const RETRYABLE_ENTRY_CODES: ReadonlySet<string> = new Set(['ThrottlingException', 'InternalFailure']);

/** Whole-call errors worth retrying: throttling, server errors, and calls that never got an answer. */
export function isRetryableCallError(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.$retryable) return true;
  if (
    typeof e?.name === 'string' &&
    /Throttl|LimitExceeded|TooManyRequests|Timeout|Credentials/i.test(e.name)
  )
    return true;
  // No HTTP status: refused connection, reset, DNS, a timeout of ours. Nothing was decided, so try again.
  if (status === undefined) return true;
  return status >= 500 || status === 429;
}

export interface SenderObserver {
  sent?(count: number): void;
  /** Entries dropped for good, by error code. */
  failed?(code: string, count: number): void;
  /** Entries put back to be sent again. */
  retried?(count: number): void;
  /** Entries that failed retryably but were replaced by a newer version meanwhile. */
  superseded?(count: number): void;
  call?(outcome: 'ok' | 'partial' | 'error'): void;
}

export interface SenderOptions {
  readonly eventBusName: string;
  /** PutEvents calls in flight at once. */
  readonly concurrency?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** A call without an answer after this long is abandoned and its entries retried. */
  readonly callTimeoutMs?: number;
  readonly observer?: SenderObserver;
  readonly logger?: Logger;
  readonly random?: () => number;
}

/** The one call of EventBridgeClient the sender makes. */
export type PutEventsClient = Pick<EventBridgeClient, 'send'>;

export class EventSender {
  readonly #pending: PendingEvents<ServiceEvent>;
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

  constructor(pending: PendingEvents<ServiceEvent>, client: PutEventsClient, options: SenderOptions) {
    this.#pending = pending;
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

  /** When a call last had an entry accepted (epoch ms), or undefined if none has yet. */
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
    while (!this.#pending.idle) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await within(this.#woken, left);
    }
    return true;
  }

  /** Stops the senders; calls in flight are abandoned, and their entries stay unsent. */
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
      const batch = this.#pending.take();
      if (batch.length === 0) {
        await this.#woken;
        continue;
      }
      await this.#send(batch);
      this.notify();
    }
  }

  async #send(batch: ServiceEvent[]): Promise<void> {
    const observer = this.#options.observer;
    const entries = batch.map((event) => putEventsEntry(event, this.#options.eventBusName));
    let results: readonly { ErrorCode?: string; ErrorMessage?: string }[];
    const call = callSignal(this.#stopping.signal, this.#options.callTimeoutMs ?? 10_000);
    try {
      const output = await this.#client.send(new PutEventsCommand({ Entries: entries }), {
        abortSignal: call.signal,
      });
      results = output.Entries ?? [];
    } catch (error) {
      observer?.call?.('error');
      if (this.#stopping.signal.aborted || isRetryableCallError(error)) {
        this.#retry(batch, `PutEvents call failed: ${describe(error)}`);
        return;
      }
      const code = (error as { name?: string }).name ?? 'Error';
      this.#log.error('PutEvents call refused; its events are dropped', {
        error: describe(error),
        events: batch.length,
        keys: batch.map((e) => e.key),
      });
      for (const event of batch) this.#pending.settle(event, 'dropped');
      observer?.failed?.(code, batch.length);
      return;
    } finally {
      call.done();
    }
    const retry: ServiceEvent[] = [];
    let sent = 0;
    for (const [i, event] of batch.entries()) {
      const result = results[i];
      // A missing result says nothing about the entry; resending is the safe reading.
      if (!result || (result.ErrorCode && RETRYABLE_ENTRY_CODES.has(result.ErrorCode))) {
        retry.push(event);
      } else if (!result.ErrorCode) {
        this.#pending.settle(event, 'sent');
        sent++;
      } else {
        this.#pending.settle(event, 'dropped');
        this.#log.error('EventBridge refused an event; it is dropped', {
          key: event.key,
          resourceVersion: event.resourceVersion,
          code: result.ErrorCode,
          error: result.ErrorMessage,
        });
        observer?.failed?.(result.ErrorCode, 1);
      }
    }
    if (sent > 0) {
      this.#lastSuccessAt = Date.now();
      observer?.sent?.(sent);
    }
    observer?.call?.(retry.length > 0 || sent < batch.length ? 'partial' : 'ok');
    if (retry.length > 0) this.#retry(retry, `${retry.length} of ${batch.length} entries failed retryably`);
    else if (sent > 0) this.#recovered();
  }

  /** Puts entries back and pushes every sender's next call out by a backoff. */
  #retry(events: ServiceEvent[], why: string): void {
    let requeued = 0;
    for (const event of events) if (this.#pending.settle(event, 'retry') === 'requeued') requeued++;
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
        pending: this.#pending.size,
      });
    }
  }

  #recovered(): void {
    this.#backoff.reset();
    if (this.#throttled) {
      this.#throttled = false;
      this.#log.info('EventBridge accepts events again', { pending: this.#pending.size });
    }
  }
}
