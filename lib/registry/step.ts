// One step of keeping the document true: observations in, the next document and sync state out. The sync Lambda
// (a batch of events) and the reconcile (a complete list) both run exactly this, so they can never disagree. Each
// step also inspects what the document's other writers did to the cluster's entries: what the step's own
// observations cover is repaired at once, and the rest is left to a reconcile, which the step asks for.
import { compareResourceVersions } from '../events/resource-version.ts';
import { describeHeldDeletion, heldDeletionShare } from '../util/deletion-guard.ts';
import { applyBudgets, type Budgets } from './budgets.ts';
import { isHandMade, type RegistryDocument, type RegistryEntry } from './document.ts';
import {
  type Decided,
  entriesHeld,
  judgeOutcomes,
  type OutcomeEvent,
  rememberedOutcomes,
  type ServiceOutcome,
  type SkipCause,
} from './outcome.ts';
import { type Damage, inspectDocument, ownershipAfter, restoreMarkers } from './ownership.ts';
import {
  applyPlan,
  type DesiredEntries,
  type DesiredEntry,
  nameKey,
  ownedCount,
  type Policy,
  planHasChanges,
  planRegistryChanges,
  type RegistryPlan,
} from './plan.ts';
import { serviceBehind } from './shared.ts';
import { admitObservations, type Observation, raiseFloor, type SyncState } from './sync-state.ts';

export type { SkipCause };

/** What the mapping decided for one Service (lib/kube's MapResult fits this shape). */
export type EntryDecision =
  | { readonly kind: 'entry'; readonly entry: RegistryEntry; readonly shared?: boolean }
  | { readonly kind: 'skipped'; readonly reason: string; readonly cause?: SkipCause }
  | { readonly kind: 'invalid'; readonly error: string };

/** What a complete list adds to a step: where the list was taken, and from which cluster. */
export interface CompleteView {
  readonly listVersion: string;
  /** When the list was taken (ms since epoch). */
  readonly listedAt: number;
  /** The cluster's identity (the kube-system namespace's uid), when it could be read. */
  readonly identity?: string;
}

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
  /** Set when the observations are a complete list (a reconcile): the state's floor rises to it. */
  readonly complete?: CompleteView;
  /** Start the state afresh (it was corrupt, lost, or a person asked): only a complete step may do this. */
  readonly resetState?: string;
  /**
   * Whether a Service may ever be published (its namespace is allowed): the state keeps no version of any other,
   * so Services the filters exclude for good cost nothing in it. Default: every Service.
   */
  readonly tracks?: (key: string) => boolean;
  /** Ask for a reconcile at most this often when damage is left that this step cannot repair (a sync's setting). */
  readonly repairIntervalMs?: number;
  /** How much of the document the cluster's namespaces and the cluster may fill; unlimited when absent. */
  readonly budgets?: Budgets;
  /**
   * Why a Service may not hold an entry of this name (the name policy), or undefined when it may. A Service whose
   * entry cannot be built keeps the entry it has only when the policy allows that entry's name, so a name taken
   * before the policy forbade it is given back.
   */
  readonly nameRefusal?: (service: string, name: string) => string | undefined;
}

