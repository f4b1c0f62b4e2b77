// A reconcile: the complete list of Services → the same mapping and the same compare-and-set write as the sync.
// Deletions come only from a complete list: the list is taken before anything is read or written, so a failed or
// partial list throws before any write, and the deletion guard stops a plan that would remove too much at once.
import type { TrimmedService } from '../events/contract.ts';
import { trimService } from '../kube/trim.ts';
import type { RegistryDocument } from '../registry/document.ts';
import type { ServiceOutcome } from '../registry/outcome.ts';
import { type Damage, revertedEdits } from '../registry/ownership.ts';
import type { RegistryPlan } from '../registry/plan.ts';
import type { EntryDecision } from '../registry/step.ts';
import { completeListObservations } from '../registry/step.ts';
import {
  countsOf,
  type EventCounts,
  NO_EVENTS,
  type ServiceEventsSink,
  tellOwners,
} from '../sync/owner-events.ts';
import { type RegistryTarget, stepRules } from '../sync/target.ts';
import { messageOf } from '../util/errors.ts';
import type { ZkRegistryStore } from '../zk/registry-store.ts';

/** A complete list: every Service at one resourceVersion of the cluster. */
export interface CompleteList {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  /** The cluster's identity (the kube-system namespace's uid), when it could be read. */
  readonly identity?: string;
}

export interface ReconcileInput {
  readonly registry: ZkRegistryStore;
  readonly target: RegistryTarget;
  /** Lists every Service; must throw rather than return part of the cluster. */
  readonly list: () => Promise<CompleteList>;
  readonly maxDeleteShare: number;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  /** Start the sync state afresh from this list (a corrupt or suspect state), keeping the ownership it records. */
  readonly resetState?: boolean;
  readonly signal?: AbortSignal;
  /** Where to write Events on the Services whose outcome changed (never on a dry run); none without it. */
  readonly events?: ServiceEventsSink;
}

export interface ReconcileReport {
  readonly listed: number;
  readonly listVersion: string;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly unchanged: number;
  readonly conflicts: number;
  readonly skipped: number;
  readonly invalid: number;
  /** Observations older than what the sync already applied from newer events (changed since the list). */
  readonly stale: number;
  /** Why the deletion guard stopped the reconcile, or why the list was superseded; nothing was written. */
  readonly refused?: string;
  /** Set when the refusal is only that a newer complete list was applied meanwhile (not an alarm). */
  readonly superseded?: boolean;
  /** Why the sync state was started afresh (a new cluster under the same id, a reset, a corrupt or lost state). */
  readonly restarted?: string;
  /** Damage by other writers that this reconcile repaired (a reconcile decides every Service, so all of it). */
  readonly repaired: number;
  /** Of those, entries whose reader fields someone changed (a hand edit reverted). */
  readonly reverted: number;
  readonly written: boolean;
  readonly documentWritten: boolean;
  readonly dryRun: boolean;
  readonly casAttempts: number;
  readonly documentBytes: number;
  /** Size of the cluster's sync state after the reconcile: with the document, one ZooKeeper request. */
  readonly stateBytes: number;
  /** The document's znode version after the reconcile (-1 when it does not exist). */
  readonly version: number;
  /** Kubernetes Events on Services whose outcome changed: created, series counted up, failed, not attempted. */
  readonly events: EventCounts;
}

export interface ReconcileResult {
  readonly report: ReconcileReport;
  readonly plan: RegistryPlan;
  readonly skipped: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
  readonly invalid: ReadonlyArray<{ readonly key: string; readonly error: string }>;
  readonly repaired: readonly Damage[];
  /** Where each listed Service stands, as this reconcile decided (what `kube-zk-sync status` prints). */
  readonly outcomes: ReadonlyMap<string, ServiceOutcome>;
  /** The document as this reconcile leaves it (a dry run's or a refused one's: as it would be, or as it was read). */
  readonly document: RegistryDocument;
  /** Why Events could not be written (the first few), for the log: never a failure of the reconcile. */
  readonly eventErrors: readonly string[];
}

export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
}

/** A listed object that is not a usable Service: it exists, so its entry must stay, but it cannot be mapped. */
interface Unreadable {
  readonly unreadable: string;
}
type Listed = TrimmedService | Unreadable;

const isUnreadable = (value: Listed): value is Unreadable => 'unreadable' in value;

