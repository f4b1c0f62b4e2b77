// The registry document: one JSON array of {name, description, endpoints}, sorted by name. Entries that a cluster
// manages carry an ownership marker in an extra field (readers ignore extra fields). Every other entry belongs to
// people: it is kept exactly as written, byte for byte, through every write.

/** What every reader of the document sees. */
export interface RegistryEntry {
  readonly name: string;
  readonly description: string;
  readonly endpoints: readonly string[];
}

/** The marker field on entries that a cluster manages; its absence means "registered by hand". */
export const OWNER_FIELD = 'kube-zk-sync';

export interface Ownership {
  /** The cluster id that manages the entry. */
  readonly cluster: string;
  /** `namespace/name` of the Service the entry comes from. */
  readonly service: string;
}

/** What one cluster puts into a shared entry. */
export interface Contribution {
  readonly cluster: string;
  /** `namespace/name` of the Service it comes from. */
  readonly service: string;
  readonly description: string;
  readonly endpoints: readonly string[];
}

/**
 * The marker of a shared entry: the contributions, sorted by cluster, and the endpoints the entry holds that no
 * contribution names (kept after a writer dropped the marker, until their cluster writes its contribution back).
 */
export interface SharedMarker {
  readonly contributions: readonly Contribution[];
  readonly unattributed?: readonly string[];
}

/** Code-unit order, not the locale's: every sorted list the document, the state and the plan keep uses it. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** The shared marker (lib/registry/shared.ts) in a marker field's value, or undefined when it is not one. */
function readSharedMarker(marker: unknown): SharedMarker | undefined {
  if (typeof marker !== 'object' || marker === null) return undefined;
  const { shared, unattributed } = marker as Record<string, unknown>;
  if (!Array.isArray(shared)) return undefined;
  const contributions: Contribution[] = [];
  for (const c of shared) {
    if (typeof c !== 'object' || c === null) return undefined;
    const { cluster, service, description, endpoints } = c as Record<string, unknown>;
    if (typeof cluster !== 'string' || typeof service !== 'string' || !strings(endpoints)) return undefined;
    contributions.push({
      cluster,
      service,
      description: typeof description === 'string' ? description : '',
      endpoints,
    });
  }
  return {
    contributions: contributions.sort((a, b) => compareText(a.cluster, b.cluster)),
    ...(strings(unattributed) && unattributed.length > 0 ? { unattributed } : {}),
  };
}

/** One element of the document as stored. `text` is its original JSON text when it was read from a document. */
export interface StoredEntry {
  readonly name: string;
  readonly owner?: Ownership;
  /** Set on an entry that several clusters may publish together (lib/registry/shared.ts): no `owner` then. */
  readonly shared?: SharedMarker;
  /** The parsed element: the three reader fields plus anything else it carries. */
  readonly value: Readonly<Record<string, unknown>>;
  readonly text?: string;
}

export interface RegistryDocument {
  readonly entries: readonly StoredEntry[];
}

export class DocumentError extends Error {
  override readonly name = 'DocumentError';
}

export const emptyDocument: RegistryDocument = { entries: [] };

/**
 * Parses a document. Anything but a JSON array of objects with a string `name` is refused with an error that says
 * what is wrong and where, so that a corrupt document is never overwritten. An empty znode is an empty registry.
 */
export function parseDocument(input: string | Buffer): RegistryDocument {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.trim() === '') return emptyDocument;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DocumentError(`the registry document is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : typeof parsed === 'object' ? 'an object' : `a ${typeof parsed}`;
    throw new DocumentError(`the registry document must be a JSON array of services, but it is ${kind}`);
  }
  const spans = elementSpans(text);
  return {
    entries: parsed.map((value: unknown, index) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new DocumentError(`element ${index} of the registry document is not an object`);
      }
      const record = value as Record<string, unknown>;
      if (typeof record.name !== 'string') {
        throw new DocumentError(`element ${index} of the registry document has no string "name"`);
      }
      const owner = readOwnership(record[OWNER_FIELD]);
      const shared = owner ? undefined : readSharedMarker(record[OWNER_FIELD]);
      const span = spans[index];
      return {
        name: record.name,
        value: record,
        ...(owner ? { owner } : {}),
        ...(shared ? { shared } : {}),
        ...(span ? { text: text.slice(span[0], span[1]) } : {}),
      };
    }),
  };
}

function readOwnership(marker: unknown): Ownership | undefined {
  if (typeof marker !== 'object' || marker === null) return undefined;
  const { cluster, service } = marker as Record<string, unknown>;
  return typeof cluster === 'string' && typeof service === 'string' ? { cluster, service } : undefined;
}

/** Start and end offsets of each top-level array element in `text` (which JSON.parse has accepted). */
function elementSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let depth = 0;
  let start = -1;
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      if (depth === 1 && start < 0) start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      last = i;
    } else if (c === '[' || c === '{') {
      if (depth === 1 && start < 0) start = i;
      depth++;
      last = i;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) break;
      last = i;
    } else if (c === ',' && depth === 1) {
      spans.push([start, last + 1]);
      start = -1;
    } else if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') {
      if (depth === 1 && start < 0) start = i;
      last = i;
    }
  }
  if (start >= 0) spans.push([start, last + 1]);
  return spans;
}

/** Whether an entry carries no cluster's marker (neither an owner nor shared contributions): registered by hand. */
export function isHandMade(entry: StoredEntry): boolean {
  return !entry.owner && !entry.shared;
}

/** The first entry called `name`, if any. */
export function entryNamed(doc: RegistryDocument, name: string): StoredEntry | undefined {
  return doc.entries.find((e) => e.name === name);
}

/** The stored form of an entry that a cluster manages: reader fields first, then the marker. */
export function ownedEntry(entry: RegistryEntry, owner: Ownership): StoredEntry {
  return {
    name: entry.name,
    owner,
    value: {
      name: entry.name,
      description: entry.description,
      endpoints: [...entry.endpoints],
      [OWNER_FIELD]: { cluster: owner.cluster, service: owner.service },
    },
  };
}

/** The stored form of an entry registered by hand (by the CLI): the reader fields and nothing else. */
export function handEntry(entry: RegistryEntry): StoredEntry {
  return {
    name: entry.name,
    value: { name: entry.name, description: entry.description, endpoints: [...entry.endpoints] },
  };
}

/** The reader's view of a stored entry (fields that are missing or of the wrong type read as empty). */
export function readerView(stored: StoredEntry): RegistryEntry {
  const { description, endpoints } = stored.value;
  return {
    name: stored.name,
    description: typeof description === 'string' ? description : '',
    endpoints: Array.isArray(endpoints) ? endpoints.filter((e): e is string => typeof e === 'string') : [],
  };
}

/** The bytes an entry takes in the serialized document: its line, indent and separator included. */
export function entryBytes(entry: StoredEntry): number {
  return Buffer.byteLength(entry.text ?? JSON.stringify(entry.value)) + 4;
}

/** The document's order: by name, compared as code units (never locale), so the bytes are the same everywhere. */
export const byName = (a: { name: string }, b: { name: string }): number => compareText(a.name, b.name);

/**
 * Deterministic bytes: entries sorted by name, one per line. An entry read from a document keeps its original
 * text, so hand-made entries (their unknown fields and formatting) survive every write unchanged.
 */
export function serializeDocument(doc: RegistryDocument): string {
  const entries = [...doc.entries].sort(byName);
  if (entries.length === 0) return '[]\n';
  return `[\n${entries.map((e) => `  ${e.text ?? JSON.stringify(e.value)}`).join(',\n')}\n]\n`;
}
