// Where each Service stands in the registry after a step, and whether that changed: what `kube-zk-sync status`
// prints and what the Events on a Service say. Derived from what the step decided (the mapping's decision, the plan,
// the budgets, the deletion guard), never from a second reading of the rules. Pure.
//
// An outcome is the lasting state ("published as NAME", "invalid: …"); the action is what this step did to get
// there (created, updated, removed). Only a change of outcome, or an action on the entry, is worth telling the
// Service's owner. To know the outcome before a step without keeping one record per Service, the previous outcome
// of a published Service is read from the document (it holds the Service's entry), and the sync state keeps a short
// digest only for the Services in scope that are not published (`SyncState.outcomes`).
import { createHash } from 'node:crypto';
import { type RegistryDocument, type RegistryEntry, readerView } from './document.ts';
import type { RegistryPlan } from './plan.ts';
import { contributionOf, contributionView, contributorsLabel } from './shared.ts';
import type { SyncState } from './sync-state.ts';

/** Why a Service that nothing is wrong with is not published (see lib/kube/mapping.ts). */
export type SkipCause = 'filtered' | 'opted-out' | 'no-address';

export type ServiceOutcome =
  | {
      readonly kind: 'published';
      readonly entry: RegistryEntry;
      /** What this step did to the entry: `kept` when the document already held it as wanted. */
      readonly action: 'created' | 'updated' | 'kept';
      /** The entry before an update. */
      readonly before?: RegistryEntry;
    }
  | {
      readonly kind: 'skipped';
      readonly cause: SkipCause;
      readonly reason: string;
      readonly removed: string[];
    }
  | {
      readonly kind: 'invalid';
      readonly problem: string;
      /** Entries it keeps (a typo must not unpublish it); `removed` when the name policy gave its name back. */
      readonly kept: string[];
      readonly removed: string[];
    }
  | { readonly kind: 'conflict'; readonly name: string; readonly heldBy: string; readonly removed: string[] }
  /** A budget refused its change: it keeps what it had. */
  | { readonly kind: 'over-budget'; readonly problem: string; readonly kept: string[] }
  /** The deletion guard refused the step that would remove its entries: nothing was written. */
  | {
      readonly kind: 'deletion-held';
      readonly names: string[];
      readonly problem: string;
      /** Whether the Service itself is gone (then there is no object to tell). */
      readonly gone: boolean;
    }
  /** The Service is gone (deleted, or not in the list): its entries, if any, are removed. */
  | { readonly kind: 'gone'; readonly removed: string[] };

export type OutcomeKind = ServiceOutcome['kind'];

/** What a step decided per Service, as outcome.ts needs it. */
export interface StepDecisions {
  /** Every Service the step decided: its mapping's decision, or null when it is gone. */
  readonly decided: ReadonlyMap<string, Decided>;
  readonly plan: RegistryPlan;
  /** The cluster's entries per Service in the document the plan was made against. */
  readonly held: ReadonlyMap<string, readonly RegistryEntry[]>;
  /** Services a budget refused, and why. */
  readonly overBudget: ReadonlyMap<string, string>;
  /** Why the deletion guard refused the step, when it did. */
  readonly refused?: string;
}

export type Decided =
  | { readonly kind: 'entry' }
  | { readonly kind: 'skipped'; readonly reason: string; readonly cause: SkipCause }
  | { readonly kind: 'invalid'; readonly error: string }
  | null;

const byService = <C extends { readonly service: string }>(changes: readonly C[]) => {
  const map = new Map<string, C[]>();
  for (const c of changes) map.set(c.service, [...(map.get(c.service) ?? []), c]);
  return map;
};

