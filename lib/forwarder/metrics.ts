// The forwarder's Prometheus metrics, in a registry of its own (two forwarders in one test process must not share
// counters). It observes the watch loop and the sender through their observer interfaces, nothing more.
import type { ServiceEventDetail } from '../events/contract.ts';
import { PrometheusMetrics } from '../util/metrics.ts';
import type { SenderObserver } from './sender.ts';
import type { WatchEndReason } from './watch-decision.ts';
import type { WatchLoopObserver } from './watch-loop.ts';

/** What the gauges read when scraped. */
export interface ForwarderGauges {
  pending(): number;
  inFlight(): number;
  knownServices(): number;
  lastSuccessAt(): number | undefined;
  startedAt: number;
}

export class ForwarderMetrics extends PrometheusMetrics implements WatchLoopObserver, SenderObserver {
  readonly #seen = this.counter(
    'events_seen_total',
    'Changes observed (watch, list) and deletions, before coalescing.',
    ['reason'],
  );
  readonly #coalesced = this.counter(
    'events_coalesced_total',
    'Events not sent because a newer version of the same Service replaced them while waiting.',
  );
  readonly #invalid = this.counter(
    'services_invalid_total',
    'Observed objects that could not be turned into an event (not a usable Service, or too big).',
  );
  readonly #sent = this.counter('events_sent_total', 'Events EventBridge accepted.');
  readonly #failed = this.counter(
    'events_failed_total',
    'Events dropped after a non-retryable failure, by error code.',
    ['code'],
  );
  readonly #retried = this.counter(
    'events_retried_total',
    'Events put back to be sent again after a retryable failure.',
  );
  readonly #calls = this.counter(
    'put_events_calls_total',
    'PutEvents calls, by outcome (ok, partial: some entries failed, error: the whole call failed).',
    ['outcome'],
  );
  readonly #watchRestarts = this.counter(
    'watch_restarts_total',
    'Watches that ended and were resumed or replaced by a relist, by reason (end, timeout, stall, error, gone).',
    ['reason'],
  );
  readonly #relists = this.counter('relists_total', 'Complete lists after the first (410 Gone).');
  readonly #listFailures = this.counter(
    'list_failures_total',
    'Lists that failed and were retried (no deletion is computed from them).',
  );

  constructor(gauges: ForwarderGauges, options: { processMetrics?: boolean } = {}) {
    super('kube_zk_sync_forwarder_', options);
    this.gauge('pending_events', 'Events waiting to be sent (at most one per Service).', () =>
      gauges.pending(),
    );
    this.gauge('in_flight_events', 'Events in PutEvents calls not yet answered.', () => gauges.inFlight());
    this.gauge('services', 'Services in scope as of the last list or watch event.', () =>
      gauges.knownServices(),
    );
    this.gauge(
      'seconds_since_last_send',
      'Seconds since EventBridge last accepted an event (since start, if it never has).',
      () => (Date.now() - (gauges.lastSuccessAt() ?? gauges.startedAt)) / 1000,
    );
  }

  observed(reason: ServiceEventDetail['reason']): void {
    this.#seen.inc({ reason });
  }
  coalesced(): void {
    this.#coalesced.inc();
  }
  invalid(): void {
    this.#invalid.inc();
  }

  listed(info: { relist: boolean }): void {
    if (info.relist) this.#relists.inc();
  }
  listFailed(): void {
    this.#listFailures.inc();
  }
  watchEnded(reason: WatchEndReason): void {
    this.#watchRestarts.inc({ reason });
  }

  sent(count: number): void {
    this.#sent.inc(count);
  }
  failed(code: string, count: number): void {
    this.#failed.inc({ code }, count);
  }
  retried(count: number): void {
    this.#retried.inc(count);
  }
  superseded(count: number): void {
    this.#coalesced.inc(count);
  }
  call(outcome: 'ok' | 'partial' | 'error'): void {
    this.#calls.inc({ outcome });
  }
}