function readListed(items: readonly unknown[], listVersion: string) {
  return items.map((item) => {
    const metadata = (item as { metadata?: Record<string, unknown> } | null)?.metadata;
    const { namespace, name, resourceVersion } = metadata ?? {};
    if (typeof namespace !== 'string' || typeof name !== 'string' || namespace === '' || name === '') {
      // A list whose objects have no identity is not a list the deletions can be computed from.
      throw new ReconcileError(
        'the Service list holds an object without metadata.namespace/name; nothing was changed',
      );
    }
    let value: Listed;
    try {
      value = trimService(item);
    } catch (error) {
      value = { unreadable: messageOf(error) };
    }
    return {
      key: `${namespace}/${name}`,
      resourceVersion:
        typeof resourceVersion === 'string' && resourceVersion !== '' ? resourceVersion : listVersion,
      value,
    };
  });
}

export async function reconcile(input: ReconcileInput): Promise<ReconcileResult> {
  const listedAt = Date.now();
  const list = await input.list();
  input.signal?.throwIfAborted();
  const listed = readListed(list.items, list.resourceVersion);
  const toEntry = (value: Listed): EntryDecision =>
    isUnreadable(value) ? { kind: 'invalid', error: value.unreadable } : input.target.toEntry(value);
  const outcome = await input.registry.applyObservations(
    input.target.cluster,
    (document, state) => {
      input.signal?.throwIfAborted();
      return completeListObservations(listed, list.resourceVersion, document, state, input.target.cluster);
    },
    {
      ...stepRules(input.target),
      toEntry,
      maxDeleteShare: input.maxDeleteShare,
      complete: {
        listVersion: list.resourceVersion,
        listedAt,
        ...(list.identity ? { identity: list.identity } : {}),
      },
      ...(input.resetState ? { resetState: 'a person asked for it (--reset-state)' } : {}),
      ...(input.force ? { force: true } : {}),
      ...(input.dryRun ? { dryRun: true } : {}),
    },
  );
  const { plan } = outcome;
  const uids = new Map(listed.map((l) => [l.key, isUnreadable(l.value) ? undefined : l.value.metadata.uid]));
  // After the compare-and-set (or the deletion guard's refusal), with what is left of the time.
  const told = input.dryRun
    ? NO_EVENTS
    : await tellOwners(outcome.events, (key) => uids.get(key), input.events, input.signal);
  return {
    report: {
      listed: listed.length,
      listVersion: list.resourceVersion,
      created: plan.creates.length,
      updated: plan.updates.length,
      deleted: plan.deletes.length,
      unchanged: plan.unchanged,
      conflicts: plan.conflicts.length,
      skipped: outcome.skipped.length,
      invalid: outcome.invalid.length,
      stale: outcome.stale.length,
      ...(outcome.refused ? { refused: outcome.refused } : {}),
      ...(outcome.superseded ? { superseded: true } : {}),
      ...(outcome.restarted ? { restarted: outcome.restarted } : {}),
      repaired: outcome.repaired.length,
      reverted: revertedEdits(outcome.repaired),
      written: outcome.written,
      documentWritten: outcome.written && outcome.changed,
      dryRun: input.dryRun ?? false,
      casAttempts: outcome.attempts,
      documentBytes: outcome.bytes,
      stateBytes: outcome.stateBytes,
      version: outcome.version,
      events: countsOf(told),
    },
    plan,
    skipped: outcome.skipped,
    invalid: outcome.invalid,
    repaired: outcome.repaired,
    outcomes: outcome.outcomes,
    document: outcome.document,
    eventErrors: told.errors,
  };
}

export interface DamageCheck {
  /** What other writers did to the cluster's entries. */
  readonly damage: readonly Damage[];
  /** Why the sync state cannot be used, when it cannot. */
  readonly stateProblem?: string;
  /** The reconcile that repaired it, when there was anything to repair. */
  readonly reconciled?: ReconcileResult;
}

/**
 * The cheap check a schedule runs often: two reads of ZooKeeper, and a reconcile only when the document shows
 * damage to the cluster's entries or the sync state cannot be used. It finds what a writer did while no Service
 * changed, when no sync write would see it.
 */
export async function reconcileIfDamaged(input: ReconcileInput): Promise<DamageCheck> {
  const found = await input.registry.inspect(input.target.cluster);
  if (found.damage.length === 0 && found.stateProblem === undefined) return found;
  return { ...found, reconciled: await reconcile(input) };
}