/** Each decided Service's outcome. */
function serviceOutcomes(step: StepDecisions): Map<string, ServiceOutcome> {
  const { plan } = step;
  const creates = byService(plan.creates);
  const updates = byService(plan.updates);
  const deletes = byService(plan.deletes);
  const conflicts = byService(plan.conflicts);
  const outcomes = new Map<string, ServiceOutcome>();
  for (const [service, decision] of step.decided) {
    const removed = (deletes.get(service) ?? []).map((d) => d.entry.name);
    const heldNames = (step.held.get(service) ?? []).map((e) => e.name);
    const kept = heldNames.filter((n) => !removed.includes(n));
    let outcome: ServiceOutcome;
    if (step.refused !== undefined && removed.length > 0) {
      outcome = { kind: 'deletion-held', names: removed, problem: step.refused, gone: decision === null };
    } else if (step.overBudget.has(service)) {
      outcome = { kind: 'over-budget', problem: step.overBudget.get(service) as string, kept: heldNames };
    } else if (decision === null) {
      outcome = { kind: 'gone', removed };
    } else if (decision.kind === 'skipped') {
      outcome = { kind: 'skipped', cause: decision.cause, reason: decision.reason, removed };
    } else if (decision.kind === 'invalid') {
      outcome = { kind: 'invalid', problem: decision.error, kept, removed };
    } else {
      const conflict = conflicts.get(service)?.[0];
      const created = creates.get(service)?.[0];
      const updated = updates.get(service)?.[0];
      if (conflict) outcome = { kind: 'conflict', name: conflict.name, heldBy: conflict.heldBy, removed };
      else if (created) outcome = { kind: 'published', entry: created.entry, action: 'created' };
      else if (updated)
        outcome = { kind: 'published', entry: updated.after, action: 'updated', before: updated.before };
      else {
        // Kept as it is: the document holds the entry the Service wants (or create-only keeps what it has).
        const entry = step.held.get(service)?.find((e) => !removed.includes(e.name));
        outcome = entry ? { kind: 'published', entry, action: 'kept' } : { kind: 'gone', removed }; // cannot happen: an entry decision is created, updated, kept or in conflict
      }
    }
    outcomes.set(service, outcome);
  }
  return outcomes;
}

/**
 * The outcomes a Service's owner is told about and the sync state remembers: the problems and the skips a Service's
 * owner can act on. A filtered Service is the operator's scope (it may be one of thousands of ClusterIP Services),
 * and a published one is remembered by the document itself.
 */
export const remembered = (o: ServiceOutcome): boolean =>
  !(o.kind === 'published' || o.kind === 'gone' || (o.kind === 'skipped' && o.cause === 'filtered'));

/**
 * A short digest of an outcome that the sync state keeps (8 characters): equal for the same problem, so a step
 * that finds what the last one found tells nobody again. A budget's numbers move with every neighbour's change,
 * so over-budget is one outcome whatever the numbers.
 */
function outcomeDigest(o: ServiceOutcome): string {
  const detail =
    o.kind === 'skipped'
      ? [o.cause, o.reason]
      : o.kind === 'invalid'
        ? [o.problem]
        : o.kind === 'conflict'
          ? [o.name, o.heldBy]
          : o.kind === 'deletion-held'
            ? o.names
            : o.kind === 'published'
              ? [o.entry.name]
              : [];
  return createHash('sha256')
    .update(JSON.stringify([o.kind, ...detail]))
    .digest('base64url')
    .slice(0, 8);
}

/** The Event reasons: stable, one per outcome or action, as `kubectl get events --field-selector reason=…` lists. */
export const EVENT_REASONS = {
  published: 'Published',
  updated: 'Updated',
  removed: 'Removed',
  skipped: 'Skipped',
  invalid: 'Invalid',
  conflict: 'NameConflict',
  overBudget: 'OverBudget',
  deletionHeld: 'DeletionHeld',
} as const;

export type EventReason = (typeof EVENT_REASONS)[keyof typeof EVENT_REASONS];

/** What to tell a Service's owner: a Kubernetes Event's content, before it has an object to be written on. */
export interface OutcomeEvent {
  /** `namespace/name` of the Service. */
  readonly service: string;
  readonly reason: EventReason;
  readonly type: 'Normal' | 'Warning';
  /** What kube-zk-sync did (events.k8s.io/v1 `action`). */
  readonly action: 'Publish' | 'Update' | 'Remove' | 'Skip' | 'Refuse';
  /** At most NOTE_LIMIT characters. */
  readonly note: string;
  /** The same problem again has the same series key: its Event's series counts up instead of a new Event. */
  readonly seriesKey: string;
}

/** events.k8s.io/v1 limits `note` to 1 kB. */
export const NOTE_LIMIT = 1024;

const cut = (text: string) => (text.length <= NOTE_LIMIT ? text : `${text.slice(0, NOTE_LIMIT - 1)}…`);
const names = (list: readonly string[]) => list.map((n) => `"${n}"`).join(', ');
const endpoints = (e: RegistryEntry) => e.endpoints.join(',') || '(none)';

