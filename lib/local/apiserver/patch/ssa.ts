// Server-side apply and the field ownership every write records in metadata.managedFields, at the level kubectl
// (`apply --server-side`, `edit`, `patch`) and controllers (force-apply) use it:
// - `serverSideApply` merges a manager's applied configuration into the live object: list-maps merge by their
//   keys, sets by value, atomic lists and maps are replaced. A field another manager owns with a different value is
//   a conflict (409, one cause per field) unless `force`, which takes it over. A field the manager applied before
//   and drops now is removed, unless another manager also owns it.
// - `recordUpdate` is what a PUT or a non-apply PATCH records: the manager (operation Update) takes the fields it
//   changed from everyone else, so a later apply of another value conflicts with it, as in the real apiserver.
// Semantics follow the Kubernetes "Server-Side Apply" documentation.
import type { Schema, StructSchema } from '../schema.ts';
import { type StatusCause, StatusError } from '../status-error.ts';
import {
  differsAt,
  type FieldSet,
  fieldsOf,
  fromFieldsV1,
  itemElement,
  joinPath,
  printPath,
  removeAt,
  splitPath,
  toFieldsV1,
  valueAt,
} from './fieldset.ts';
import { isObject, type Json, type JsonObject } from './json.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

export interface OwnershipOptions {
  /** The field manager (`?fieldManager=`, else the HTTP layer's user-agent-derived name). */
  manager: string;
  /** `status` for writes through `/status`; the main resource otherwise. */
  subresource?: string;
  /** When the write happens (the managedFields entry's `time`); now by default. */
  now?: Date;
  /** Whether the kind has a `/status` subresource: then the main resource ignores `status`, and `/status` the rest. */
  hasStatus?: boolean;
}

export interface ApplyOptions extends OwnershipOptions {
  force?: boolean;
}

/** The manager that owns what an object held before it was first applied to (the apiserver's name for it). */
export const BEFORE_FIRST_APPLY = 'before-first-apply';

/** Fields that are never owned: identity and system-populated metadata. */
const UNOWNED = [
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata', 'f:name'],
  ['f:metadata', 'f:namespace'],
  ['f:metadata', 'f:creationTimestamp'],
  ['f:metadata', 'f:selfLink'],
  ['f:metadata', 'f:uid'],
  ['f:metadata', 'f:generation'],
  ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:resourceVersion'],
  ['f:metadata', 'f:deletionTimestamp'],
  ['f:metadata', 'f:deletionGracePeriodSeconds'],
].map(joinPath);

interface Manager {
  entry: Omit<ManagedFieldsEntry, 'fieldsV1'>;
  fields: FieldSet;
}

const identity = (
  e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>,
): string =>
  JSON.stringify([e.manager, e.operation, e.operation === 'Apply' ? '' : e.apiVersion, e.subresource ?? '']);

const seconds = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

function readManagers(object: JsonObject | undefined): Map<string, Manager> {
  const managers = new Map<string, Manager>();
  const entries = (object?.metadata as JsonObject | undefined)?.managedFields;
  if (!Array.isArray(entries)) return managers;
  for (const raw of entries) {
    if (!isObject(raw) || typeof raw.manager !== 'string') continue;
    const { fieldsV1, ...entry } = raw as unknown as ManagedFieldsEntry;
    managers.set(identity(entry), { entry, fields: fromFieldsV1(fieldsV1) });
  }
  return managers;
}

/** The managedFields list in the apiserver's order (Apply before Update, then by time, manager, version). */
function writeManagers(managers: Map<string, Manager>): ManagedFieldsEntry[] {
  const time = (e: Manager['entry']): number => (e.time ? Date.parse(e.time) : 0);
  return [...managers.values()]
    .filter((m) => m.fields.size > 0)
    .sort(
      (a, b) =>
        a.entry.operation.localeCompare(b.entry.operation) ||
        time(a.entry) - time(b.entry) ||
        a.entry.manager.localeCompare(b.entry.manager) ||
        a.entry.apiVersion.localeCompare(b.entry.apiVersion) ||
        (a.entry.subresource ?? '').localeCompare(b.entry.subresource ?? ''),
    )
    .map((m) => ({ ...m.entry, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(m.fields) as JsonObject }));
}

/** The fields of `object` a write through this (sub)resource can own. */
function ownedFields(object: JsonObject, schema: Schema | undefined, options: OwnershipOptions): FieldSet {
  const set = fieldsOf(object, schema);
  for (const path of UNOWNED) set.delete(path);
  set.delete(joinPath(['f:metadata']));
  if (options.hasStatus) {
    const status = options.subresource === 'status';
    for (const path of set) {
      const top = splitPath(path)[0];
      const inStatus = top === 'f:status';
      if (status ? !inStatus && top !== 'f:metadata' : inStatus) set.delete(path);
    }
  }
  return set;
}

