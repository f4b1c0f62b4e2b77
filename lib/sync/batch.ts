// One batch of queued events → one compare-and-set write. Each record is judged on its own (a bad one fails alone),
// the valid ones become observations, and the whole batch is one step: coalesced per Service (the newest
// version wins), admitted against the sync state (late and duplicate events change nothing), planned and written
// together with the state. The SQS handler and `kube-zk-sync dev` both call this.
import {
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  eventBridgeEnvelopeSchema,
  parseServiceEventDetail,
  type ServiceEventDetail,
  type TrimmedService,
} from '../events/contract.ts';
import { DocumentError } from '../registry/document.ts';
import { describeDamage, revertedEdits } from '../registry/ownership.ts';
import { DEFAULT_TOMBSTONE_TTL_MS, type Observation, SyncStateError } from '../registry/sync-state.ts';
import { messageOf } from '../util/errors.ts';
import { type AppliedStep, syncStatePath, type ZkRegistryStore } from '../zk/registry-store.ts';
import { DataTooLargeError } from '../zk/store.ts';
import { countsOf, type EventCounts, NO_EVENTS, type ServiceEventsSink, tellOwners } from './owner-events.ts';
import { type RegistryTarget, stepRules } from './target.ts';

/** What the batch logic reads of an SQS record: its id (for partial batch failures) and its body. */
export interface QueueRecord {
  readonly messageId: string;
  /** An EventBridge event as JSON, as a rule delivers it to its SQS target. */
  readonly body: string;
}

export type RecordVerdict =
  | { readonly kind: 'valid'; readonly detail: ServiceEventDetail }
  /** Not for this sync (another source, detail-type or cluster): acknowledged and counted, never retried. */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** Breaks the contract: reported as a failed item, so it ends in the DLQ after the queue's retries. */
  | { readonly kind: 'invalid'; readonly error: string };

/**
 * Events older than the tombstones are ignored: a deletion they precede may have been forgotten, so applying them
 * could bring back a deleted Service (a DLQ replayed days later). The reconcile covers whatever they carried.
 */
export const MAX_EVENT_AGE_MS = DEFAULT_TOMBSTONE_TTL_MS;

export function judgeRecord(body: string, cluster: string, now = Date.now()): RecordVerdict {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch (error) {
    return { kind: 'invalid', error: `the body is not JSON (${messageOf(error)})` };
  }
  const envelope = eventBridgeEnvelopeSchema.safeParse(event);
  if (!envelope.success) {
    return { kind: 'invalid', error: 'the body is not an EventBridge event (source, detail-type, detail)' };
  }
  const { source, 'detail-type': detailType, detail } = envelope.data;
  if (source !== EVENT_SOURCE)
    return { kind: 'ignored', reason: `source "${source}" is not "${EVENT_SOURCE}"` };
  if (detailType !== EVENT_DETAIL_TYPE) {
    return { kind: 'ignored', reason: `detail-type "${detailType}" is not "${EVENT_DETAIL_TYPE}"` };
  }
  // Another cluster's event is not ours to judge: a newer forwarder elsewhere must not fill this DLQ.
  const claimed = (detail as { cluster?: unknown } | null)?.cluster;
  if (typeof claimed === 'string' && claimed !== cluster) {
    return { kind: 'ignored', reason: `cluster "${claimed}" is not "${cluster}"` };
  }
  let valid: ServiceEventDetail;
  try {
    valid = parseServiceEventDetail(detail);
  } catch (error) {
    return { kind: 'invalid', error: messageOf(error) };
  }
  const age = now - Date.parse(valid.observedAt);
  if (age > MAX_EVENT_AGE_MS) {
    const hours = Math.round(age / 3600_000);
    return {
      kind: 'ignored',
      reason: `observed ${hours} hours ago, longer than tombstones are kept (${MAX_EVENT_AGE_MS / 3600_000} hours); the reconcile covers it`,
    };
  }
  return { kind: 'valid', detail: valid };
}

