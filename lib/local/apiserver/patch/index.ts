// The one entry point the HTTP layer calls for PATCH: the request body and its Content-Type in, the new object (or
// a typed StatusError) out, for the four patch types the apiserver accepts.
//   application/merge-patch+json             JSON merge patch (RFC 7386)        kubectl annotate, label, patch --type=merge
//   application/json-patch+json              JSON patch (RFC 6902)              kubectl patch --type=json
//   application/strategic-merge-patch+json   strategic merge patch              kubectl apply, edit, patch (default)
//   application/apply-patch+yaml             server-side apply (YAML or JSON)   kubectl apply --server-side, controllers
import { parse as parseYaml } from 'yaml';
import { apiVersionOf, type ResourceKind } from '../resources.ts';
import { kindSchema } from '../schema.ts';
import { badRequest, StatusError } from '../status-error.ts';
import { isObject, type Json, type JsonObject } from './json.ts';
import { jsonPatch, readJsonPatch } from './json-patch.ts';
import { mergePatch } from './merge-patch.ts';
import { recordUpdate, serverSideApply } from './ssa.ts';
import { strategicMergePatch } from './strategic.ts';

export { StatusError } from '../status-error.ts';
export type { Json, JsonObject } from './json.ts';
export { jsonPatch } from './json-patch.ts';
export { mergePatch } from './merge-patch.ts';
export { recordUpdate, serverSideApply } from './ssa.ts';
export { strategicMergePatch } from './strategic.ts';

export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;
export type PatchContentType = (typeof PATCH_CONTENT_TYPES)[number];

export interface PatchOptions {
  /**
   * `?fieldManager=`; required for apply, which records its own managedFields. The other types are recorded by the
   * caller with recordWrite, after defaults and validation, as every other write is.
   */
  manager?: string;
  /** `?force=true` (apply only): take over conflicting fields. */
  force?: boolean;
  /** `status` for PATCH on `/status`. */
  subresource?: string;
  now?: Date;
}

/** The media type of a Content-Type header, lower-case and without parameters; undefined when it is not a patch type. */
export function patchContentType(header: string | undefined): PatchContentType | undefined {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase();
  return PATCH_CONTENT_TYPES.find((t) => t === type);
}

/**
 * The object after a PATCH of `resource`. `live` is the stored object (undefined only for an apply that creates:
 * for the other types the HTTP layer answers 404 before calling). Throws StatusError: 415 for a Content-Type that is
 * not a patch type, 400 for a body that cannot be read, 422 for a patch that does not apply, 409 for apply conflicts.
 * Fields the object may not change (name, uid, resourceVersion preconditions, status through the main resource) are
 * the HTTP layer's, as for PUT.
 */
export function applyPatch(
  resource: ResourceKind,
  live: JsonObject | undefined,
  body: string,
  contentType: string | undefined,
  options: PatchOptions = {},
): JsonObject {
  const type = patchContentType(contentType);
  if (!type) {
    throw new StatusError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_CONTENT_TYPES.join(', ')}`,
    );
  }
  const schema = kindSchema(resource);
  const ownership = { ...options, manager: options.manager ?? '', hasStatus: hasStatus(resource) };
  if (type === 'application/apply-patch+yaml') {
    if (!options.manager) {
      throw new StatusError(
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: is required for apply patch',
            field: 'fieldManager',
          },
        ],
      );
    }
    const applied = readApplyBody(body);
    const apiVersion = apiVersionOf(resource);
    if (applied.apiVersion !== apiVersion || applied.kind !== resource.kind) {
      throw badRequest(
        `the API version in the data (${String(applied.apiVersion)}) and kind (${String(applied.kind)}) do not match the expected ${apiVersion} ${resource.kind}`,
      );
    }
    return serverSideApply(live, applied, schema, ownership);
  }
  if (!live) throw new Error('applyPatch: the object to patch must exist (answer 404 before patching)');
  const patch = readJson(body);
  let patched: Json;
  if (type === 'application/json-patch+json') patched = jsonPatch(live, readJsonPatch(patch));
  else if (!isObject(patch)) {
    throw badRequest(
      `error decoding patch: json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`,
    );
  } else if (type === 'application/merge-patch+json' || !schema) patched = mergePatch(live, patch);
  else patched = strategicMergePatch(live, patch, schema);
  if (!isObject(patched)) throw badRequest('the patch did not produce an object');
  return patched;
}

/**
 * `updated` with metadata.managedFields recording that `manager` wrote it over `old` (undefined for a create):
 * what the registry calls for every write but an apply (applyPatch records those itself), so a later server-side apply
 * conflicts with what kubectl edit, replace or create set, as in the real apiserver.
 */
export function recordWrite(
  resource: ResourceKind,
  old: JsonObject | undefined,
  updated: JsonObject,
  options: { manager: string; subresource?: string; now?: Date },
): JsonObject {
  return recordUpdate(old, updated, kindSchema(resource), { ...options, hasStatus: hasStatus(resource) });
}

const hasStatus = (resource: ResourceKind): boolean => resource.subresources?.includes('status') ?? false;

function readJson(body: string): Json {
  try {
    return JSON.parse(body) as Json;
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}

function readApplyBody(body: string): JsonObject {
  let value: unknown;
  try {
    value = parseYaml(body, { maxAliasCount: 100 });
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw badRequest('error decoding YAML: the applied configuration is not an object');
  return value;
}
