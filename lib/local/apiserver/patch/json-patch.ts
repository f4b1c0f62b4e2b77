// JSON patch (RFC 6902): add, remove, replace, move, copy and test, applied in order to a copy of the target. A
// patch that is not a list of operations is a BadRequest; an operation that does not apply (missing path, failed
// test, bad index) fails the whole patch with the apiserver's 422 and changes nothing.
import { badRequest, unprocessable } from '../status-error.ts';
import { isObject, type Json, type JsonObject, jsonEqual } from './json.ts';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

/** The apiserver's ceiling on operations in one JSON patch (413 above it; here a BadRequest). */
const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** Why an operation did not apply: the detail behind the apiserver's generic 422 message. */
export class JsonPatchFailure extends Error {}

/** The operations of a decoded JSON patch body; a BadRequest when it is not a list of objects. */
export function readJsonPatch(body: unknown): JsonPatchOperation[] {
  if (!Array.isArray(body))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (body.length > MAX_JSON_PATCH_OPERATIONS) {
    throw badRequest(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${body.length}`,
    );
  }
  for (const op of body) {
    if (!isObject(op))
      throw badRequest('json: cannot unmarshal non-object into Go value of type jsonpatch.Operation');
  }
  return body as JsonPatchOperation[];
}

/** `target` with the operations applied; a StatusError (422, the failure as `cause`) when one does not apply. */
export function jsonPatch(target: Json, ops: readonly JsonPatchOperation[]): Json {
  let doc = structuredClone(target);
  for (const [i, op] of ops.entries()) {
    try {
      doc = applyOne(doc, op);
    } catch (error) {
      if (!(error instanceof JsonPatchFailure)) throw error;
      const failed = unprocessable();
      (failed as { cause?: unknown }).cause = new JsonPatchFailure(
        `operation ${i} (${op.op} ${op.path}): ${error.message}`,
      );
      throw failed;
    }
  }
  return doc;
}

function pointer(path: unknown, what = 'path'): string[] {
  if (typeof path !== 'string') throw new JsonPatchFailure(`missing ${what}`);
  if (path === '') return [];
  if (!path.startsWith('/'))
    throw new JsonPatchFailure(`${what} ${JSON.stringify(path)} does not start with /`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function get(doc: Json, tokens: readonly string[]): Json | undefined {
  let at: Json | undefined = doc;
  for (const token of tokens) {
    if (Array.isArray(at)) {
      const i = arrayIndex(token, at.length - 1);
      at = at[i];
    } else if (isObject(at)) {
      if (!Object.hasOwn(at, token)) return undefined;
      at = at[token];
    } else return undefined;
  }
  return at;
}

function arrayIndex(token: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new JsonPatchFailure(`array index ${JSON.stringify(token)} is not a number`);
  const i = Number(token);
  if (i > max) throw new JsonPatchFailure(`array index ${i} out of bounds`);
  return i;
}

/** The container holding the last token, which must exist. */
function parentOf(doc: Json, tokens: readonly string[]): Json[] | JsonObject {
  const parent = get(doc, tokens.slice(0, -1));
  if (!Array.isArray(parent) && !isObject(parent)) throw new JsonPatchFailure('doc is missing path');
  return parent;
}

function add(doc: Json, tokens: readonly string[], value: Json): Json {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : arrayIndex(last, parent.length);
    parent.splice(i, 0, value);
  } else parent[last] = value;
  return doc;
}

function remove(doc: Json, tokens: readonly string[]): Json {
  if (tokens.length === 0) throw new JsonPatchFailure('cannot remove the whole document');
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length - 1), 1);
  else if (Object.hasOwn(parent, last)) delete parent[last];
  else throw new JsonPatchFailure(`unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

function existing(doc: Json, tokens: readonly string[], what: string): Json {
  const value = get(doc, tokens);
  if (value === undefined) throw new JsonPatchFailure(`${what} does not apply: doc is missing path`);
  return value;
}

function applyOne(doc: Json, op: JsonPatchOperation): Json {
  const path = pointer(op.path);
  const value = (): Json => {
    if (!('value' in op) || op.value === undefined)
      throw new JsonPatchFailure(`${op.op} operation has no value`);
    return structuredClone(op.value);
  };
  switch (op.op) {
    case 'add':
      return add(doc, path, value());
    case 'remove':
      return remove(doc, path);
    case 'replace':
      existing(doc, path, 'replace operation');
      return path.length === 0 ? value() : add(remove(doc, path), path, value());
    case 'move': {
      const from = pointer(op.from, 'from');
      if (path.length > from.length && from.every((t, i) => path[i] === t)) {
        throw new JsonPatchFailure('cannot move a value into one of its children');
      }
      const moved = existing(doc, from, 'move operation');
      return add(remove(doc, from), path, moved);
    }
    case 'copy':
      return add(doc, path, structuredClone(existing(doc, pointer(op.from, 'from'), 'copy operation')));
    case 'test': {
      const actual = get(doc, path);
      if (!jsonEqual(actual ?? null, op.value ?? null))
        throw new JsonPatchFailure(`testing value ${op.path} failed`);
      return doc;
    }
    default:
      throw new JsonPatchFailure(`Unexpected kind: ${String((op as { op: unknown }).op)}`);
  }
}
