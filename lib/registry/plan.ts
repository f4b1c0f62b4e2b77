// Planning: what to change in the document so that the entries of one cluster match what it wants, without ever
// touching an entry that is not that cluster's. Pure: the same inputs always give the same plan.

import { deletionShare as shareOf } from '../util/deletion-guard.ts';
import {
  type Contribution,
  compareText,
  type Ownership,
  ownedEntry,
  type RegistryDocument,
  type RegistryEntry,
  readerView,
  type StoredEntry,
} from './document.ts';
import { contributionOf, contributorsLabel, replaceContribution, sharedEntry } from './shared.ts';

/** `sync` creates, updates and deletes; `upsert-only` never deletes; `create-only` only creates. */
export type Policy = 'sync' | 'upsert-only' | 'create-only';
export const POLICIES: readonly Policy[] = ['sync', 'upsert-only', 'create-only'];

/**
 * What the cluster wants, per Service key in scope: an entry, or null for "no entry" (the Service is gone or not
 * published). Keys that are not in the map are out of scope: their entries are left as they are.
 */
export type DesiredEntries = ReadonlyMap<string, DesiredEntry | null>;

/** An entry a Service wants; `shared` when it may be published together with other clusters (shared.ts). */
export type DesiredEntry = RegistryEntry & { readonly shared?: boolean };

export interface Conflict {
  readonly service: string;
  readonly name: string;
  /** Who holds the name: a hand-made entry, another cluster, or another Service of this cluster. */
  readonly heldBy: string;
}

/**
 * A change marked `shared` is to this cluster's contribution to a shared entry: its entries are the contribution
 * (the cluster's description and endpoints), not the union readers see.
 */
export interface RegistryPlan {
  readonly owner: string;
  readonly creates: ReadonlyArray<{
    readonly service: string;
    readonly entry: RegistryEntry;
    readonly shared?: true;
  }>;
  readonly updates: ReadonlyArray<{
    readonly service: string;
    readonly before: RegistryEntry;
    readonly after: RegistryEntry;
    readonly shared?: true;
  }>;
  readonly deletes: ReadonlyArray<{
    readonly service: string;
    readonly entry: RegistryEntry;
    readonly shared?: true;
  }>;
  readonly conflicts: readonly Conflict[];
  /** Entries in scope that already are as wanted. */
  readonly unchanged: number;
}

export const planHasChanges = (plan: RegistryPlan): boolean =>
  plan.creates.length + plan.updates.length + plan.deletes.length > 0;

const sameEntry = (a: RegistryEntry, b: RegistryEntry) =>
  a.name === b.name &&
  a.description === b.description &&
  a.endpoints.length === b.endpoints.length &&
  a.endpoints.every((e, i) => e === b.endpoints[i]);

/**
 * Names are one name whatever their case: readers look `Kafka` and `kafka` up alike, so one cannot shadow the
 * other, and two Services asking for `A` and `a` ask for the same name.
 */
export const nameKey = (name: string): string => name.toLowerCase();

function holderLabel(entry: StoredEntry, owner: string): string {
  if (entry.shared) return `a shared entry (contributors ${contributorsLabel(entry.shared)})`;
  if (!entry.owner) return 'a hand-made entry';
  if (entry.owner.cluster !== owner) return `cluster "${entry.owner.cluster}"`;
  return `Service ${entry.owner.service}`;
}

