// One step of keeping the document true: observations in, the next document and sync state out. The sync Lambda
// (a batch of events) and the reconcile (a complete list) both run exactly this, so they can never disagree.
import type { RegistryDocument, RegistryEntry } from './document.ts';
import {
  applyPlan,
  deletionShare,
  type Policy,
  planHasChanges,
  planRegistryChanges,
  type RegistryPlan,
} from './plan.ts';
import { admitObservations, type Observation, type SyncState } from './sync-state.ts';

/** What the mapping decided for one Service (lib/kube's MapResult fits this shape). */
export type EntryDecision =
  | { readonly kind: 'entry'; readonly entry: RegistryEntry }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly error: string };

export interface StepInput<T> {
  readonly document: RegistryDocument;
  readonly state: SyncState;
  readonly observations: Iterable<Observation<T>>;
  readonly owner: string;
  readonly policy: Policy;
  readonly toEntry: (value: T) => EntryDecision;
  readonly now: number;
  /** Refuse a plan that deletes more than this share of the cluster's entries (a reconcile's guard). */
  readonly maxDeleteShare?: number;
  readonly force?: boolean;
}

export interface PlannedStep<T> {
  readonly plan: RegistryPlan;
  readonly document: RegistryDocument;
  readonly state: SyncState;
  readonly stale: readonly Observation<T>[];
  readonly skipped: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
  readonly invalid: ReadonlyArray<{ readonly key: string; readonly error: string }>;
  /** Set when the deletion guard stopped the step: nothing may be written. */
  readonly refused?: string;
  /** Whether the document changes (the state may change alone, e.g. when only versions advance). */
  readonly changed: boolean;
}

/**
 * The observations of a complete list taken at `listVersion`: every listed Service as it was, and every Service
 * this cluster has an entry or a sync state for that the list lacks, as gone at `listVersion`. A Service created
 * after the list has a newer version in the sync state, so its "gone" is stale and changes nothing.
 */
export function completeListObservations<T>(
  listed: ReadonlyArray<{ readonly key: string; readonly resourceVersion: string; readonly value: T }>,
  listVersion: string,
  document: RegistryDocument,
  state: SyncState,
  owner: string,
): Observation<T>[] {
  const present = new Set(listed.map((l) => l.key));
  const known = new Set([
    ...document.entries.flatMap((e) => (e.owner?.cluster === owner ? [e.owner.service] : [])),
    ...Object.keys(state.services),
  ]);
  const gone = [...known].filter((key) => !present.has(key)).sort();
  return [...listed, ...gone.map((key) => ({ key, resourceVersion: listVersion, value: null }))];
}

/**
 * The next document and sync state: observations older than the state are dropped as stale, the rest mapped to
 * entries and planned against the document; a plan that deletes more than `maxDeleteShare` is refused whole.
 */
export function planStep<T>(input: StepInput<T>): PlannedStep<T> {
  const { admitted, stale, next } = admitObservations(input.state, input.observations, input.now);
  const desired = new Map<string, RegistryEntry | null>();
  const skipped: Array<{ key: string; reason: string }> = [];
  const invalid: Array<{ key: string; error: string }> = [];
  for (const [key, o] of admitted) {
    if (o.value === null) {
      desired.set(key, null);
      continue;
    }
    const decision = input.toEntry(o.value);
    if (decision.kind === 'entry') desired.set(key, decision.entry);
    else if (decision.kind === 'skipped') {
      desired.set(key, null);
      skipped.push({ key, reason: decision.reason });
    } else {
      // A Service whose entry cannot be built keeps whatever entry it had: a typo must not unpublish it.
      invalid.push({ key, error: decision.error });
    }
  }
  const plan = planRegistryChanges(input.document, desired, input.owner, input.policy);
  const base = { plan, stale, skipped, invalid };
  const share = deletionShare(input.document, plan);
  if (
    input.maxDeleteShare !== undefined &&
    !input.force &&
    plan.deletes.length > 0 &&
    share > input.maxDeleteShare
  ) {
    const refused =
      `refusing to delete ${plan.deletes.length} of this cluster's entries (${Math.round(share * 100)}%, more than ` +
      `the ${Math.round(input.maxDeleteShare * 100)}% allowed); check the cluster connection and filters, then run ` +
      'again with --force (or {"force": true}) if this is intended';
    return { ...base, document: input.document, state: input.state, refused, changed: false };
  }
  const changed = planHasChanges(plan);
  return {
    ...base,
    document: changed ? applyPlan(input.document, plan) : input.document,
    state: next,
    changed,
  };
}
