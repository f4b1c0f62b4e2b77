// How much of the document one namespace, and one cluster, may fill. The document has one size limit for everyone
// (ZooKeeper's), so without budgets the tenants of one namespace could fill it with large or many entries, and then
// nobody's registration fits, deletions included. A plan is cut to its budgets Service by Service: a Service whose
// change would go past a budget is refused alone and keeps what it has, and everything else goes ahead.
//
// Who wins must not depend on the order events arrive in, or a budget would flap: Services that already have an
// entry keep it (a budget lowered under what is published stops growth, it unpublishes nothing), then their
// growth is admitted in key order, then new Services in key order. Changes that do not grow a Service (deletions,
// smaller entries) are never refused. Pure, like the plan it cuts.
//
// A cluster's contribution to a shared entry counts as an entry of its own (its name, its description, its
// endpoints and a marker) plus its endpoints once more: what it adds to the shared entry is its endpoints in the
// union and its record in the marker (cluster, Service, description, endpoints), never more. So the clusters of one
// shared name never fill more of the document than their budgets together, and each is charged for its own part.
import {
  compareText,
  entryBytes,
  ownedEntry,
  type RegistryDocument,
  type RegistryEntry,
} from './document.ts';
import type { RegistryPlan } from './plan.ts';
import { contributionOf, contributionView } from './shared.ts';

export interface Budgets {
  /** Entries that the Services of one namespace may have in the document (NAMESPACE_MAX_ENTRIES). */
  readonly namespaceMaxEntries: number;
  /** Bytes that those entries may take (NAMESPACE_MAX_BYTES). */
  readonly namespaceMaxBytes: number;
  /** Bytes that all of this cluster's entries may take (CLUSTER_MAX_BYTES). */
  readonly clusterMaxBytes: number;
}

export interface BudgetRefusal {
  readonly service: string;
  /** Names the Service, the budget and its setting, and what the Service keeps. */
  readonly error: string;
}

export interface BudgetedPlan {
  readonly plan: RegistryPlan;
  readonly refused: readonly BudgetRefusal[];
}

interface Usage {
  entries: number;
  bytes: number;
}

/** A Service's change: how many entries and bytes it adds (negative when it shrinks), and whether it had any. */
interface Change {
  readonly service: string;
  readonly entries: number;
  readonly bytes: number;
  readonly published: boolean;
}

const namespaceOf = (service: string): string => service.slice(0, service.indexOf('/'));

