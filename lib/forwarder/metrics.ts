// The forwarder's Prometheus metrics, in a registry of its own (two forwarders in one test process must not share
// counters). It observes the watch loop and the sender through their observer interfaces, nothing more.
import { Counter, Gauge } from 'prom-client';
import type { ServiceEventDetail } from '../events/contract.ts';
import { PrometheusMetrics } from '../util/metrics.ts';
import type { SenderObserver } from './sender.ts';
import type { WatchEndReason } from './watch-decision.ts';
import type { WatchLoopObserver } from './watch-loop.ts';

const PREFIX = 'kube_zk_sync_forwarder_';

/** What the gauges read when scraped. */
export interface ForwarderGauges {
  pending(): number;
  inFlight(): number;
  knownServices(): number;
  lastSuccessAt(): number | undefined;
  startedAt: number;
}

export class ForwarderMetrics extends PrometheusMetrics implements WatchLoopObserver, SenderObserver {
  readonly #seen = new Counter({
    name: `${PREFIX}events_seen_total`,
    help: 'Changes observed (watch, list) and deletions, before coalescing.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #coalesced = new Counter({
    name: `${PREFIX}events_coalesced_total`,
    help: 'Events not sent because a newer version of the same Service replaced them while waiting.',
    registers: [this.registry],
  });
  readonly #invalid = new Counter({
    name: `${PREFIX}services_invalid_total`,
    help: 'Observed objects that could not be turned into an event (not a usable Service, or too big).',
    registers: [this.registry],
  });
  readonly #sent = new Counter({
    name: `${PREFIX}events_sent_total`,
    help: 'Events EventBridge accepted.',
    registers: [this.registry],
  });
  readonly #failed = new Counter({
    name: `${PREFIX}events_failed_total`,
    help: 'Events dropped after a non-retryable failure, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly #retried = new Counter({
    name: `${PREFIX}events_retried_total`,
    help: 'Events put back to be sent again after a retryable failure.',
    registers: [this.registry],
  });
  readonly #calls = new Counter({
    name: `${PREFIX}put_events_calls_total`,
    help: 'PutEvents calls, by outcome (ok, partial: some entries failed, error: the whole call failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #watchRestarts = new Counter({
    name: `${PREFIX}watch_restarts_total`,
    help: 'Watches that ended and were resumed or replaced by a relist, by reason (end, timeout, stall, error, gone).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #relists = new Counter({
    name: `${PREFIX}relists_total`,
    help: 'Complete lists after the first (410 Gone).',
    registers: [this.registry],
  });
  readonly #listFailures = new Counter({
    name: `${PREFIX}list_failures_total`,
    help: 'Lists that failed and were retried (no deletion is computed from them).',
    registers: [this.registry],
  });

  constructor(gauges: ForwarderGauges, options: { processMetrics?: boolean } = {}) {
    super(options);
    const registers = [this.registry];
    new Gauge({
      name: `${PREFIX}pending_events`,
      help: 'Events waiting to be sent (at most one per Service).',
      registers,
      collect() {
        this.set(gauges.pending());
      },
    });
    new Gauge({
      name: `${PREFIX}in_flight_events`,
      help: 'Events in PutEvents calls not yet answered.',
      registers,
      collect() {
        this.set(gauges.inFlight());
      },
    });
    new Gauge({
      name: `${PREFIX}services`,
      help: 'Services in scope as of the last list or watch event.',
      registers,
      collect() {
        this.set(gauges.knownServices());
      },
    });
    new Gauge({
      name: `${PREFIX}seconds_since_last_send`,
      help: 'Seconds since EventBridge last accepted an event (since start, if it never has).',
      registers,
      collect() {
        this.set((Date.now() - (gauges.lastSuccessAt() ?? gauges.startedAt)) / 1000);
      },
    });
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
