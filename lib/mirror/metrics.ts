// The mirror's Prometheus metrics. Counters for what it did, gauges for what the last plan found.
import { PrometheusMetrics } from '../util/metrics.ts';
import type { MirrorKind } from './plan.ts';

export interface MirrorFindings {
  readonly entries: number;
  readonly mirrored: number;
  readonly unmirrorable: number;
  readonly conflicts: number;
  readonly held: boolean;
}

export class MirrorMetrics extends PrometheusMetrics {
  constructor(options: { processMetrics?: boolean } = {}) {
    super('kube_zk_sync_mirror_', options);
  }

  readonly #entries = this.gauge('entries', 'Entries in the registry document as last read.');
  readonly #mirrored = this.gauge('entries_mirrored', 'Entries the last plan mirrors as Services.');
  readonly #unmirrorable = this.gauge(
    'entries_unmirrorable',
    'Selected entries neither a selectorless nor an ExternalName Service expresses (see the log or --dry-run).',
  );
  readonly #conflicts = this.gauge(
    'conflicts',
    'Objects the mirror would write whose name another owner holds (left alone).',
  );
  readonly #held = this.gauge('deletions_held', '1 while the deletion guard holds deletions of Services.');
  readonly #leader = this.gauge('leader', '1 while this replica holds the Lease and writes.');
  readonly #version = this.gauge(
    'document_version',
    'The znode version of the document last read (-1: missing); a version that does not parse included.',
  );
  readonly #ready = this.gauge('ready', '1 once the first complete read (and, as leader, sync) is done.');
  readonly #written = this.counter(
    'objects_written_total',
    'Server-side applies, by kind (Service, EndpointSlice).',
    ['kind'],
  );
  readonly #deleted = this.counter('objects_deleted_total', 'Deletes of the mirror’s own objects, by kind.', [
    'kind',
  ]);
  readonly #writeErrors = this.counter(
    'write_errors_total',
    'Applies and deletes the API refused or did not answer (the sync is retried).',
  );
  readonly #readErrors = this.counter(
    'document_read_errors_total',
    'Versions of the document that did not parse, and failed reads of it (nothing is pruned meanwhile).',
  );
  readonly #listErrors = this.counter(
    'list_errors_total',
    'Lists of the namespace that failed (nothing is planned from them).',
  );
  readonly #syncs = this.counter('syncs_total', 'Syncs by outcome (ok, error, lost-lease).', ['outcome']);
  readonly #transitions = this.counter('lease_transitions_total', 'Times this replica became the leader.');

  found(f: MirrorFindings): void {
    this.#entries.set(f.entries);
    this.#mirrored.set(f.mirrored);
    this.#unmirrorable.set(f.unmirrorable);
    this.#conflicts.set(f.conflicts);
    this.#held.set(f.held ? 1 : 0);
  }
  written(kind: MirrorKind): void {
    this.#written.inc({ kind });
  }
  deleted(kind: MirrorKind): void {
    this.#deleted.inc({ kind });
  }
  writeFailed(): void {
    this.#writeErrors.inc();
  }
  documentVersion(version: number): void {
    this.#version.set(version);
  }
  documentError(): void {
    this.#readErrors.inc();
  }
  listFailed(): void {
    this.#listErrors.inc();
  }
  synced(outcome: 'ok' | 'error' | 'lost-lease'): void {
    this.#syncs.inc({ outcome });
  }
  leading(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
    if (leading) this.#transitions.inc();
  }
  readiness(ready: boolean): void {
    this.#ready.set(ready ? 1 : 0);
  }
}