function withManagedFields(object: JsonObject, managers: Map<string, Manager>): JsonObject {
  const metadata = { ...((object.metadata as JsonObject | undefined) ?? {}) };
  const entries = writeManagers(managers);
  if (entries.length > 0) metadata.managedFields = entries as unknown as Json;
  else delete metadata.managedFields;
  return { ...object, metadata };
}

function stripManagedFields(object: JsonObject): JsonObject {
  const copy = structuredClone(object);
  if (isObject(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

/**
 * The managedFields of `updated` after `manager` wrote it over `old` (undefined for a create) with PUT or a
 * non-apply PATCH: the manager's Update entry gains the fields it changed, which every other manager loses; fields
 * the write removed leave every entry. Returns `updated` with metadata.managedFields set; inputs are unchanged.
 */
export function recordUpdate(
  old: JsonObject | undefined,
  updated: JsonObject,
  schema: Schema | undefined,
  options: OwnershipOptions,
): JsonObject {
  const managers = readManagers(old);
  const before = old ? ownedFields(stripManagedFields(old), schema, options) : new Set<string>();
  const after = ownedFields(stripManagedFields(updated), schema, options);
  const changed = [...after].filter((p) => !before.has(p) || differsAt(old, updated, p, schema));
  const removed = [...before].filter((p) => !after.has(p));
  if (changed.length === 0 && removed.length === 0)
    return withManagedFields(stripManagedFields(updated), managers);
  for (const m of managers.values()) for (const p of [...changed, ...removed]) m.fields.delete(p);
  const entry = {
    manager: options.manager,
    operation: 'Update' as const,
    apiVersion: String(updated.apiVersion ?? ''),
    ...(options.subresource ? { subresource: options.subresource } : {}),
  };
  const key = identity(entry);
  const fields = managers.get(key)?.fields ?? new Set<string>();
  for (const p of changed) fields.add(p);
  managers.set(key, {
    entry: { ...entry, time: seconds(options.now ?? new Date()), fieldsType: 'FieldsV1' },
    fields,
  });
  return withManagedFields(stripManagedFields(updated), managers);
}

/**
 * `live` (undefined when the apply creates the object) with `applied` merged in by `manager`, and managedFields
 * updated. Throws a 409 StatusError naming each conflicting field and its manager unless `force`.
 */
export function serverSideApply(
  live: JsonObject | undefined,
  applied: JsonObject,
  schema: StructSchema | undefined,
  options: ApplyOptions,
): JsonObject {
  const managers = readManagers(live);
  const base = live ? stripManagedFields(live) : {};
  const appliedConfig = resetForSubresource(stripManagedFields(applied), options);
  const appliedFields = ownedFields(appliedConfig, schema, options);
  if (live && managers.size === 0) {
    const existing = ownedFields(base, schema, { ...options, subresource: undefined, hasStatus: false });
    if (existing.size > 0) {
      const entry = {
        manager: BEFORE_FIRST_APPLY,
        operation: 'Update' as const,
        apiVersion: String(base.apiVersion ?? ''),
      };
      managers.set(identity(entry), { entry: { ...entry, fieldsType: 'FieldsV1' }, fields: existing });
    }
  }
  const self = {
    manager: options.manager,
    operation: 'Apply' as const,
    apiVersion: String(applied.apiVersion ?? ''),
  };
  const selfKey = identity({ ...self, subresource: options.subresource });
  const previous = managers.get(selfKey)?.fields ?? new Set<string>();

  const conflicts: StatusCause[] = [];
  const taken: Array<[Manager, string]> = [];
  for (const [key, other] of managers) {
    if (key === selfKey) continue;
    for (const path of appliedFields) {
      if (!other.fields.has(path) || !differsAt(base, appliedConfig, path, schema)) continue;
      if (splitPath(path).at(-1)?.startsWith('k:') || valueMissing(base, path, schema)) continue;
      taken.push([other, path]);
      conflicts.push({
        reason: 'FieldManagerConflict',
        message: `conflict with ${describe(other.entry)}`,
        field: printPath(path),
      });
    }
  }
  if (conflicts.length > 0 && !options.force) throw conflictError(conflicts);
  for (const [other, path] of taken) other.fields.delete(path);

  const merged = mergeApplied(base, appliedConfig, schema) as JsonObject;
  const othersOwn = (path: string) => [...managers].some(([key, m]) => key !== selfKey && m.fields.has(path));
  const dropped = [...previous].filter((p) => !appliedFields.has(p) && !othersOwn(p));
  // Shallowest first: a list-map item goes whole, before its key fields could be removed from under it.
  for (const path of dropped.sort((a, b) => splitPath(a).length - splitPath(b).length)) {
    removeAt(merged, path, schema);
    removeEmptyParents(merged, path, schema);
  }
  managers.set(selfKey, {
    entry: {
      ...self,
      time: seconds(options.now ?? new Date()),
      fieldsType: 'FieldsV1',
      ...(options.subresource ? { subresource: options.subresource } : {}),
    },
    fields: appliedFields,
  });
  return withManagedFields(merged, managers);
}

function valueMissing(object: JsonObject, path: string, schema: Schema | undefined): boolean {
  return !differsAt(object, {}, path, schema);
}

function describe(entry: Manager['entry']): string {
  const name = JSON.stringify(entry.manager);
  const sub = entry.subresource ? `${name} with subresource ${JSON.stringify(entry.subresource)}` : name;
  return entry.operation === 'Update' ? `${sub} using ${entry.apiVersion}` : sub;
}

function conflictError(causes: StatusCause[]): StatusError {
  causes.sort((a, b) => (a.message + a.field).localeCompare(b.message + b.field));
  if (causes.length === 1) {
    const [only] = causes as [StatusCause];
    return new StatusError(
      'Conflict',
      `Apply failed with 1 conflict: ${only.message}: ${only.field}`,
      causes,
    );
  }
  const byManager = new Map<string, string[]>();
  for (const c of causes) byManager.set(c.message, [...(byManager.get(c.message) ?? []), c.field ?? '']);
  const lines = [...byManager].flatMap(([m, fields]) => [
    `${m.replace(/^conflict with/, 'conflicts with')}:`,
    ...fields.map((f) => `- ${f}`),
  ]);
  return new StatusError(
    'Conflict',
    `Apply failed with ${causes.length} conflicts: ${lines.join('\n')}`,
    causes,
  );
}

/** The applied configuration without what this (sub)resource may not set. */
function resetForSubresource(applied: JsonObject, options: ApplyOptions): JsonObject {
  if (!options.hasStatus) return applied;
  if (options.subresource === 'status') {
    const { apiVersion, kind, metadata, status } = applied;
    return { apiVersion, kind, metadata, ...(status !== undefined ? { status } : {}) } as JsonObject;
  }
  const { status: _status, ...rest } = applied;
  return rest;
}

/** The live value with the applied configuration merged in, by the schema's list semantics. */
function mergeApplied(live: Json | undefined, applied: Json, schema: Schema | undefined): Json {
  if (applied === null) return null;
  if (isObject(applied) && (live === undefined || isObject(live))) {
    if (schema?.kind === 'map' && schema.mapType === 'atomic') return structuredClone(applied);
    if (schema?.kind === 'scalar' || schema?.kind === 'any' || schema?.kind === 'list')
      return structuredClone(applied);
    const out: JsonObject = { ...(live as JsonObject | undefined) };
    for (const [k, v] of Object.entries(applied)) {
      const s =
        schema?.kind === 'struct' ? schema.fields[k] : schema?.kind === 'map' ? schema.values : undefined;
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, s);
    }
    return out;
  }
  if (
    Array.isArray(applied) &&
    Array.isArray(live) &&
    schema?.kind === 'list' &&
    schema.listType !== 'atomic'
  ) {
    return mergeListItems(live, applied, schema);
  }
  return structuredClone(applied);
}

/** Live-only items keep their place; shared and new items follow the applied order. */
function mergeListItems(live: Json[], applied: Json[], schema: Schema & { kind: 'list' }): Json[] {
  const key = (item: Json) => itemElement(item, schema) ?? JSON.stringify(item);
  const appliedKeys = new Map(applied.map((item) => [key(item), item]));
  const liveByKey = new Map(live.map((item) => [key(item), item]));
  const out: Json[] = [];
  let next = 0;
  const emitAppliedThrough = (k: string) => {
    while (next < applied.length) {
      const item = applied[next++] as Json;
      const ik = key(item);
      out.push(schema.listType === 'map' ? mergeApplied(liveByKey.get(ik), item, schema.items) : item);
      if (ik === k) return;
    }
  };
  for (const item of live) {
    const k = key(item);
    if (!appliedKeys.has(k)) out.push(item);
    else if (!out.some((o) => key(o) === k)) emitAppliedThrough(k);
  }
  emitAppliedThrough('\u0000');
  return out;
}

/** Structs and maps left empty by a removal go too, as the apiserver's typed objects omit them. */
function removeEmptyParents(object: JsonObject, path: string, schema: Schema | undefined): void {
  const elements = splitPath(path);
  for (let n = elements.length - 1; n > 0; n--) {
    if (!elements[n - 1]?.startsWith('f:')) return;
    const parent = joinPath(elements.slice(0, n));
    const value = valueAt(object, parent, schema);
    if (!isObject(value) || Object.keys(value).length > 0) return;
    removeAt(object, parent, schema);
  }
}