export interface SyncBatchReport {
  readonly received: number;
  /** Records for another source, detail-type or cluster. */
  readonly ignored: number;
  /** Records that break the event contract (reported as failed items). */
  readonly invalid: number;
  /** Distinct Services whose observation was admitted (not older than the sync state). */
  readonly applied: number;
  /** Valid records superseded by a newer (or equal) one for the same Service in this batch. */
  readonly coalesced: number;
  /** Observations older than what the registry already holds: dropped. */
  readonly stale: number;
  /** Services the mapping does not publish (filtered, opted out, no address yet): their entries are removed. */
  readonly skipped: number;
  /** Services whose entry cannot be built (bad annotation…): their entries are kept as they were. */
  readonly invalidServices: number;
  /** Entries not written because another owner holds the name. */
  readonly conflicts: number;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  /** Whether a transaction was committed (the document, the sync state, or both). */
  readonly written: boolean;
  /** Whether the document itself changed; every document write wakes every reader's watch. */
  readonly documentWritten: boolean;
  /** Compare-and-set attempts (1 without contention; 0 when there was nothing to apply). */
  readonly casAttempts: number;
  /** Size of the document after the batch (as read, when it did not change). */
  readonly documentBytes: number;
  /** Size of the cluster's sync state after the batch: with the document, one ZooKeeper request. */
  readonly stateBytes: number;
  /** Records reported back to the queue. */
  readonly failed: number;
  /** Damage by the document's other writers to this cluster's entries, repaired by this batch. */
  readonly repaired: number;
  /** Of those, entries whose reader fields someone changed (a hand edit reverted). */
  readonly reverted: number;
  /** Damage this batch could not repair (its Services were not in the batch): a reconcile repairs it. */
  readonly unrepaired: number;
  /** Records from another incarnation of the cluster (its identity differs from the sync state's). */
  readonly identityMismatch: number;
  /** Whether this batch asked for a reconcile (damage left, a corrupt or lost sync state, a new incarnation). */
  readonly reconcileRequested: boolean;
  /** Kubernetes Events on Services whose outcome changed: created, series counted up, failed, not attempted. */
  readonly events: EventCounts;
  /** Why the write failed, when it did (every valid record is then a failed item). */
  readonly error?: string;
  /** Set when the write was refused rather than failed: the document is corrupt or the result too large. */
  readonly refused?: 'DataTooLargeError' | 'DocumentError' | 'SyncStateError';
}

export interface SyncBatchResult {
  /** The SQS partial batch response: these records come back (and end in the DLQ after the retries). */
  readonly batchItemFailures: ReadonlyArray<{ readonly itemIdentifier: string }>;
  readonly report: SyncBatchReport;
  /** Per-record and per-Service problems, for the log. */
  readonly problems: ReadonlyArray<{ readonly id: string; readonly problem: string }>;
  readonly ignoredReasons: ReadonlyArray<{ readonly id: string; readonly reason: string }>;
  readonly outcome?: AppliedStep<TrimmedService>;
  /** Why Events could not be written (the first few), for the log: never a failure of the batch. */
  readonly eventErrors: readonly string[];
}

/** How a sync asks for a reconcile: the deployed one invokes the reconcile Lambda, `dev` runs its own. */
export type ReconcileRequester = (reason: string) => Promise<void>;

export interface SyncBatchInput {
  readonly registry: ZkRegistryStore;
  readonly target: RegistryTarget;
  /** Aborted when the invocation runs out of time: no write starts after that. */
  readonly signal?: AbortSignal;
  /** Asks for a reconcile; without it, damage waits for the scheduled one. */
  readonly requestReconcile?: ReconcileRequester;
  /** At most one reconcile request this often (the sync state records the last one). */
  readonly repairIntervalMs?: number;
  /** Where to write Events on the Services whose outcome changed; none without it. */
  readonly events?: ServiceEventsSink;
}

/** When the sync state itself cannot be used, the request is rate-limited per container instead. */
let lastStateProblemRequest = 0;