/** The Service's name is in every note already (as the Event's object): the mapping's prefix is dropped. */
const withoutService = (text: string, service: string) =>
  text.startsWith(`Service ${service}: `) ? text.slice(`Service ${service}: `.length) : text;

/** One line that says where the Service stands (what `status` prints after the Service's name). */
export function describeOutcome(service: string, o: ServiceOutcome): string {
  switch (o.kind) {
    case 'published':
      return `published "${o.entry.name}" ${endpoints(o.entry)}`;
    case 'skipped': {
      const why = o.cause === 'no-address' ? 'no load balancer address yet' : o.cause.replace('-', ' ');
      return `skipped (${why}): ${withoutService(o.reason, service)}`;
    }
    case 'invalid':
      return `invalid: ${withoutService(o.problem, service)}${o.kept.length > 0 ? `; it keeps ${names(o.kept)}` : ''}`;
    case 'conflict':
      return `conflict: "${o.name}" is held by ${o.heldBy}`;
    case 'over-budget':
      return `over budget: ${withoutService(o.problem, service)}`;
    case 'deletion-held':
      return `deletion held: removing ${names(o.names)} waits: ${o.problem}`;
    case 'gone':
      return 'gone (no such Service)';
  }
}

const seriesKey = (service: string, reason: string, o: ServiceOutcome) =>
  createHash('sha256')
    .update(JSON.stringify([service, reason, outcomeDigest(o)]))
    .digest('hex')
    .slice(0, 16);

/**
 * What to tell the Service's owner when its outcome moves from `before` to `after`: nothing when it did not change
 * (and the step did nothing to its entry). `before` is the digest the sync state kept, `published` when the
 * document held the Service's entry, or undefined when nothing was known.
 */
function outcomeEvent(
  service: string,
  before: string | undefined,
  after: ServiceOutcome,
): OutcomeEvent | undefined {
  const event = (
    reason: EventReason,
    type: OutcomeEvent['type'],
    action: OutcomeEvent['action'],
    note: string,
  ): OutcomeEvent => ({
    service,
    reason,
    type,
    action,
    note: cut(note),
    seriesKey: seriesKey(service, reason, after),
  });
  const removed = 'removed' in after && after.removed.length > 0 ? after.removed : [];
  // No Service left to tell.
  if (after.kind === 'gone' || (after.kind === 'deletion-held' && after.gone)) return undefined;
  if (after.kind === 'published') {
    if (after.action === 'created')
      return event(
        'Published',
        'Normal',
        'Publish',
        `published as "${after.entry.name}" ${endpoints(after.entry)}`,
      );
    if (after.action === 'updated') {
      const from = after.before;
      const what =
        from && from.name !== after.entry.name
          ? `renamed "${from.name}" to "${after.entry.name}"`
          : `"${after.entry.name}" updated`;
      return event('Updated', 'Normal', 'Update', `${what}: ${endpoints(after.entry)}`);
    }
    // Kept: news only when it was not published before (a problem fixed, its entry kept all along).
    if (before === undefined || before === PUBLISHED) return undefined;
    return event(
      'Published',
      'Normal',
      'Publish',
      `published as "${after.entry.name}" ${endpoints(after.entry)}`,
    );
  }
  const digest = outcomeDigest(after);
  if (removed.length === 0 && (before === digest || !remembered(after))) return undefined;
  const text = describeOutcome(service, after);
  if (after.kind === 'skipped') {
    if (removed.length > 0) return event('Removed', 'Normal', 'Remove', `removed ${names(removed)}: ${text}`);
    return event('Skipped', 'Normal', 'Skip', text);
  }
  const gave = removed.length > 0 ? `; removed ${names(removed)}` : '';
  switch (after.kind) {
    case 'invalid':
      return event('Invalid', 'Warning', 'Refuse', `${text}${gave}`);
    case 'conflict':
      return event('NameConflict', 'Warning', 'Refuse', `${text}${gave}`);
    case 'over-budget':
      return event('OverBudget', 'Warning', 'Refuse', text);
    case 'deletion-held':
      return event('DeletionHeld', 'Warning', 'Refuse', text);
  }
}

/** The previous outcome of a Service whose entry the document holds, as `outcomeEvent` takes it. */
export const PUBLISHED = 'published';

