// What a person may do with the entries a cluster manages, explicitly: take one over by hand (`registry adopt`), or
// remove everything of a decommissioned cluster (`registry purge`). The cluster's sync state is changed in the same
// transaction, so the cluster never repairs an entry a person took, and a purged cluster leaves nothing behind.
import {
  type Contribution,
  OWNER_FIELD,
  type Ownership,
  parseDocument,
  type RegistryDocument,
  type RegistryEntry,
  readerView,
  type StoredEntry,
} from './document.ts';
import {
  contributionOf,
  contributorsLabel,
  replaceContribution,
  restoredMarker,
  sharedEntry,
} from './shared.ts';
import type { SyncState } from './sync-state.ts';

/** One cluster's sync state, as found beside the document. */
export interface ClusterState {
  readonly cluster: string;
  readonly state: SyncState;
}

export class HandoverError extends Error {
  override readonly name = 'HandoverError';
}

/** Who manages an entry that is not shared: the cluster its marker names, or a cluster whose state owns its name. */
export function managerOf(entry: StoredEntry, states: readonly ClusterState[]): Ownership | undefined {
  if (entry.owner) return entry.owner;
  if (entry.shared) return undefined;
  for (const { cluster, state } of states) {
    const owned = state.owned?.[entry.name];
    if (owned && !owned.contribution) return { cluster, service: owned.service };
  }
  return undefined;
}

/** The contributions the clusters' states record to a shared entry called `name`. */
function recordedContributions(name: string, states: readonly ClusterState[]): Contribution[] {
  return states.flatMap(({ cluster, state }) => {
    const owned = state.owned?.[name];
    return owned?.contribution ? [{ cluster, service: owned.service, ...owned.contribution }] : [];
  });
}

/**
 * The document with every entry a cluster's state owns shown as that cluster's, marker or not, and every shared
 * entry whose marker was dropped shown with the contributions the states record.
 */
export function withManagers(document: RegistryDocument, states: readonly ClusterState[]): RegistryDocument {
  if (states.length === 0) return document;
  return {
    entries: document.entries.map((e) => {
      if (e.owner || e.shared) return e;
      const [first, ...others] = recordedContributions(e.name, states);
      if (first) {
        const marker = others.reduce(
          (m, c) => replaceContribution(m, c.cluster, c) ?? m,
          restoredMarker(readerView(e), first),
        );
        return { ...e, shared: marker };
      }
      const manager = managerOf(e, states);
      return manager ? { ...e, owner: manager } : e;
    }),
  };
}

export interface Adoption {
  readonly document: RegistryDocument;
  /** The cluster that managed the entry, and its state without the entry. */
  readonly cluster: string;
  readonly service: string;
  readonly state?: SyncState;
}

/**
 * The entry `name` made hand-made: what readers see stays byte for byte the same (only the marker goes), and the
 * managing cluster's state no longer owns it, so that cluster reports a conflict instead of repairing it.
 */
export function adoptEntry(
  document: RegistryDocument,
  states: readonly ClusterState[],
  name: string,
): Adoption {
  const entry = document.entries.find((e) => e.name === name);
  if (!entry) throw new HandoverError(`there is no entry "${name}" in the registry`);
  if (entry.shared) {
    throw new HandoverError(
      `"${name}" is shared by ${contributorsLabel(entry.shared)}; it cannot be taken over by hand while clusters ` +
        'publish it: remove it from each cluster (or `registry purge --cluster-id`) first',
    );
  }
  const manager = managerOf(entry, states);
  if (!manager) throw new HandoverError(`"${name}" is already hand-made; nothing to adopt`);
  const { [OWNER_FIELD]: _marker, ...rest } = entry.value;
  const adopted: StoredEntry = entry.owner
    ? // Re-parsed so the entry keeps the text it is written with from now on.
      (parseDocument(`[${JSON.stringify(rest)}]`).entries[0] as StoredEntry)
    : entry;
  const holder = states.find((s) => s.cluster === manager.cluster);
  const owned = { ...(holder?.state.owned ?? {}) };
  delete owned[name];
  return {
    document: { entries: document.entries.map((e) => (e === entry ? adopted : e)) },
    cluster: manager.cluster,
    service: manager.service,
    ...(holder ? { state: { ...holder.state, owned } } : {}),
  };
}

export interface Purge {
  readonly document: RegistryDocument;
  readonly removed: readonly RegistryEntry[];
}

/**
 * The document without any entry of `cluster`: those its marker names, and those its state owns; of a shared entry,
 * only the cluster's contribution goes (the entry goes with the last one). `removed` lists what readers lose: the
 * cluster's entries, and its contributions as entries of their own.
 */
export function purgeCluster(
  document: RegistryDocument,
  cluster: string,
  state: SyncState | undefined,
): Purge {
  const owned = state?.owned ?? {};
  const entries: StoredEntry[] = [];
  const removed: RegistryEntry[] = [];
  for (const e of document.entries) {
    const recorded = owned[e.name];
    const contribution =
      contributionOf(e, cluster) ??
      (recorded?.contribution && !e.owner
        ? { cluster, service: recorded.service, ...recorded.contribution }
        : undefined);
    if (contribution) {
      removed.push({
        name: e.name,
        description: contribution.description,
        endpoints: contribution.endpoints,
      });
      const marker = replaceContribution(
        e.shared ?? restoredMarker(readerView(e), contribution),
        cluster,
        undefined,
      );
      if (marker) entries.push(sharedEntry(e.name, marker));
    } else if (e.owner ? e.owner.cluster === cluster : recorded !== undefined && !e.shared) {
      removed.push(readerView(e));
    } else entries.push(e);
  }
  return { document: { entries }, removed };
}

/**
 * The state without the memory of having removed `name`: a person who registers that name by hand takes it, so an
 * entry of that name is no longer taken for an old copy of the cluster's.
 */
export function forgetReleased(state: SyncState, name: string): SyncState {
  if (!state.released?.[name]) return state;
  const { [name]: _gone, ...released } = state.released;
  return { ...state, released };
}
