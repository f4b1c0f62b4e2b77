// What changed between two versions of the document, as a reader sees it: the names that appeared, changed and
// went away. The terminal views (`dev`, `registry watch`) print it so that a change is named, not only counted.
import { byName, type RegistryDocument, readerView, type StoredEntry } from './document.ts';

export interface EntryChange {
  readonly kind: '+' | '~' | '-';
  readonly name: string;
  /** The endpoints after the change (before it, for a removal). */
  readonly endpoints: readonly string[];
}

/** Changes from `before` to `after`, sorted by name. A duplicated name counts by its first entry, as readers do. */
export function documentChanges(before: RegistryDocument, after: RegistryDocument): EntryChange[] {
  const old = firstByName(before.entries);
  const next = firstByName(after.entries);
  const changes: EntryChange[] = [];
  for (const [name, entry] of next) {
    const previous = old.get(name);
    const view = readerView(entry);
    if (!previous) changes.push({ kind: '+', name, endpoints: view.endpoints });
    else if (JSON.stringify(readerView(previous)) !== JSON.stringify(view))
      changes.push({ kind: '~', name, endpoints: view.endpoints });
  }
  for (const [name, entry] of old)
    if (!next.has(name)) changes.push({ kind: '-', name, endpoints: readerView(entry).endpoints });
  return changes.sort(byName);
}

/** `+ name  endpoint,endpoint` — one line of a change. */
export function describeChange({ kind, name, endpoints }: EntryChange): string {
  return `${kind} ${name}  ${endpoints.join(',') || '-'}`;
}

function firstByName(entries: readonly StoredEntry[]): Map<string, StoredEntry> {
  const map = new Map<string, StoredEntry>();
  for (const entry of entries) if (!map.has(entry.name)) map.set(entry.name, entry);
  return map;
}