export interface PlannedStep<T> {
  readonly plan: RegistryPlan;
  readonly document: RegistryDocument;
  readonly state: SyncState;
  readonly stale: readonly Observation<T>[];
  readonly skipped: ReadonlyArray<{
    readonly key: string;
    readonly reason: string;
    readonly cause?: SkipCause;
  }>;
  readonly invalid: ReadonlyArray<{ readonly key: string; readonly error: string }>;
  /** Where each Service this step decided stands (lib/registry/outcome.ts): what `status` shows. */
  readonly outcomes: ReadonlyMap<string, ServiceOutcome>;
  /**
   * What to tell the Services' owners: one per Service whose outcome changed, in key order. Empty for a dry run's
   * caller to ignore, and for a refused step but for the Services whose removal the deletion guard holds.
   */
  readonly events: readonly OutcomeEvent[];
  /** Damage to this cluster's entries found in the document, repaired by this step or left for a reconcile. */
  readonly repaired: readonly Damage[];
  readonly unrepaired: readonly Damage[];
  /** Observations from another identity of the cluster than the state's: set aside, a reconcile decides. */
  readonly mismatched: readonly Observation<T>[];
  /** Whether the caller should ask for a reconcile now (damage left, or observations of another identity). */
  readonly requestReconcile: boolean;
  /** Why the state was started afresh, when it was (a new cluster under the same id, a reset, a lost state). */
  readonly restarted?: string;
  /** Set when the deletion guard stopped the step, or a newer complete list was applied meanwhile: no write. */
  readonly refused?: string;
  /** Set when the refusal is only that: a newer complete list was applied meanwhile. */
  readonly superseded?: boolean;
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
    ...document.entries.flatMap((e) => {
      const service = serviceBehind(e, owner);
      return service === undefined ? [] : [service];
    }),
    ...Object.values(state.owned ?? {}).map((o) => o.service),
    // An entry it removed may have come back in an old copy, without its marker: its Service is decided too.
    ...Object.values(state.released ?? {}).map((r) => r.service),
    ...Object.keys(state.services),
  ]);
  const gone = [...known].filter((key) => !present.has(key)).sort();
  return [...listed, ...gone.map((key) => ({ key, resourceVersion: listVersion, value: null }))];
}

/**
 * Whether a complete list starts a new history of the cluster: another identity, or a list older than the floor
 * although it was taken after the floor's list was applied (etcd restored from a backup). A list taken before the
 * floor was set is simply superseded by it.
 */
function judgeCompleteView(state: SyncState, view: CompleteView): { restart?: string; superseded?: string } {
  if (state.identity !== undefined && view.identity !== undefined && state.identity !== view.identity) {
    return {
      restart: `the cluster's identity changed from ${state.identity} to ${view.identity} (a new cluster under the same id)`,
    };
  }
  if (state.floor !== undefined && compareResourceVersions(view.listVersion, state.floor) < 0) {
    if (state.floorAt !== undefined && view.listedAt < state.floorAt) {
      return {
        superseded: `a newer complete list (resourceVersion ${state.floor}) was applied while this one (${view.listVersion}) was taken; nothing was changed`,
      };
    }
    return {
      restart: `the cluster's resourceVersion went back from ${state.floor} to ${view.listVersion} (its etcd was restored or rebuilt)`,
    };
  }
  return {};
}

const withoutFloor = ({ floor: _floor, floorAt: _at, ...state }: SyncState): SyncState => state;

/**
 * The state started afresh: ownership is kept (the entries are still the cluster's), versions are not, but for
 * those newer than the list of the same incarnation (`keepAbove`): what the syncs applied while the list was taken
 * is still true, and forgetting it would let the older list undo it.
 */
function restartedState(state: SyncState, keepAbove?: string): SyncState {
  const newer = <V>(record: Readonly<Record<string, V>>, rv: (v: V) => string) =>
    keepAbove === undefined
      ? {}
      : Object.fromEntries(
          Object.entries(record).filter(([, v]) => compareResourceVersions(rv(v), keepAbove) > 0),
        );
  return {
    services: newer(state.services, (v) => v),
    tombstones: newer(state.tombstones, (t) => t.rv),
    ...(state.owned ? { owned: state.owned } : {}),
    ...(state.released ? { released: state.released } : {}),
  };
}

/**
 * The next document and sync state: observations older than the state are dropped as stale, the rest mapped to
 * entries and planned against the document (with this cluster's ownership from the state, and the damage other
 * writers did repaired where the observations cover it); a plan that deletes more than `maxDeleteShare` is
 * refused whole.
 */
