// Strategic merge patch as the apiserver applies it (MergeParallelList and IgnoreUnmatchedNulls on): maps merge key
// by key and `null` deletes; a list whose schema says `patchStrategy: merge` merges by its `patchMergeKey` (lists of
// objects) or by value (lists of scalars), any other list is replaced. Directives: `$patch: replace|delete` on a map,
// `$patch: delete|replace` as a list element, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and
// `$retainKeys`. The order of a merged list follows `$setElementOrder`, then the patch, then the live list. Behaviour
// checked against the Kubernetes strategic merge patch documentation and apimachinery's util/strategicpatch.
import { fieldSchema, type ListSchema, type Schema } from '../schema.ts';
import { badRequest, StatusError } from '../status-error.ts';
import { isObject, type Json, type JsonObject } from './json.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/** `original` with `patch` merged in by the list semantics of `schema`; neither input is changed. */
export function strategicMergePatch(
  original: JsonObject,
  patch: JsonObject,
  schema: Schema | undefined,
): JsonObject {
  return mergeMap(structuredClone(original), structuredClone(patch), schema);
}

const invalid = (message: string): StatusError => new StatusError('Invalid', message);

function listSchema(schema: Schema | undefined, key: string): ListSchema | undefined {
  const s = fieldSchema(schema, key);
  return s?.kind === 'list' ? s : undefined;
}

function mergeMap(
  original: JsonObject | undefined,
  patch: JsonObject,
  schema: Schema | undefined,
): JsonObject {
  if (DIRECTIVE in patch) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return stripDirectives(patch) as JsonObject;
    }
    if (directive === 'delete') return {};
    throw badRequest(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const result = original ?? {};
  retainKeys(result, patch);
  setElementOrders(result, patch, schema);
  for (let [key, patchValue] of Object.entries(patch)) {
    let deleteList = false;
    if (key.startsWith(DELETE_FROM)) {
      deleteList = true;
      key = key.slice(DELETE_FROM.length);
    } else if (key.startsWith('$')) {
      if (key === DIRECTIVE || key === RETAIN_KEYS) continue;
      throw badRequest(`unknown directive ${key}`);
    }
    if (patchValue === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (current === undefined || typeOf(current) !== typeOf(patchValue)) {
      if (deleteList) continue;
      const kept = stripDirectives(withoutNulls(patchValue));
      if (kept === undefined) delete result[key];
      else result[key] = kept;
      continue;
    }
    if (isObject(current)) {
      result[key] = mergeMap(current, patchValue as JsonObject, fieldSchema(schema, key));
    } else if (Array.isArray(current)) {
      const list = listSchema(schema, key);
      result[key] =
        list?.patchStrategy === 'merge' || deleteList
          ? mergeList(current, patchValue as Json[], list, deleteList)
          : (patchValue as Json[]);
    } else {
      result[key] = patchValue;
    }
  }
  return result;
}

/** `$retainKeys: [...]`: keys of the original missing from the list are cleared; the patch may set only those. */
function retainKeys(original: JsonObject, patch: JsonObject): void {
  if (!(RETAIN_KEYS in patch)) return;
  const keep = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  const formatError = () =>
    badRequest('invalid patch: the $retainKeys directive must be a list of field names');
  if (!Array.isArray(keep)) throw formatError();
  const kept = new Set(keep);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM) || key.startsWith(SET_ORDER) || key === DIRECTIVE)
      continue;
    if (!kept.has(key)) throw formatError();
  }
  for (const key of Object.keys(original)) if (!kept.has(key)) delete original[key];
}

/** `$setElementOrder/<list>`: merges that list now and orders it; the list's own patch entry is consumed. */
function setElementOrders(original: JsonObject, patch: JsonObject, schema: Schema | undefined): void {
  for (const [directiveKey, order] of Object.entries(patch)) {
    if (!directiveKey.startsWith(SET_ORDER)) continue;
    delete patch[directiveKey];
    const key = directiveKey.slice(SET_ORDER.length);
    if (!Array.isArray(order) || key === '') {
      throw badRequest('invalid patch: the $setElementOrder directive must name a list and give a list');
    }
    const list = listSchema(schema, key);
    const mergeKey = list?.patchMergeKey ?? '';
    const originalList = original[key];
    const patchList = patch[key];
    if (originalList !== undefined && !Array.isArray(originalList)) throw badRequest(`${key} is not a list`);
    if (patchList !== undefined && patchList !== null && !Array.isArray(patchList))
      throw badRequest(`${key} is not a list`);
    checkOrder(patchList ?? [], order, mergeKey);
    let merged: Json[];
    if (originalList !== undefined && patchList) {
      merged =
        list?.patchStrategy === 'merge'
          ? mergeList(originalList, patchList, list, false)
          : (patchList as Json[]);
    } else if (patchList) {
      merged = stripDirectives(patchList) as Json[];
    } else if (originalList !== undefined) {
      merged = originalList;
    } else continue;
    const [inOrder, serverOnly] = partition(merged, order, mergeKey);
    original[key] = normalizeOrder(inOrder, serverOnly, order, originalList ?? [], mergeKey);
    delete patch[key];
  }
}