export function planRegistryChanges(
  current: RegistryDocument,
  desired: DesiredEntries,
  owner: string,
  policy: Policy,
): RegistryPlan {
  const mine = (e: StoredEntry): e is StoredEntry & { owner: Ownership } => e.owner?.cluster === owner;
  const held = new Map<string, Held[]>(); // this cluster's entries and contributions in scope, by Service key
  const hold = (service: string, h: Held) => held.set(service, [...(held.get(service) ?? []), h]);
  // Names that stay taken whatever this plan does: other people's entries, this cluster's entries out of scope,
  // shared entries, and, when the policy keeps them, this cluster's entries in scope.
  // Keyed by nameKey.
  const reserved = new Map<string, Holder>();
  for (const entry of current.entries) {
    const key = nameKey(entry.name);
    const contribution = contributionOf(entry, owner);
    if (entry.shared) {
      if (contribution && desired.has(contribution.service))
        hold(contribution.service, { name: entry.name, view: readerView(entry), contribution });
      reserved.set(key, {
        label: holderLabel(entry, owner),
        shared: true,
        ...(contribution ? { service: contribution.service } : {}),
        sole:
          contribution !== undefined && entry.shared.contributions.length === 1 && !entry.shared.unattributed,
        // Another Service of this cluster may take over its contribution when the one that has it is decided here.
        movable: contribution !== undefined && desired.has(contribution.service) && policy === 'sync',
      });
    } else if (mine(entry) && desired.has(entry.owner.service)) {
      hold(entry.owner.service, { name: entry.name, view: readerView(entry) });
      if (policy !== 'sync')
        reserved.set(key, { label: holderLabel(entry, owner), service: entry.owner.service });
    } else if (!reserved.has(key)) {
      reserved.set(key, {
        label: holderLabel(entry, owner),
        ...(mine(entry) ? { service: entry.owner.service } : {}),
      });
    }
  }

  // Every name that Services in scope ask for (by nameKey), and who asks.
  const claims = new Map<string, string[]>();
  for (const [service, entry] of desired) {
    if (entry) claims.set(nameKey(entry.name), [...(claims.get(nameKey(entry.name)) ?? []), service]);
  }

  const winners = new Map<string, DesiredEntry>(); // service → the entry it gets
  const conflicts: Conflict[] = [];
  const isShared = (service: string) => desired.get(service)?.shared === true;
  for (const [key, claimants] of [...claims].sort(([a], [b]) => compareText(a, b))) {
    claimants.sort(compareText);
    const holder = reserved.get(key);
    const currentHolder = claimants.find((s) => held.get(s)?.some((e) => nameKey(e.name) === key));
    const winner = !holder
      ? (currentHolder ?? claimants[0])
      : holder.shared
        ? sharedWinner(holder, claimants, isShared)
        : claimants.find((s) => s === holder.service);
    for (const service of claimants) {
      const entry = desired.get(service) as DesiredEntry;
      if (service === winner) winners.set(service, entry);
      else
        conflicts.push({
          service,
          name: entry.name,
          heldBy: conflictLabel(holder, winner, isShared(service)),
        });
    }
  }

  const creates: Array<{ service: string; entry: RegistryEntry; shared?: true }> = [];
  const updates: Array<{ service: string; before: RegistryEntry; after: RegistryEntry; shared?: true }> = [];
  const deletes: Array<{ service: string; entry: RegistryEntry; shared?: true }> = [];
  let unchanged = 0;
  for (const service of [...desired.keys()].sort(compareText)) {
    const desiredEntry = winners.get(service);
    const have = held.get(service) ?? [];
    const kind = desiredEntry?.shared === true;
    // The entry it keeps: one of the same name and kind, or failing that of the same name in another case (renamed
    // to it; a shared entry keeps its name, which other clusters publish too).
    const same =
      desiredEntry &&
      (have.find((e) => e.name === desiredEntry.name && isContribution(e) === kind) ??
        have.find((e) => nameKey(e.name) === nameKey(desiredEntry.name) && isContribution(e) === kind));
    const want = desiredEntry && {
      ...readerFields(desiredEntry),
      ...(same?.contribution ? { name: same.name } : {}),
    };
    // Joining or leaving the sharing of a name it holds replaces its entry: not a deletion, whatever the policy.
    const converted =
      desiredEntry && !same && policy !== 'create-only'
        ? have.find((e) => nameKey(e.name) === nameKey(desiredEntry.name))
        : undefined;
    const tag = (shared: boolean) => (shared ? { shared: true as const } : {});
    if (want && same) {
      const before = heldView(same);
      if (sameEntry(before, want)) unchanged++;
      else if (policy === 'create-only') unchanged++;
      else updates.push({ service, before, after: want, ...tag(kind) });
    } else if (want && (converted || !have.some((e) => nameKey(e.name) === nameKey(want.name)))) {
      creates.push({ service, entry: want, ...tag(kind) });
    } else if (want) unchanged++;
    if (converted) deletes.push({ service, entry: heldView(converted), ...tag(isContribution(converted)) });
    if (policy !== 'sync') continue;
    for (const entry of have)
      if (entry !== same && entry !== converted)
        deletes.push({ service, entry: heldView(entry), ...tag(isContribution(entry)) });
  }
  return { owner, creates, updates, deletes, conflicts, unchanged };
}

/** An entry this cluster holds for a Service: its own entry, or its contribution to a shared one. */
interface Held {
  readonly name: string;
  readonly view: RegistryEntry;
  readonly contribution?: Contribution;
}

/** Who keeps a name whatever this plan does, and, when it is this cluster's, through which Service. */
interface Holder {
  readonly label: string;
  readonly service?: string;
  readonly shared?: boolean;
  /** A shared entry of which that Service's contribution is all there is. */
  readonly sole?: boolean;
  /** Whether another Service of this cluster may take over that Service's contribution. */
  readonly movable?: boolean;
}

