// Planning: what to change in the document so that the entries of one cluster match what it wants, without ever
// touching an entry that is not that cluster's. Pure: the same inputs always give the same plan.

import { deletionShare as shareOf } from '../util/deletion-guard.ts';
import {
  type Ownership,
  ownedEntry,
  type RegistryDocument,
  type RegistryEntry,
  readerView,
  type StoredEntry,
} from './document.ts';

/** `sync` creates, updates and deletes; `upsert-only` never deletes; `create-only` only creates. */
export type Policy = 'sync' | 'upsert-only' | 'create-only';
export const POLICIES: readonly Policy[] = ['sync', 'upsert-only', 'create-only'];

/**
 * What the cluster wants, per Service key in scope: an entry, or null for "no entry" (the Service is gone or not
 * published). Keys that are not in the map are out of scope: their entries are left as they are.
 */
export type DesiredEntries = ReadonlyMap<string, RegistryEntry | null>;

export interface Conflict {
  readonly service: string;
  readonly name: string;
  /** Who holds the name: a hand-made entry, another cluster, or another Service of this cluster. */
  readonly heldBy: string;
}

export interface RegistryPlan {
  readonly owner: string;
  readonly creates: ReadonlyArray<{ readonly service: string; readonly entry: RegistryEntry }>;
  readonly updates: ReadonlyArray<{
    readonly service: string;
    readonly before: RegistryEntry;
    readonly after: RegistryEntry;
  }>;
  readonly deletes: ReadonlyArray<{ readonly service: string; readonly entry: RegistryEntry }>;
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

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Names are one name whatever their case: readers look `Kafka` and `kafka` up alike, so one cannot shadow the
 * other, and two Services asking for `A` and `a` ask for the same name.
 */
export const nameKey = (name: string): string => name.toLowerCase();

function holderLabel(entry: StoredEntry, owner: string): string {
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
  const held = new Map<string, StoredEntry[]>(); // this cluster's entries in scope, by Service key
  // Names that stay taken whatever this plan does: other people's entries, this cluster's entries out of scope,
  // and, when the policy keeps them, this cluster's entries in scope.
  // Keyed by nameKey.
  const reserved = new Map<string, { label: string; service?: string }>();
  for (const entry of current.entries) {
    const key = nameKey(entry.name);
    if (mine(entry) && desired.has(entry.owner.service)) {
      held.set(entry.owner.service, [...(held.get(entry.owner.service) ?? []), entry]);
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

  const winners = new Map<string, RegistryEntry>(); // service → the entry it gets
  const conflicts: Conflict[] = [];
  for (const [key, claimants] of [...claims].sort(([a], [b]) => compare(a, b))) {
    claimants.sort(compare);
    const holder = reserved.get(key);
    const currentHolder = claimants.find((s) => held.get(s)?.some((e) => nameKey(e.name) === key));
    const winner = holder ? claimants.find((s) => s === holder.service) : (currentHolder ?? claimants[0]);
    for (const service of claimants) {
      const entry = desired.get(service) as RegistryEntry;
      if (service === winner) winners.set(service, entry);
      else conflicts.push({ service, name: entry.name, heldBy: holder?.label ?? `Service ${winner}` });
    }
  }

  const creates: Array<{ service: string; entry: RegistryEntry }> = [];
  const updates: Array<{ service: string; before: RegistryEntry; after: RegistryEntry }> = [];
  const deletes: Array<{ service: string; entry: RegistryEntry }> = [];
  let unchanged = 0;
  for (const service of [...desired.keys()].sort(compare)) {
    const want = winners.get(service);
    const have = held.get(service) ?? [];
    // The entry it keeps: one of the same name, or failing that of the same name in another case (renamed to it).
    const same =
      want &&
      (have.find((e) => e.name === want.name) ?? have.find((e) => nameKey(e.name) === nameKey(want.name)));
    if (want && same) {
      const before = readerView(same);
      if (sameEntry(before, want)) unchanged++;
      else if (policy === 'create-only') unchanged++;
      else updates.push({ service, before, after: want });
    } else if (want) {
      creates.push({ service, entry: want });
    }
    if (policy !== 'sync') continue;
    for (const entry of have) if (entry !== same) deletes.push({ service, entry: readerView(entry) });
  }
  return { owner, creates, updates, deletes, conflicts, unchanged };
}

/** The document after the plan: this cluster's changed entries replaced, every other entry kept as it was. */
export function applyPlan(current: RegistryDocument, plan: RegistryPlan): RegistryDocument {
  const gone = new Set(
    [...plan.deletes, ...plan.updates.map((u) => ({ service: u.service, entry: u.before }))].map(
      (c) => `${c.service}\u0000${c.entry.name}`,
    ),
  );
  const kept = current.entries.filter(
    (e) => !(e.owner?.cluster === plan.owner && gone.has(`${e.owner.service}\u0000${e.name}`)),
  );
  const added = [
    ...plan.creates.map((c) => ownedEntry(c.entry, { cluster: plan.owner, service: c.service })),
    ...plan.updates.map((u) => ownedEntry(u.after, { cluster: plan.owner, service: u.service })),
  ];
  return { entries: [...kept, ...added] };
}

/** Share of this cluster's entries that the plan deletes (0 when it has none). */
export function deletionShare(current: RegistryDocument, plan: RegistryPlan): number {
  return shareOf(plan.deletes.length, current.entries.filter((e) => e.owner?.cluster === plan.owner).length);
}