/** One Service in `kube-zk-sync status` and in a dry-run reconcile's answer. */
export interface StatusRow {
  readonly service: string;
  readonly outcome: OutcomeKind;
  /** `describeOutcome`'s line. */
  readonly status: string;
  /** For a published Service: whether the document holds its entry as the reconcile would write it. */
  readonly document?: 'agrees' | 'missing' | 'differs';
  /** For a published Service: the name of its entry. */
  readonly entry?: string;
  /** For a Service's share of a shared entry: every contributor, `cluster:namespace/name`, comma-separated. */
  readonly contributors?: string;
}

/** The rows of a table of outcomes, in key order; Services that are gone are left out. */
export function statusRows(outcomes: ReadonlyMap<string, ServiceOutcome>): StatusRow[] {
  return [...outcomes.keys()].sort().flatMap((service) => {
    const o = outcomes.get(service) as ServiceOutcome;
    if (o.kind === 'gone') return [];
    const document =
      o.kind !== 'published'
        ? undefined
        : o.action === 'kept'
          ? 'agrees'
          : o.action === 'created'
            ? 'missing'
            : 'differs';
    return [
      {
        service,
        outcome: o.kind,
        status: describeOutcome(service, o),
        ...(document ? { document } : {}),
        ...(o.kind === 'published' ? { entry: o.entry.name } : {}),
      },
    ];
  });
}

/**
 * A published Service's share of a shared entry names every cluster that contributes to it (`cluster:namespace/name`),
 * from the document as the reconcile would leave it: the one its rows were decided on, not a second read.
 */
export function withContributors(rows: readonly StatusRow[], document: RegistryDocument): StatusRow[] {
  const shared = new Map(
    document.entries.flatMap((e) => (e.shared ? [[e.name, contributorsLabel(e.shared)] as const] : [])),
  );
  return rows.map((row) => {
    const contributors = row.entry === undefined ? undefined : shared.get(row.entry);
    return contributors ? { ...row, status: `${row.status}, shared by ${contributors}`, contributors } : row;
  });
}

/**
 * Service → what `owner` holds for it in `document`: its entries as readers see them, and its contributions to
 * shared entries as the plan compares them (the cluster's own description and endpoints).
 */
export function entriesHeld(document: RegistryDocument, owner: string): Map<string, RegistryEntry[]> {
  const held = new Map<string, RegistryEntry[]>();
  for (const e of document.entries) {
    const contribution = contributionOf(e, owner);
    const service = e.owner?.cluster === owner ? e.owner.service : contribution?.service;
    if (service === undefined) continue;
    const view = contribution ? contributionView(e.name, contribution) : readerView(e);
    held.set(service, [...(held.get(service) ?? []), view]);
  }
  return held;
}

/**
 * A step's outcomes, and the Events they call for, each judged against the Service's previous outcome: the digest
 * the state kept, or else published when the document held its entry. A refused step tells only of the deletions it
 * holds (nothing else happened). `digests`: what the state keeps of each decided Service next (undefined: nothing).
 */
export function judgeOutcomes(
  step: StepDecisions,
  state: SyncState,
): {
  outcomes: ReadonlyMap<string, ServiceOutcome>;
  events: OutcomeEvent[];
  digests: ReadonlyMap<string, string | undefined>;
} {
  const outcomes = serviceOutcomes(step);
  const events: OutcomeEvent[] = [];
  const digests = new Map<string, string | undefined>();
  for (const key of [...outcomes.keys()].sort()) {
    const outcome = outcomes.get(key) as ServiceOutcome;
    digests.set(key, remembered(outcome) ? outcomeDigest(outcome) : undefined);
    if (step.refused !== undefined && outcome.kind !== 'deletion-held') continue;
    const before = state.outcomes?.[key] ?? (step.held.has(key) ? PUBLISHED : undefined);
    const event = outcomeEvent(key, before, outcome);
    if (event) events.push(event);
  }
  return { outcomes, events, digests };
}

/** The state's outcome digests with those of a step's Services replaced. */
export function rememberedOutcomes(
  state: SyncState,
  digests: ReadonlyMap<string, string | undefined>,
): Pick<SyncState, 'outcomes'> {
  const outcomes: Record<string, string> = { ...(state.outcomes ?? {}) };
  for (const [key, digest] of digests) {
    if (digest === undefined) delete outcomes[key];
    else outcomes[key] = digest;
  }
  return Object.keys(outcomes).length > 0 ? { outcomes } : {};
}
