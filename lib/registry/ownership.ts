// Who owns an entry, when the document's other writers may have dropped the marker, and what they did to the
// entries this cluster wrote. Legacy services read the document into a three-field struct and write it back
// (the marker is gone), scripts write whole documents without a version (the cluster's recent changes are undone),
// people edit entries by hand. The cluster's sync state remembers what it wrote, so none of that takes an entry
// away from it: an entry is the cluster's when its marker says so, or when the state owns its name.
import {
  OWNER_FIELD,
  type Ownership,
  ownedEntry,
  type RegistryDocument,
  readerView,
  type StoredEntry,
} from './document.ts';
import {
  contributionOf,
  contributionView,
  replaceContribution,
  restoredMarker,
  sharedEntry,
} from './shared.ts';
import {
  fingerprint,
  type OwnedEntry,
  PREVIOUS_FINGERPRINTS,
  RELEASED_TTL_MS,
  type ReleasedEntry,
  type SyncState,
  wroteVersion,
} from './sync-state.ts';

/**
 * - `vanished`: the state says the cluster wrote it, the document no longer has it (a blind overwrite);
 * - `unmarked`: it is there as written, but its marker is gone (a round-trip through the three-field struct);
 * - `edited`: its reader fields are not what the cluster wrote (a hand edit, or an older copy written back);
 * - `unexpected`: the state does not own it, but it carries this cluster's marker, or it is a version the cluster
 *   wrote of an entry it removed recently (an older copy of the document written back, bringing back an entry the
 *   cluster has since removed or renamed).
 */
export type DamageKind = 'vanished' | 'unmarked' | 'edited' | 'unexpected';

export interface Damage {
  readonly kind: DamageKind;
  readonly name: string;
  /** The Service the entry belongs to. */
  readonly service: string;
  /**
   * Set for the cluster's contribution to a shared entry. Its state knows the contribution, so damage to an entry
   * that is still there (a lost marker, an edit) is repaired by any write of the cluster.
   */
  readonly shared?: true;
}

export interface Inspection {
  /** The document with this cluster's ownership attached to its entries, marker or not. */
  readonly document: RegistryDocument;
  readonly damage: readonly Damage[];
}

const hasOwnMarker = (entry: StoredEntry, owner: string): boolean => {
  const marker = entry.value[OWNER_FIELD] as { cluster?: unknown; service?: unknown } | undefined;
  return marker?.cluster === owner && marker?.service === entry.owner?.service;
};

/**
 * Attaches ownership from the state to the entries whose marker is gone, and lists the damage. An entry that
 * another cluster's marker claims stays theirs. When the state does not know what the cluster owns (a state from
 * before ownership was recorded, or rebuilt), the markers alone decide, as they always did.
 */
export function inspectDocument(
  document: RegistryDocument,
  state: SyncState,
  owner: string,
  now: number,
): Inspection {
  const owned = state.owned;
  if (!owned) return { document, damage: [] };
  const damage: Damage[] = [];
  const present = new Set<string>();
  const entries = document.entries.map((entry): StoredEntry => {
    const record = owned[entry.name];
    present.add(entry.name);
    if (entry.owner && entry.owner.cluster !== owner) return entry;
    if (record?.contribution) {
      const repaired = inspectContribution(entry, record, owner);
      if (repaired.damage) damage.push(repaired.damage);
      return repaired.entry;
    }
    if (entry.shared) {
      // Its marker names this cluster, but the state does not know it: an old copy written back, as below.
      const mine = contributionOf(entry, owner);
      if (mine) damage.push({ kind: 'unexpected', name: entry.name, service: mine.service, shared: true });
      return entry;
    }
    if (!record) {
      if (entry.owner) {
        damage.push({ kind: 'unexpected', name: entry.name, service: entry.owner.service });
        return entry;
      }
      // An entry the cluster removed, written back from an old copy without its marker: still the cluster's, when
      // it is one of the last versions the cluster wrote (an entry of that name with other content is someone
      // else's: a person's, a service's that appends itself, another cluster's whose marker was dropped).
      const gone = state.released?.[entry.name];
      if (!gone || now - gone.at > RELEASED_TTL_MS || !wroteVersion(gone, fingerprint(readerView(entry))))
        return entry;
      damage.push({ kind: 'unexpected', name: entry.name, service: gone.service });
      return { ...entry, owner: { cluster: owner, service: gone.service } };
    }
    const changed = fingerprint(readerView(entry)) !== record.fingerprint;
    if (changed) damage.push({ kind: 'edited', name: entry.name, service: record.service });
    else if (!entry.owner) damage.push({ kind: 'unmarked', name: entry.name, service: record.service });
    return entry.owner ? entry : { ...entry, owner: { cluster: owner, service: record.service } };
  });
  for (const [name, record] of Object.entries(owned)) {
    if (!present.has(name))
      damage.push({
        kind: 'vanished',
        name,
        service: record.service,
        ...(record.contribution ? { shared: true as const } : {}),
      });
  }
  return { document: { entries }, damage };
}

/**
 * A shared entry the state says the cluster contributes to, with that contribution as the state records it: a lost
 * marker is rebuilt (the other endpoints kept, unattributed, until their clusters write theirs back), a changed
 * contribution is put back, and readers' fields that do not match the marker are written again from it.
 */