/** The plan without the changes that go past a budget, and a refusal for each Service whose changes were cut. */
export function applyBudgets(current: RegistryDocument, plan: RegistryPlan, budgets: Budgets): BudgetedPlan {
  const { owner } = plan;
  const namespaces = new Map<string, Usage>();
  const cluster = { bytes: 0 };
  const had = new Map<string, Map<string, number>>(); // service → entry name → bytes, as the document holds them
  for (const entry of current.entries) {
    const contribution = contributionOf(entry, owner);
    const held = contribution ?? (entry.owner?.cluster === owner ? entry.owner : undefined);
    if (!held) continue;
    const bytes = contribution
      ? contributionBytes(contributionView(entry.name, contribution), owner, held.service)
      : entryBytes(entry);
    const usage = namespaces.get(namespaceOf(held.service)) ?? { entries: 0, bytes: 0 };
    namespaces.set(namespaceOf(held.service), usage);
    usage.entries++;
    usage.bytes += bytes;
    cluster.bytes += bytes;
    const names = had.get(held.service) ?? new Map<string, number>();
    had.set(held.service, names);
    names.set(entry.name, bytes);
  }

  const changes = new Map<string, { entries: number; bytes: number }>();
  const change = (service: string, entries: number, bytes: number) => {
    const sum = changes.get(service) ?? { entries: 0, bytes: 0 };
    changes.set(service, { entries: sum.entries + entries, bytes: sum.bytes + bytes });
  };
  const added = (service: string, entry: RegistryEntry, shared?: true) =>
    shared
      ? contributionBytes(entry, owner, service)
      : entryBytes(ownedEntry(entry, { cluster: owner, service }));
  const removed = (service: string, name: string) => had.get(service)?.get(name) ?? 0;
  for (const c of plan.creates) change(c.service, 1, added(c.service, c.entry, c.shared));
  for (const u of plan.updates)
    change(u.service, 0, added(u.service, u.after, u.shared) - removed(u.service, u.before.name));
  for (const d of plan.deletes) change(d.service, -1, -removed(d.service, d.entry.name));

  const all: Change[] = [...changes].map(([service, c]) => ({
    service,
    ...c,
    published: (had.get(service)?.size ?? 0) > 0,
  }));
  const use = (c: Change) => {
    const usage = namespaces.get(namespaceOf(c.service)) ?? { entries: 0, bytes: 0 };
    namespaces.set(namespaceOf(c.service), usage);
    usage.entries += c.entries;
    usage.bytes += c.bytes;
    cluster.bytes += c.bytes;
  };
  // What frees room is counted first, so that a Service that shrinks makes room for one that grows.
  const grows = (c: Change) => c.entries > 0 || c.bytes > 0;
  for (const c of all) if (!grows(c)) use(c);
  const growing = all.filter(grows);
  growing.sort((a, b) => Number(b.published) - Number(a.published) || compareText(a.service, b.service));

  const refused: BudgetRefusal[] = [];
  for (const c of growing) {
    const namespace = namespaceOf(c.service);
    const usage = namespaces.get(namespace) ?? { entries: 0, bytes: 0 };
    const over = overBudget(c, namespace, usage, cluster, owner, budgets);
    if (over === undefined) use(c);
    else {
      const keeps = c.published ? 'it keeps the entry it has' : 'it is not published';
      refused.push({ service: c.service, error: `Service ${c.service}: ${over}; ${keeps}` });
    }
  }
  if (refused.length === 0) return { plan, refused };
  const cut = new Set(refused.map((r) => r.service));
  const kept = <C extends { readonly service: string }>(changes: readonly C[]) =>
    changes.filter((c) => !cut.has(c.service));
  return {
    plan: {
      ...plan,
      creates: kept(plan.creates),
      updates: kept(plan.updates),
      deletes: kept(plan.deletes),
    },
    refused,
  };
}

/** What a contribution to a shared entry is charged: an entry of its own, and its endpoints once more. */
const contributionBytes = (entry: RegistryEntry, owner: string, service: string): number =>
  entryBytes(ownedEntry(entry, { cluster: owner, service })) +
  Buffer.byteLength(JSON.stringify(entry.endpoints));

/** Which budget the change would go past, as a sentence naming it and its setting; undefined when it fits. */
function overBudget(
  c: Change,
  namespace: string,
  usage: Usage,
  cluster: { readonly bytes: number },
  owner: string,
  budgets: Budgets,
): string | undefined {
  if (c.entries > 0 && usage.entries + c.entries > budgets.namespaceMaxEntries) {
    return (
      `over namespace ${namespace}'s budget: its Services have ${usage.entries} entries, and ` +
      `NAMESPACE_MAX_ENTRIES is ${budgets.namespaceMaxEntries}`
    );
  }
  if (usage.bytes + c.bytes > budgets.namespaceMaxBytes) {
    return (
      `over namespace ${namespace}'s budget: its entry would bring the namespace's entries to ` +
      `${usage.bytes + c.bytes} bytes, more than NAMESPACE_MAX_BYTES (${budgets.namespaceMaxBytes})`
    );
  }
  if (cluster.bytes + c.bytes > budgets.clusterMaxBytes) {
    return (
      `over cluster ${owner}'s budget: its entry would bring the cluster's entries to ` +
      `${cluster.bytes + c.bytes} bytes, more than CLUSTER_MAX_BYTES (${budgets.clusterMaxBytes})`
    );
  }
  return undefined;
}
