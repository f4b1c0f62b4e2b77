// The edits people make by hand (the CLI's `register` and `deregister`), as pure functions of the document: the next
// document, or a refusal that says why. An entry that a cluster manages is not edited unless forced, because the
// cluster's next sync would undo the edit.
import {
  entryNamed,
  handEntry,
  OWNER_FIELD,
  type Ownership,
  type RegistryDocument,
  type RegistryEntry,
  readerView,
  type StoredEntry,
} from './document.ts';
import { contributorsLabel } from './shared.ts';
import { InvalidEntryError, validEntry } from './validate.ts';

export interface RegisterRequest {
  readonly name: string;
  readonly endpoints: readonly string[];
  /** When omitted, an update keeps the entry's description and a new entry has none. */
  readonly description?: string | undefined;
  /** Take over an entry that a cluster manages: it becomes hand-made. */
  readonly force?: boolean | undefined;
}

export interface DeregisterRequest {
  readonly name: string;
  /** Remove an entry that a cluster manages (its next sync brings it back if the Service still exists). */
  readonly force?: boolean | undefined;
}

export type HandEditRefusal =
  /** `register` without force: a cluster publishes an entry of that name. */
  | { readonly reason: 'taken-by-cluster'; readonly owner: Ownership; readonly message: string }
  /** `deregister` without force: the entry is a cluster's, not hand-made. */
  | { readonly reason: 'not-hand-made'; readonly owner: Ownership; readonly message: string }
  | { readonly reason: 'not-found'; readonly message: string }
  /** `register` of a shared entry: clusters publish it together, nobody takes it over by hand. */
  | { readonly reason: 'shared'; readonly message: string }
  /** The entry asked for breaks the document's rules (lib/registry/validate.ts). */
  | { readonly reason: 'invalid'; readonly message: string };

export type HandEdit =
  | { readonly outcome: 'created' | 'updated' | 'removed'; readonly document: RegistryDocument }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'refused'; readonly refusal: HandEditRefusal };

/** A refusal to touch an entry a cluster manages: its next sync would undo the edit. */
const refusedAsManaged = (
  reason: 'taken-by-cluster' | 'not-hand-made',
  verb: string,
  entry: StoredEntry,
  owner: Ownership,
): HandEdit => ({
  outcome: 'refused',
  refusal: {
    reason,
    owner,
    message:
      `refusing to ${verb} "${entry.name}": it is managed by cluster "${owner.cluster}" (Service ${owner.service}) ` +
      'and the next sync would undo it',
  },
});

/** Adds a hand-made entry, or updates one; an update keeps the fields people added to the entry. */
export function registerByHand(doc: RegistryDocument, request: RegisterRequest): HandEdit {
  const existing = entryNamed(doc, request.name);
  if (existing?.shared) {
    const message =
      `refusing to overwrite "${existing.name}": it is shared by ${contributorsLabel(existing.shared)}, ` +
      'whose next syncs would undo it';
    return { outcome: 'refused', refusal: { reason: 'shared', message } };
  }
  if (existing?.owner && !request.force)
    return refusedAsManaged('taken-by-cluster', 'overwrite', existing, existing.owner);
  let wanted: RegistryEntry;
  try {
    wanted = validEntry({
      name: request.name,
      description: request.description ?? (existing ? readerView(existing).description : ''),
      endpoints: request.endpoints,
    });
  } catch (error) {
    if (!(error instanceof InvalidEntryError)) throw error;
    return { outcome: 'refused', refusal: { reason: 'invalid', message: error.message } };
  }
  if (!existing) return { outcome: 'created', document: { entries: [...doc.entries, handEntry(wanted)] } };
  if (!existing.owner && JSON.stringify(readerView(existing)) === JSON.stringify(wanted))
    return { outcome: 'unchanged' };
  // Only a cluster's marker is dropped: whatever else people put in the entry stays.
  const { [OWNER_FIELD]: _marker, ...kept } = existing.value;
  const updated: StoredEntry = {
    name: wanted.name,
    value: { ...kept, ...wanted, endpoints: [...wanted.endpoints] },
  };
  return {
    outcome: 'updated',
    document: { entries: doc.entries.map((e) => (e === existing ? updated : e)) },
  };
}

/** Removes a hand-made entry. */
export function deregisterByHand(doc: RegistryDocument, request: DeregisterRequest): HandEdit {
  const existing = entryNamed(doc, request.name);
  if (!existing)
    return {
      outcome: 'refused',
      refusal: { reason: 'not-found', message: `no entry named "${request.name}"` },
    };
  if (existing.owner && !request.force)
    return refusedAsManaged('not-hand-made', 'remove', existing, existing.owner);
  if (existing.shared && !request.force) {
    const message =
      `refusing to remove "${existing.name}": it is shared by ${contributorsLabel(existing.shared)} ` +
      'and their next syncs would bring it back';
    return { outcome: 'refused', refusal: { reason: 'shared', message } };
  }
  return { outcome: 'removed', document: { entries: doc.entries.filter((e) => e !== existing) } };
}