function inspectContribution(
  entry: StoredEntry,
  record: OwnedEntry,
  owner: string,
): { entry: StoredEntry; damage?: Damage } {
  const part = record.contribution as NonNullable<OwnedEntry['contribution']>;
  const contribution = { cluster: owner, service: record.service, ...part };
  const at = { name: entry.name, service: record.service, shared: true as const };
  if (!entry.shared) {
    const marker = restoredMarker(readerView(entry), contribution);
    return { entry: { ...entry, shared: marker }, damage: { kind: 'unmarked', ...at } };
  }
  const found = contributionOf(entry, owner);
  const marker =
    found && fingerprint(contributionView(entry.name, found)) === record.fingerprint
      ? entry.shared
      : (replaceContribution(entry.shared, owner, contribution) as NonNullable<StoredEntry['shared']>);
  const edited = marker !== entry.shared || !renderedAsMarked(entry);
  return { entry: { ...entry, shared: marker }, ...(edited ? { damage: { kind: 'edited', ...at } } : {}) };
}

/** Whether a shared entry is stored exactly as its marker renders it (readers' fields included). */
const renderedAsMarked = (entry: StoredEntry): boolean =>
  entry.shared !== undefined &&
  JSON.stringify(entry.value) === JSON.stringify(sharedEntry(entry.name, entry.shared).value);

/**
 * The document with the marker written back on every entry of `owner` that lacks it (the reader fields kept), and
 * every shared entry it contributes to written as its marker says.
 */
export function restoreMarkers(
  document: RegistryDocument,
  owner: string,
): { document: RegistryDocument; restored: number } {
  let restored = 0;
  const entries = document.entries.map((entry) => {
    if (entry.shared && contributionOf(entry, owner)) {
      if (renderedAsMarked(entry)) return entry;
      restored++;
      return sharedEntry(entry.name, entry.shared);
    }
    if (entry.owner?.cluster !== owner || hasOwnMarker(entry, owner)) return entry;
    restored++;
    return ownedEntry(readerView(entry), entry.owner as Ownership);
  });
  return restored === 0 ? { document, restored } : { document: { entries }, restored };
}

/**
 * What the state owns after a step. The entries of Services this step decided (`decided`) are as the plan wants
 * them, so they are owned as they now are. Any other entry keeps the fingerprint the cluster last wrote, so damage
 * that is not yet repaired stays visible until it is; an entry the state did not know is owned as it is only when
 * the state knew nothing (`unexpected` entries wait for the reconcile). Vanished entries of undecided Services are
 * still owed to their Service and stay owned. What the cluster no longer owns is remembered as released for a
 * while, so that an old copy of it written back is recognised.
 */
/** The record of an entry now at `print`, remembering the versions it had before. */
function withVersion(record: OwnedEntry | undefined, service: string, print: string): OwnedEntry {
  const { contribution: _part, ...kept } = record ?? {};
  if (!record || record.fingerprint === print) return { ...kept, service, fingerprint: print };
  const previous = [record.fingerprint, ...(record.previous ?? [])]
    .filter((p) => p !== print)
    .slice(0, PREVIOUS_FINGERPRINTS);
  return { service, fingerprint: print, previous };
}

export function ownershipAfter(
  document: RegistryDocument,
  before: SyncState,
  owner: string,
  decided: ReadonlySet<string>,
  now: number,
): Pick<SyncState, 'owned' | 'released'> {
  const owned: Record<string, OwnedEntry> = {};
  const known = before.owned;
  for (const entry of document.entries) {
    const contribution = contributionOf(entry, owner);
    if (contribution) {
      // Its contribution is always as the step left it: repaired from the state, or as the plan wants it.
      const { cluster: _c, service, ...part } = contribution;
      const print = fingerprint(contributionView(entry.name, contribution));
      owned[entry.name] = { ...withVersion(known?.[entry.name], service, print), contribution: part };
      continue;
    }
    if (entry.owner?.cluster !== owner) continue;
    const service = entry.owner.service;
    const record = known?.[entry.name];
    if (decided.has(service) || !known) {
      owned[entry.name] = withVersion(record, service, fingerprint(readerView(entry)));
    } else if (record) owned[entry.name] = record;
  }
  const names = new Set(document.entries.map((e) => e.name));
  for (const [name, record] of Object.entries(known ?? {})) {
    if (!names.has(name) && !decided.has(record.service)) owned[name] = record;
  }
  const released: Record<string, ReleasedEntry> = {};
  for (const [name, r] of Object.entries(before.released ?? {}))
    if (!owned[name] && now - r.at <= RELEASED_TTL_MS) released[name] = r;
  for (const [name, record] of Object.entries(known ?? {}))
    if (!owned[name]) released[name] = { ...record, at: now };
  return { owned, released: Object.keys(released).length > 0 ? released : undefined };
}

/** One line for the log: what happened to which entry of which Service, and what was done. */
export function describeDamage(d: Damage, repaired: boolean): string {
  const what = {
    vanished: `entry "${d.name}" (Service ${d.service}) was removed by another writer`,
    unmarked: `entry "${d.name}" (Service ${d.service}) lost its ownership marker`,
    edited: `entry "${d.name}" (Service ${d.service}) was changed by another writer`,
    unexpected: `entry "${d.name}" (Service ${d.service}) was written back by another writer after the cluster removed it`,
  }[d.kind];
  if (!repaired) return `${what}; a reconcile repairs it`;
  return d.kind === 'edited'
    ? `reverted a hand edit of ${d.name} (Service ${d.service})`
    : `${what}; repaired`;
}

/** How many of the repairs reverted an edit of the reader fields (a hand edit, or an old copy written back). */
export const revertedEdits = (repaired: readonly Damage[]): number =>
  repaired.filter((d) => d.kind === 'edited').length;