export function planStep<T>(input: StepInput<T>): PlannedStep<T> {
  let state = input.state;
  let restarted = input.resetState;
  // A reset asked for (or a state that could not be read) keeps what is newer than the list; a new incarnation
  // keeps nothing, since its versions cannot be compared with the old one's.
  let keepAbove = input.resetState !== undefined ? input.complete?.listVersion : undefined;
  if (input.complete) {
    const judged = judgeCompleteView(state, input.complete);
    if (judged.superseded) return { ...refusedStep(input, judged.superseded), superseded: true };
    if (judged.restart !== undefined) {
      restarted = judged.restart;
      keepAbove = undefined;
    }
  }
  if (restarted !== undefined) state = restartedState(state, keepAbove);

  const inspection = inspectDocument(input.document, state, input.owner, input.now);
  const current = inspection.document;
  // An entry brought back for a Service the state saw deleted is removed again, as the deletion was.
  const reDeletions: Observation<T>[] = inspection.damage.flatMap((d) => {
    const tomb = d.kind === 'unexpected' ? state.tombstones[d.service] : undefined;
    return tomb ? [{ key: d.service, resourceVersion: tomb.rv, value: null }] : [];
  });
  // Versions of another incarnation of the cluster (rebuilt under the same id) cannot be ordered against the
  // state's: such observations are set aside until a reconcile starts the state afresh.
  const other = (o: Observation<T>) =>
    state.identity !== undefined && o.identity !== undefined && o.identity !== state.identity;
  const observations = [...input.observations];
  const mismatched = observations.filter(other);
  const usable = mismatched.length === 0 ? observations : observations.filter((o) => !other(o));
  // A complete list speaks for every Service as of its own version, which is at or above the floor: only what the
  // state holds of a Service can make its observation stale. Events are also judged against the floor.
  const judgedBy = input.complete ? withoutFloor(state) : state;
  const admission = admitObservations(judgedBy, [...usable, ...reDeletions], input.now);
  const { admitted, stale } = admission;
  const tracked = <V>(record: Readonly<Record<string, V>>) =>
    input.tracks ? Object.fromEntries(Object.entries(record).filter(([key]) => input.tracks?.(key))) : record;
  const next: SyncState = {
    ...state,
    services: tracked(admission.next.services),
    tombstones: tracked(admission.next.tombstones),
  };
  const desired = new Map<string, DesiredEntry | null>();
  const skipped: Array<{ key: string; reason: string; cause?: SkipCause }> = [];
  const invalid: Array<{ key: string; error: string }> = [];
  const decisions = new Map<string, Decided>();
  const held = entriesHeld(current, input.owner);
  const forbiddenName = (key: string): string | undefined => {
    const refusal = input.nameRefusal;
    if (!refusal) return undefined;
    return held.get(key)?.find((e) => refusal(key, e.name) !== undefined)?.name;
  };
  for (const [key, o] of admitted) {
    if (o.value === null) {
      desired.set(key, null);
      decisions.set(key, null);
      continue;
    }
    const decision = input.toEntry(o.value);
    if (decision.kind === 'entry') {
      desired.set(key, decision.shared ? { ...decision.entry, shared: true } : decision.entry);
      decisions.set(key, { kind: 'entry' });
    } else if (decision.kind === 'skipped') {
      desired.set(key, null);
      skipped.push({ key, reason: decision.reason, ...(decision.cause ? { cause: decision.cause } : {}) });
      // A decision that does not say why it skips is taken for a filter's: the operator's scope, told to nobody.
      decisions.set(key, { kind: 'skipped', reason: decision.reason, cause: decision.cause ?? 'filtered' });
    } else {
      // A Service whose entry cannot be built keeps whatever entry it had: a typo must not unpublish it. Unless
      // the name policy forbids that entry: then the name is given back.
      const given = forbiddenName(key);
      if (given) desired.set(key, null);
      const error = given
        ? `${decision.error}; its entry "${given}" is removed, as its name is not the Service's`
        : decision.error;
      invalid.push({ key, error });
      decisions.set(key, { kind: 'invalid', error });
    }
  }
  const proposed = planRegistryChanges(current, desired, input.owner, input.policy);
  const budgeted = input.budgets ? applyBudgets(current, proposed, input.budgets) : undefined;
  const plan = budgeted?.plan ?? proposed;
  for (const r of budgeted?.refused ?? []) invalid.push({ key: r.service, error: r.error });
  // Where each decided Service stands, and what its owner is told (outcome.ts).
  const told = (refused?: string) =>
    judgeOutcomes(
      {
        decided: decisions,
        plan,
        held,
        overBudget: new Map((budgeted?.refused ?? []).map((r) => [r.service, r.error])),
        ...(refused !== undefined ? { refused } : {}),
      },
      state,
    );
  const heldShare = heldDeletionShare({
    deletes: plan.deletes.length,
    owned: ownedCount(current, plan.owner),
    maxShare: input.maxDeleteShare,
    ...(input.force ? { force: true } : {}),
  });
  if (heldShare !== undefined && input.maxDeleteShare !== undefined) {
    const refused =
      `${describeHeldDeletion(plan.deletes.length, "this cluster's entries", heldShare, input.maxDeleteShare)}; check ` +
      'the cluster connection and filters, then run again with --force (or {"force": true}) if this is intended';
    const { outcomes, events } = told(refused);
    return { ...refusedStep(input, refused), plan, stale, skipped, invalid, outcomes, events };
  }
  const { outcomes, events, digests } = told();

  const planned = planHasChanges(plan) ? applyPlan(current, plan) : current;
  const marked = restoreMarkers(planned, input.owner);
  const document = marked.document;
  // A Service whose change a budget refused keeps what it had: its entry is not as the plan wants, so its damage,
  // if any, stays damage (reported, repaired once there is room) instead of being taken for the cluster's own.
  const cut = new Set((budgeted?.refused ?? []).map((r) => r.service));
  const decided = new Set([...desired.keys()].filter((key) => !cut.has(key)));
  // Under create-only the cluster never updates an entry: an edit of one is what the policy leaves to people, not
  // damage (neither reverted nor asked to be).
  const damage = inspection.damage.filter(
    (d) => !(input.policy === 'create-only' && d.kind === 'edited' && decided.has(d.service)),
  );
  // A contribution to a shared entry that is still there is put back from the state by any write.
  const repaired = damage.filter(
    (d) => decided.has(d.service) || d.kind === 'unmarked' || (d.shared && d.kind === 'edited'),
  );
  const unrepaired = damage.filter((d) => !repaired.includes(d));
  const ask =
    (unrepaired.length > 0 || mismatched.length > 0 || blockedByUnmarked(current, plan, desired)) &&
    input.repairIntervalMs !== undefined &&
    (state.repairRequestedAt === undefined || input.now - state.repairRequestedAt >= input.repairIntervalMs);

  const { outcomes: _before, ...rest } = next;
  let nextState: SyncState = {
    ...rest,
    ...ownershipAfter(document, state, input.owner, decided, input.now),
    ...rememberedOutcomes(state, digests),
  };
  if (ask) nextState = { ...nextState, repairRequestedAt: input.now };
  if (input.complete) {
    const identity = input.complete.identity ?? (restarted === undefined ? state.identity : undefined);
    nextState = raiseFloor(nextState, input.complete.listVersion, input.now, identity);
  }
  return {
    plan,
    document,
    state: nextState,
    stale,
    skipped,
    invalid,
    outcomes,
    events,
    repaired,
    unrepaired,
    mismatched,
    requestReconcile: ask,
    ...(restarted !== undefined ? { restarted } : {}),
    changed: planHasChanges(plan) || marked.restored > 0,
  };
}

/**
 * Whether a Service that shares its name was refused it for an entry without any marker: a person's entry, or a
 * shared entry whose marker a writer dropped and whose clusters have not written it back yet. A reconcile soon
 * decides it again against the entry as they leave it.
 */
function blockedByUnmarked(current: RegistryDocument, plan: RegistryPlan, desired: DesiredEntries): boolean {
  return plan.conflicts.some(
    (c) =>
      desired.get(c.service)?.shared === true &&
      current.entries.some((e) => nameKey(e.name) === nameKey(c.name) && isHandMade(e)),
  );
}

function refusedStep<T>(input: StepInput<T>, refused: string): PlannedStep<T> {
  return {
    plan: { owner: input.owner, creates: [], updates: [], deletes: [], conflicts: [], unchanged: 0 },
    document: input.document,
    state: input.state,
    stale: [],
    skipped: [],
    invalid: [],
    outcomes: new Map(),
    events: [],
    repaired: [],
    unrepaired: [],
    mismatched: [],
    requestReconcile: false,
    refused,
    changed: false,
  };
}