const isContribution = (h: Held): boolean => h.contribution !== undefined;
/** What the plan compares: the contribution of a shared entry, the entry itself otherwise. */
const heldView = (h: Held): RegistryEntry =>
  h.contribution
    ? { name: h.name, description: h.contribution.description, endpoints: h.contribution.endpoints }
    : h.view;
const readerFields = ({ name, description, endpoints }: DesiredEntry): RegistryEntry => ({
  name,
  description,
  endpoints,
});

/**
 * Which of this cluster's Services contributes to a shared entry: the one that does, while it still wants the entry
 * shared (or wants it unshared when its contribution is all there is), else the first that asks to share it. A
 * Service that asks for the name unshared never merges into it.
 */
function sharedWinner(
  holder: Holder,
  claimants: readonly string[],
  isShared: (service: string) => boolean,
): string | undefined {
  const contributor = claimants.find((s) => s === holder.service);
  if (contributor && (isShared(contributor) || holder.sole)) return contributor;
  // One contribution per cluster: another Service takes it over only when the one that has it lets it go here.
  if (holder.service !== undefined && !holder.movable) return undefined;
  return claimants.find((s) => s !== holder.service && isShared(s));
}

/** Why a claimant did not get its name, for its conflict. */
function conflictLabel(holder: Holder | undefined, winner: string | undefined, shared: boolean): string {
  if (!holder) return `Service ${winner}`;
  if (holder.shared && !shared)
    return `${holder.label}; it is published unshared here, and a shared name never merges an unshared entry`;
  if (!holder.shared && shared)
    return `${holder.label}, which is not shared: a name is shared only when every cluster that publishes it shares it`;
  return holder.label;
}

/**
 * The document after the plan: this cluster's changed entries replaced, its contributions to shared entries
 * replaced (the other clusters' kept as they are), every other entry kept as it was.
 */
export function applyPlan(current: RegistryDocument, plan: RegistryPlan): RegistryDocument {
  const unshared = <C extends { readonly shared?: true }>(changes: readonly C[]) =>
    changes.filter((c) => !c.shared);
  const gone = new Set(
    [
      ...unshared(plan.deletes),
      ...unshared(plan.updates).map((u) => ({ service: u.service, entry: u.before })),
    ].map((c) => `${c.service}\u0000${c.entry.name}`),
  );
  const contributions = sharedChanges(plan);
  const entries: StoredEntry[] = [];
  for (const e of current.entries) {
    if (e.owner?.cluster === plan.owner && gone.has(`${e.owner.service}\u0000${e.name}`)) continue;
    const key = nameKey(e.name);
    if (!e.shared || !contributions.has(key)) {
      entries.push(e);
      continue;
    }
    const marker = replaceContribution(e.shared, plan.owner, contributions.get(key));
    contributions.delete(key);
    if (marker) entries.push(sharedEntry(e.name, marker));
  }
  for (const contribution of contributions.values())
    if (contribution) entries.push(sharedEntry(contribution.name, { contributions: [contribution] }));
  const added = [
    ...unshared(plan.creates).map((c) => ownedEntry(c.entry, { cluster: plan.owner, service: c.service })),
    ...unshared(plan.updates).map((u) => ownedEntry(u.after, { cluster: plan.owner, service: u.service })),
  ];
  return { entries: [...entries, ...added] };
}

/** By nameKey: this cluster's contribution to each shared entry the plan changes (undefined: it leaves it). */
function sharedChanges(plan: RegistryPlan): Map<string, (Contribution & { name: string }) | undefined> {
  const next = new Map<string, (Contribution & { name: string }) | undefined>();
  const contribution = (service: string, entry: RegistryEntry) => ({
    name: entry.name,
    cluster: plan.owner,
    service,
    description: entry.description,
    endpoints: [...entry.endpoints],
  });
  for (const d of plan.deletes) if (d.shared) next.set(nameKey(d.entry.name), undefined);
  for (const u of plan.updates)
    if (u.shared) next.set(nameKey(u.after.name), contribution(u.service, u.after));
  for (const c of plan.creates)
    if (c.shared) next.set(nameKey(c.entry.name), contribution(c.service, c.entry));
  return next;
}

/** How many entries of the document are `owner`'s: its own, and its contributions to shared entries. */
export function ownedCount(current: RegistryDocument, owner: string): number {
  return current.entries.filter((e) => e.owner?.cluster === owner || contributionOf(e, owner) !== undefined)
    .length;
}

/** Share of this cluster's entries (its contributions to shared entries counted) that the plan deletes. */
export function deletionShare(current: RegistryDocument, plan: RegistryPlan): number {
  return shareOf(plan.deletes.length, ownedCount(current, plan.owner));
}
