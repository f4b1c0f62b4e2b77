// The simulator's etcd: every object of every kind, keyed by storage (the resource's plural) and `namespace/name`,
// one integer revision shared by all of them, and the history of changes since the last compaction. History is what
// lets a watch resume from an old resourceVersion and a paged list serve every page from one snapshot; compaction is
// what makes both answer 410 Gone. The store keeps what it is given: defaults, validation and the verbs' rules live
// in the registry above it.

/** Object metadata as the apiserver serves it; the store reads only namespace, name and resourceVersion. */
export interface ObjectMeta {
  name: string;
  /** '' or absent for cluster-scoped objects. */
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generateName?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  ownerReferences?: unknown[];
  managedFields?: unknown[];
}

/** Any stored object: JSON with metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** An object as a client writes it: the server fills in the system fields of metadata. */
export interface KubeObjectInput {
  apiVersion?: string;
  kind?: string;
  metadata?: Partial<ObjectMeta>;
  [field: string]: unknown;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. `previous` is the state before it, which is what undoing it for a snapshot restores. */
export interface Change {
  readonly rv: number;
  readonly type: ChangeType;
  /** The resource plural the object is stored under (both Event APIs share `events`). */
  readonly storage: string;
  readonly object: KubeObject;
  readonly previous?: KubeObject;
}

export const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

const keyOfObject = (object: KubeObject): string => keyOf(object.metadata.namespace, object.metadata.name);

export class ObjectStore {
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  #history: Change[] = [];
  #rv = 1;
  #compactedThrough = 1;
  #listeners = new Set<(change: Change) => void>();
  readonly #historyLimit: number;

  /** `historyLimit`: changes kept before the oldest are compacted away, as etcd does every few minutes. */
  constructor(historyLimit = 10_000) {
    this.#historyLimit = historyLimit;
  }

  /** The revision of the last change (the cluster's current resourceVersion). */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Changes at or below this revision are gone; reads and watches from before it get 410. */
  get compactedThrough(): number {
    return this.#compactedThrough;
  }

  get<T extends KubeObject = KubeObject>(
    storage: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    return this.#objects.get(storage)?.get(keyOf(namespace, name)) as T | undefined;
  }

  /** Current objects of one storage in key order (the order etcd returns them in). */
  list<T extends KubeObject = KubeObject>(storage: string): T[] {
    return sortByKey([...(this.#objects.get(storage)?.values() ?? [])]) as T[];
  }

  /** Every namespace some stored object lives in. */
  namespacesInUse(): Set<string> {
    const namespaces = new Set<string>();
    for (const objects of this.#objects.values())
      for (const object of objects.values())
        if (object.metadata.namespace) namespaces.add(object.metadata.namespace);
    return namespaces;
  }

  /** Stores `object` (ADDED when its key is new, MODIFIED otherwise) with the next revision; it is frozen from now on. */
  put<T extends KubeObject>(storage: string, object: T): T {
    const previous = this.#objects.get(storage)?.get(keyOfObject(object)) as T | undefined;
    return this.#commit(previous ? 'MODIFIED' : 'ADDED', storage, object, previous);
  }

  /** Removes the object, committing a DELETED change that carries its last state at the new revision. */
  remove<T extends KubeObject = KubeObject>(
    storage: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    const current = this.get<T>(storage, namespace, name);
    if (!current) return undefined;
    return this.#commit('DELETED', storage, structuredClone(current) as T, current);
  }

  /** Drops history through `rv` (default: all of it). */
  compact(rv = this.#rv): void {
    const through = Math.min(rv, this.#rv);
    if (through <= this.#compactedThrough) return;
    const kept = this.#history.findIndex((c) => c.rv > through);
    this.#history.splice(0, kept === -1 ? this.#history.length : kept);
    this.#compactedThrough = through;
  }

  /** Changes after `rv` (of one storage, if given), oldest first, or undefined when some were compacted away. */
  changesSince(rv: number, storage?: string): Change[] | undefined {
    if (rv < this.#compactedThrough) return undefined;
    return this.#history.filter((c) => c.rv > rv && (storage === undefined || c.storage === storage));
  }

  /** One storage's objects as they were at revision `rv`, in key order, or undefined when that revision was compacted. */
  snapshotAt<T extends KubeObject = KubeObject>(storage: string, rv: number): T[] | undefined {
    if (rv >= this.#rv) return this.list<T>(storage);
    const later = this.changesSince(rv, storage);
    if (!later) return undefined;
    const objects = new Map(this.#objects.get(storage));
    for (const change of later.reverse()) {
      const key = keyOfObject(change.object);
      if (change.previous) objects.set(key, change.previous);
      else objects.delete(key);
    }
    return sortByKey([...objects.values()]) as T[];
  }

  /** Called synchronously after each commit, so a reader that subscribes in the same tick misses nothing. */
  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #commit<T extends KubeObject>(type: ChangeType, storage: string, object: T, previous: T | undefined): T {
    const rv = ++this.#rv;
    object.metadata.resourceVersion = String(rv);
    const stored = deepFreeze(object);
    const objects = this.#objects.get(storage) ?? new Map<string, KubeObject>();
    this.#objects.set(storage, objects);
    if (type === 'DELETED') objects.delete(keyOfObject(stored));
    else objects.set(keyOfObject(stored), stored);
    const change: Change = { rv, type, storage, object: stored, ...(previous && { previous }) };
    this.#history.push(change);
    if (this.#history.length > this.#historyLimit) {
      this.compact((this.#history[this.#history.length - this.#historyLimit - 1] as Change).rv);
    }
    for (const listener of this.#listeners) listener(change);
    return stored;
  }
}

/** Sorted by namespace/name; each key is built once, since the churn driver lists on every change. */
function sortByKey(objects: KubeObject[]): KubeObject[] {
  return objects
    .map((o) => [keyOfObject(o), o] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, o]) => o);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