/** The patch list's items (deletions aside) must appear in the `$setElementOrder` list, in its order. */
function checkOrder(patchList: Json[], order: Json[], mergeKey: string): void {
  const items = mergeKey ? patchList.filter((v) => !(isObject(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  for (let o = 0; p < items.length && o < order.length; o++) {
    const item = items[p];
    if (isObject(item) && DIRECTIVE in item) {
      p++;
      o--;
      continue;
    }
    if (keyOf(item, mergeKey) === keyOf(order[o], mergeKey)) p++;
  }
  if (p < items.length) {
    throw badRequest(`invalid patch: the order in the patch list does not match the $setElementOrder list`);
  }
}

function keyOf(item: Json | undefined, mergeKey: string): Json | undefined {
  if (!mergeKey) return item;
  if (!isObject(item)) throw badRequest(`invalid patch: list item is not an object: ${JSON.stringify(item)}`);
  if (!(mergeKey in item))
    throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
  return item[mergeKey];
}

function mergeList(
  original: Json[],
  patch: Json[],
  schema: ListSchema | undefined,
  deleteList: boolean,
): Json[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind([...original, ...patch]);
  const mergeKey = schema?.patchMergeKey ?? '';
  let merged: Json[];
  let patchItems = patch;
  let base = original;
  if (kind !== 'object') {
    if (deleteList) {
      const gone = new Set(patch);
      return original.filter((v) => !gone.has(v));
    }
    merged = [...new Set([...original, ...patch])];
  } else {
    if (!mergeKey) throw badRequest(`cannot merge lists without merge key`);
    let replace = false;
    const plain: Json[] = [];
    for (const item of patch as JsonObject[]) {
      if (!(DIRECTIVE in item)) {
        plain.push(item);
        continue;
      }
      const directive = item[DIRECTIVE];
      if (directive === 'delete') {
        if (!(mergeKey in item))
          throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
        base = base.filter((v) => (v as JsonObject)[mergeKey] !== item[mergeKey]);
      } else if (directive === 'replace') replace = true;
      else if (directive === 'merge') throw badRequest('merging lists cannot yet be specified in the patch');
      else throw badRequest(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(item)}`);
    }
    if (replace) {
      base = plain;
      patchItems = [];
    } else patchItems = plain;
    merged = [...base];
    for (const item of patchItems as JsonObject[]) {
      const value = keyOf(item, mergeKey);
      const at = merged.findIndex((v) => (v as JsonObject)[mergeKey] === value);
      if (at >= 0) merged[at] = mergeMap(merged[at] as JsonObject, item, schema?.items);
      else merged.push(stripDirectives(withoutNulls(item)) as Json);
    }
  }
  const [inPatch, serverOnly] = partition(merged, patchItems, mergeKey);
  return normalizeOrder(inPatch, serverOnly, patchItems, base, mergeKey);
}

function elementKind(items: readonly Json[]): string {
  let kind: string | undefined;
  for (const item of items) {
    const k = typeOf(item);
    if (k === 'array') throw invalid('lists of lists are not supported');
    if (kind !== undefined && kind !== k) throw badRequest('list element types are not identical');
    kind = k;
  }
  return kind ?? 'none';
}

function typeOf(value: Json): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/** Items present in `by` (by merge key, or by value), and the others. */
function partition(items: readonly Json[], by: readonly Json[], mergeKey: string): [Json[], Json[]] {
  const keys = new Set(by.map((v) => keyOf(v, mergeKey)));
  const inBy: Json[] = [];
  const rest: Json[] = [];
  for (const item of items) (keys.has(keyOf(item, mergeKey)) ? inBy : rest).push(item);
  return [inBy, rest];
}

/**
 * Patch items in `patchOrder`, server-only items in `serverOrder`, then interleaved: each server-only item goes
 * before the first patch item that comes after it in the live list.
 */
function normalizeOrder(
  patchItems: Json[],
  serverOnly: Json[],
  patchOrder: readonly Json[],
  serverOrder: readonly Json[],
  mergeKey: string,
): Json[] {
  const indexIn = (list: readonly Json[], item: Json): number => {
    const key = keyOf(item, mergeKey);
    return list.findIndex((v) => (isObject(v) || !mergeKey ? keyOf(v, mergeKey) === key : false));
  };
  const sortBy = (items: Json[], order: readonly Json[]): Json[] => {
    const deleted = mergeKey ? items.filter((v) => isObject(v) && v[DIRECTIVE] === 'delete') : [];
    const kept = items.filter((v) => !deleted.includes(v));
    const ranked = kept.map((item, i) => ({ item, i, at: indexIn(order, item) }));
    ranked.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i));
    return [...ranked.map((r) => r.item), ...deleted];
  };
  const left = sortBy(serverOnly, serverOrder);
  const right = sortBy(patchItems, patchOrder);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++] as Json);
    else if (i >= left.length) out.push(right[j++] as Json);
    else {
      const li = indexIn(serverOrder, left[i] as Json);
      const ri = indexIn(serverOrder, right[j] as Json);
      out.push(li >= 0 && ri >= 0 && li < ri ? (left[i++] as Json) : (right[j++] as Json));
    }
  }
  return out;
}

/** Patch content added where the original had nothing: `null`s dropped (nothing to delete). */
function withoutNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

/** A value with its directives removed; `undefined` when the value is itself a directive (`{$patch: ...}`). */
function stripDirectives(value: Json): Json | undefined {
  if (Array.isArray(value)) return value.map(stripDirectives).filter((v): v is Json => v !== undefined);
  if (!isObject(value)) return value;
  if (DIRECTIVE in value) return undefined;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    const kept = stripDirectives(v);
    if (kept !== undefined) out[k] = kept;
  }
  return out;
}
