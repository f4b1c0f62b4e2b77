// Shared entries: one name that several clusters publish together (a Service moving from one cluster to another,
// or running in two regions). Readers see one entry whose endpoints are the union of every cluster's contribution;
// the marker records each contribution, so that a cluster changes, and removes, only its own. Pure, like the plan.
//
// The marker of a shared entry has no `cluster` of its own, so a kube-zk-sync that predates sharing reads a shared
// entry as hand-made: it never changes it, and reports its Service as a conflict.
import {
  type Contribution,
  compareText,
  OWNER_FIELD,
  type RegistryEntry,
  type SharedMarker,
  type StoredEntry,
} from './document.ts';

const union = (...lists: ReadonlyArray<readonly string[]>): string[] =>
  [...new Set(lists.flat())].sort(compareText);

/**
 * What readers see of a shared entry: the endpoints of every contribution (and the unattributed ones), sorted,
 * without duplicates; the description of the contribution whose cluster id sorts first, so that it does not depend
 * on who wrote last and changes only when that cluster leaves or changes its own.
 */
export function sharedView(name: string, marker: SharedMarker): RegistryEntry {
  return {
    name,
    description: marker.contributions[0]?.description ?? '',
    endpoints: union(...marker.contributions.map((c) => c.endpoints), marker.unattributed ?? []),
  };
}

/** The stored form of a shared entry: reader fields first, then the marker. */
export function sharedEntry(name: string, marker: SharedMarker): StoredEntry {
  const view = sharedView(name, marker);
  return {
    name,
    shared: marker,
    value: {
      name,
      description: view.description,
      endpoints: view.endpoints,
      [OWNER_FIELD]: {
        shared: marker.contributions.map((c) => ({
          cluster: c.cluster,
          service: c.service,
          description: c.description,
          endpoints: [...c.endpoints],
        })),
        ...(marker.unattributed && marker.unattributed.length > 0
          ? { unattributed: [...marker.unattributed] }
          : {}),
      },
    },
  };
}

/** `cluster`'s contribution to a shared entry, if any. */
export const contributionOf = (entry: StoredEntry, cluster: string): Contribution | undefined =>
  entry.shared?.contributions.find((c) => c.cluster === cluster);

/** The Service of `cluster` behind an entry: the one whose entry it is, or whose contribution it holds. */
export const serviceBehind = (entry: StoredEntry, cluster: string): string | undefined =>
  entry.owner?.cluster === cluster ? entry.owner.service : contributionOf(entry, cluster)?.service;

/** A contribution as an entry of its own: what the plan compares and what a cluster's budget counts. */
export const contributionView = (name: string, c: Contribution): RegistryEntry => ({
  name,
  description: c.description,
  endpoints: c.endpoints,
});

/**
 * The marker with `cluster`'s contribution replaced by `next` (or removed when undefined). The endpoints the cluster
 * contributed before leave the unattributed ones too: they were its own. Undefined when nothing is left.
 */
export function replaceContribution(
  marker: SharedMarker | undefined,
  cluster: string,
  next: Contribution | undefined,
): SharedMarker | undefined {
  const before = marker?.contributions.find((c) => c.cluster === cluster);
  const others = (marker?.contributions ?? []).filter((c) => c.cluster !== cluster);
  const contributions = [...others, ...(next ? [next] : [])].sort((a, b) =>
    compareText(a.cluster, b.cluster),
  );
  const mine = new Set([...(before?.endpoints ?? []), ...(next?.endpoints ?? [])]);
  const unattributed = (marker?.unattributed ?? []).filter((e) => !mine.has(e));
  // Unattributed endpoints keep the entry: their cluster still serves them, and takes them back on its next write.
  if (contributions.length === 0 && unattributed.length === 0) return undefined;
  return { contributions, ...(unattributed.length > 0 ? { unattributed } : {}) };
}

/**
 * The marker of a shared entry that lost it (a writer that drops unknown fields): `contribution` as the cluster's
 * state recorded it, and the entry's other endpoints unattributed until their clusters write theirs back.
 */
export function restoredMarker(view: RegistryEntry, contribution: Contribution): SharedMarker {
  const mine = new Set(contribution.endpoints);
  const unattributed = view.endpoints.filter((e) => !mine.has(e));
  return { contributions: [contribution], ...(unattributed.length > 0 ? { unattributed } : {}) };
}

/** `cluster:service` of each contributor, for people. */
export const contributorsLabel = (marker: SharedMarker): string =>
  marker.contributions.map((c) => `${c.cluster}:${c.service}`).join(',');