export async function syncBatch(
  records: readonly QueueRecord[],
  input: SyncBatchInput,
): Promise<SyncBatchResult> {
  const valid: Array<{ id: string; detail: ServiceEventDetail }> = [];
  const failed: string[] = [];
  const problems: Array<{ id: string; problem: string }> = [];
  const ignoredReasons: Array<{ id: string; reason: string }> = [];
  for (const record of records) {
    const verdict = judgeRecord(record.body, input.target.cluster);
    if (verdict.kind === 'valid') valid.push({ id: record.messageId, detail: verdict.detail });
    else if (verdict.kind === 'ignored')
      ignoredReasons.push({ id: record.messageId, reason: verdict.reason });
    else {
      failed.push(record.messageId);
      problems.push({ id: record.messageId, problem: verdict.error });
    }
  }
  const base = {
    received: records.length,
    ignored: ignoredReasons.length,
    invalid: failed.length,
  };
  const empty = {
    applied: 0,
    coalesced: 0,
    stale: 0,
    skipped: 0,
    invalidServices: 0,
    conflicts: 0,
    created: 0,
    updated: 0,
    deleted: 0,
    written: false,
    documentWritten: false,
    casAttempts: 0,
    documentBytes: 0,
    stateBytes: 0,
    repaired: 0,
    reverted: 0,
    unrepaired: 0,
    identityMismatch: 0,
    reconcileRequested: false,
    events: countsOf(NO_EVENTS),
  };
  const finish = (
    report: SyncBatchReport,
    outcome?: AppliedStep<TrimmedService>,
    eventErrors: readonly string[] = [],
  ): SyncBatchResult => ({
    batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })),
    report,
    problems,
    ignoredReasons,
    ...(outcome ? { outcome } : {}),
    eventErrors,
  });
  if (valid.length === 0) return finish({ ...base, ...empty, failed: failed.length });

  const observations: Observation<TrimmedService>[] = valid.map(({ detail }) => ({
    key: detail.key,
    resourceVersion: detail.resourceVersion,
    value: detail.service,
    ...(detail.clusterUid ? { identity: detail.clusterUid } : {}),
  }));
  let outcome: AppliedStep<TrimmedService>;
  try {
    input.signal?.throwIfAborted();
    outcome = await input.registry.applyObservations(
      input.target.cluster,
      // Evaluated on every compare-and-set attempt: once time is up, no further attempt writes.
      () => {
        input.signal?.throwIfAborted();
        return observations;
      },
      {
        ...stepRules(input.target),
        toEntry: input.target.toEntry,
        ...(input.repairIntervalMs !== undefined ? { repairIntervalMs: input.repairIntervalMs } : {}),
      },
    );
  } catch (error) {
    // Nothing of this batch is known to be written: every valid record comes back and is applied again later,
    // which the sync state makes harmless even if the write did land.
    for (const { id } of valid) failed.push(id);
    const message = messageOf(error);
    const refused =
      error instanceof DataTooLargeError || error instanceof DocumentError || error instanceof SyncStateError
        ? error.name
        : undefined;
    // A sync state that cannot be used needs the reconcile to rebuild it, and one grown too large with the
    // changes since the last reconcile needs the floor a reconcile raises; the records wait for that.
    const now = Date.now();
    const ask =
      (error instanceof SyncStateError || error instanceof DataTooLargeError) &&
      input.requestReconcile !== undefined &&
      now - lastStateProblemRequest >= (input.repairIntervalMs ?? 0);
    if (ask) lastStateProblemRequest = now;
    const requested = ask ? await askForReconcile(input, message, problems) : false;
    return finish({
      ...base,
      ...empty,
      failed: failed.length,
      error: message,
      ...(refused ? { refused } : {}),
      reconcileRequested: requested,
      // A refused oversize write still reports the sizes it would have written, so the size alarm sees them.
      ...(error instanceof DataTooLargeError ? refusedSizes(error, input) : {}),
    });
  }
  const { mismatched } = outcome;
  for (const o of mismatched) {
    ignoredReasons.push({
      id: o.key,
      reason: `observed in cluster incarnation ${o.identity}, but the sync state belongs to ${outcome.state.identity}; a reconcile starts the state afresh`,
    });
  }
  for (const d of outcome.repaired) problems.push({ id: d.service, problem: describeDamage(d, true) });
  for (const d of outcome.unrepaired) problems.push({ id: d.service, problem: describeDamage(d, false) });
  const why =
    mismatched.length > 0
      ? `${mismatched.length} events come from another incarnation of cluster ${input.target.cluster}`
      : `${outcome.unrepaired.length} entries of cluster ${input.target.cluster} were changed by another writer`;
  const reconcileRequested =
    outcome.requestReconcile && outcome.written ? await askForReconcile(input, why, problems) : false;
  // After the compare-and-set, within the invocation's time: the records are acknowledged whatever happens here.
  const uids = new Map(valid.map((v) => [v.detail.key, v.detail.service?.metadata.uid]));
  const told = await tellOwners(outcome.events, (key) => uids.get(key), input.events, input.signal);
  const distinct = new Set(valid.map((v) => v.detail.key)).size;
  for (const s of outcome.invalid) problems.push({ id: s.key, problem: s.error });
  for (const c of outcome.plan.conflicts) {
    problems.push({
      id: c.service,
      problem: `Service ${c.service} wants the name "${c.name}", held by ${c.heldBy}`,
    });
  }
  return finish(
    {
      ...base,
      applied: distinct - outcome.stale.length - mismatched.length,
      coalesced: valid.length - distinct,
      stale: outcome.stale.length,
      skipped: outcome.skipped.length,
      invalidServices: outcome.invalid.length,
      conflicts: outcome.plan.conflicts.length,
      created: outcome.plan.creates.length,
      updated: outcome.plan.updates.length,
      deleted: outcome.plan.deletes.length,
      written: outcome.written,
      documentWritten: outcome.written && outcome.changed,
      casAttempts: outcome.attempts,
      documentBytes: outcome.bytes,
      stateBytes: outcome.stateBytes,
      failed: failed.length,
      repaired: outcome.repaired.length,
      reverted: revertedEdits(outcome.repaired),
      unrepaired: outcome.unrepaired.length,
      identityMismatch: mismatched.length,
      reconcileRequested,
      events: countsOf(told),
    },
    outcome,
    told.errors,
  );
}

/** What a refused oversize write would have written: the document's and the sync state's sizes. */
function refusedSizes(error: DataTooLargeError, input: SyncBatchInput) {
  return {
    documentBytes: error.sizes[input.registry.path] ?? 0,
    stateBytes: error.sizes[syncStatePath(input.registry.path, input.target.cluster)] ?? 0,
  };
}

async function askForReconcile(
  input: SyncBatchInput,
  reason: string,
  problems: Array<{ id: string; problem: string }>,
): Promise<boolean> {
  if (!input.requestReconcile) return false;
  try {
    await input.requestReconcile(reason);
    return true;
  } catch (error) {
    // Best effort: the scheduled reconcile repairs the same, later.
    problems.push({ id: 'reconcile', problem: `could not ask for a reconcile: ${messageOf(error)}` });
    return false;
  }
}
