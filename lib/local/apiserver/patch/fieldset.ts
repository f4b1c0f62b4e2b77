// Sets of field paths, as server-side apply tracks ownership in metadata.managedFields (the FieldsV1 format):
// `f:<field>` for a struct field or map key, `k:{"port":80,"protocol":"TCP"}` for an item of a list keyed by
// `mapKeys` (missing keys take their schema default), `v:<json>` for an item of a set, and `.` inside a node that is
// owned itself as well as through its children. A path is one string of these elements joined by a separator.
import { fieldSchema, type ListSchema, type Schema } from '../schema.ts';
import { isObject, type Json, type JsonObject, jsonEqual } from './json.ts';

const SEP = '\u0001';

export type FieldSet = Set<string>;
export type FieldsV1 = { [element: string]: FieldsV1 };

export const joinPath = (elements: readonly string[]): string => elements.join(SEP);
export const splitPath = (path: string): string[] => (path === '' ? [] : path.split(SEP));

function stableJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The key values of a list-map item, defaults filled in; undefined when a key is missing without a default. */
function itemKeys(item: Json, list: ListSchema): JsonObject | undefined {
  if (!isObject(item)) return undefined;
  const keys: JsonObject = {};
  for (const key of list.mapKeys ?? []) {
    const own = item[key];
    const fallback = fieldSchema(list.items, key);
    const value = own ?? (fallback?.kind === 'scalar' ? fallback.default : undefined);
    if (value === undefined) return undefined;
    keys[key] = value;
  }
  return keys;
}

/** The path element naming `item` in a list of this schema (`k:`, `v:`). */
export function itemElement(item: Json, list: ListSchema): string | undefined {
  if (list.listType === 'set') return `v:${stableJson(item)}`;
  if (list.listType !== 'map') return undefined;
  const keys = itemKeys(item, list);
  return keys ? `k:${stableJson(keys)}` : undefined;
}

/** Every owned path of `value`: leaves, atomic lists and maps, list-map items and their fields, set items. */
export function fieldsOf(
  value: Json,
  schema: Schema | undefined,
  set: FieldSet = new Set(),
  prefix: string[] = [],
): FieldSet {
  const self = () => {
    if (prefix.length > 0) set.add(joinPath(prefix));
  };
  if (isObject(value) && schema?.kind !== 'scalar' && schema?.kind !== 'any' && schema?.kind !== 'list') {
    if (schema?.kind === 'map' && schema.mapType === 'atomic') {
      self();
      return set;
    }
    const entries = Object.entries(value).filter(([, v]) => v !== null);
    if (entries.length === 0) self();
    for (const [k, v] of entries) fieldsOf(v, fieldSchema(schema, k), set, [...prefix, `f:${k}`]);
    return set;
  }
  if (Array.isArray(value) && schema?.kind === 'list' && schema.listType !== 'atomic') {
    if (value.length === 0) self();
    for (const item of value) {
      const element = itemElement(item, schema);
      if (element === undefined) continue;
      set.add(joinPath([...prefix, element]));
      if (schema.listType === 'map') fieldsOf(item, schema.items, set, [...prefix, element]);
    }
    return set;
  }
  self();
  return set;
}

function findItem(list: Json[], element: string, schema: ListSchema): number {
  return list.findIndex((item) => itemElement(item, schema) === element);
}

/** The value at `path` in `value` (undefined when absent). */
export function valueAt(value: Json | undefined, path: string, schema: Schema | undefined): Json | undefined {
  let at = value;
  let s = schema;
  for (const element of splitPath(path)) {
    if (element.startsWith('f:')) {
      const key = element.slice(2);
      if (!isObject(at)) return undefined;
      at = at[key];
      s = fieldSchema(s, key);
    } else {
      if (!Array.isArray(at) || s?.kind !== 'list') return undefined;
      const i = findItem(at, element, s);
      if (i < 0) return undefined;
      at = at[i];
      s = s.items;
    }
    if (at === undefined || at === null) return undefined;
  }
  return at;
}

/** `value` without what is at `path` (changed in place). */
export function removeAt(value: Json, path: string, schema: Schema | undefined): void {
  const elements = splitPath(path);
  const last = elements.pop();
  if (last === undefined) return;
  let parentSchema = schema;
  for (const element of elements)
    parentSchema = element.startsWith('f:')
      ? fieldSchema(parentSchema, element.slice(2))
      : parentSchema?.kind === 'list'
        ? parentSchema.items
        : undefined;
  const parent = valueAt(value, joinPath(elements), schema);
  if (last.startsWith('f:')) {
    if (isObject(parent)) delete parent[last.slice(2)];
  } else if (Array.isArray(parent) && parentSchema?.kind === 'list') {
    const i = findItem(parent, last, parentSchema);
    if (i >= 0) parent.splice(i, 1);
  }
}

/** Whether the value at `path` differs between two objects (a list-map item: whether it exists in only one). */
export function differsAt(
  a: Json | undefined,
  b: Json | undefined,
  path: string,
  schema: Schema | undefined,
): boolean {
  const x = valueAt(a, path, schema);
  const y = valueAt(b, path, schema);
  const last = splitPath(path).at(-1) ?? '';
  if (last.startsWith('k:')) return (x === undefined) !== (y === undefined);
  return !jsonEqual(x, y);
}

export function toFieldsV1(set: FieldSet): FieldsV1 {
  const root: FieldsV1 = {};
  const members = new Set<FieldsV1>();
  for (const path of [...set].sort()) {
    let node = root;
    for (const element of splitPath(path)) {
      node[element] ??= {};
      node = node[element] as FieldsV1;
    }
    members.add(node);
  }
  const finish = (node: FieldsV1): void => {
    const children = Object.keys(node);
    if (children.length > 0 && members.has(node)) node['.'] = {};
    for (const child of children) finish(node[child] as FieldsV1);
  };
  finish(root);
  return root;
}

export function fromFieldsV1(fields: unknown, prefix: string[] = [], set: FieldSet = new Set()): FieldSet {
  if (!isObject(fields)) return set;
  const children = Object.keys(fields).filter((k) => k !== '.');
  if (prefix.length > 0 && (children.length === 0 || '.' in fields)) set.add(joinPath(prefix));
  for (const child of children) fromFieldsV1(fields[child], [...prefix, child], set);
  return set;
}

/** A path as the apiserver prints it in apply conflicts: `.spec.ports[port=80,protocol="TCP"].targetPort`. */
export function printPath(path: string): string {
  return splitPath(path)
    .map((element) => {
      const body = element.slice(2);
      if (element.startsWith('f:')) return `.${body}`;
      if (element.startsWith('v:')) return `[=${body}]`;
      if (element.startsWith('i:')) return `[${body}]`;
      const keys = JSON.parse(body) as JsonObject;
      return `[${Object.entries(keys)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    })
    .join('');
}
