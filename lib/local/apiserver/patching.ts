// The seam between the write machinery and the patch algorithms: the registry turns a PATCH request into a new
// object through `patchObject`, and each patch Content-Type has one `Patcher`. The registry does everything around
// it (preconditions, system fields, defaults, validation, status/spec separation, storing); a patcher only computes
// the patched object. JSON merge patch (RFC 7386) is here; the others plug in by filling `PATCHERS`.
import { badRequest, unsupportedMediaType } from './errors.ts';
import type { ResourceKind } from './resources.ts';
import type { KubeObject } from './store.ts';

export const PATCH_CONTENT_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export type PatchType = keyof typeof PATCH_CONTENT_TYPES;

export interface PatchInput {
  resource: ResourceKind;
  /**
   * The object as the client sees it (in the API version of the request, with status), a deep copy the patcher
   * may change. Undefined only for `apply` to an object that does not exist yet (server-side apply creates).
   */
  live: KubeObject | undefined;
  /** The request body as sent (JSON text, or YAML for apply). */
  body: string;
  /** `?fieldManager=`; required by the registry for `apply`. */
  fieldManager: string | undefined;
  /** `?force=true`: apply takes fields other managers own instead of answering 409 Conflict. */
  force: boolean;
  /** Set when the request is on a subresource (`status`): apply records its fields under that subresource. */
  subresource: string | undefined;
}

/**
 * Computes the patched object. Bad patches throw ApiError (`badRequest`, `invalid`, `conflict` for apply conflicts
 * with `details.causes` naming the fields); the registry sends it as the Status. The returned object may keep
 * `metadata.managedFields`; the registry keeps what the patcher set there.
 */
export type Patcher = (input: PatchInput) => KubeObject;

/** The patcher for each Content-Type; a missing one answers 415, as an apiserver that does not know the type would. */
export const PATCHERS: Partial<Record<PatchType, Patcher>> = {
  merge: ({ live, body }) => mergePatch(live ?? {}, parseJson(body)) as KubeObject,
};

/** What the registry tells the field manager about a write that is not an apply (create, update, other patches). */
export interface UpdateInput {
  resource: ResourceKind;
  /** The stored object before the write (in the request's API version); undefined for a create. */
  live: KubeObject | undefined;
  /** The object about to be stored, after defaults and validation. */
  updated: KubeObject;
  fieldManager: string | undefined;
  subresource: string | undefined;
}

/**
 * The other half of server-side apply: the `managedFields` to store after a non-apply write, recording
 * `fieldManager`'s `Update` operation (undefined: keep what the object carries).
 */
export type UpdateRecorder = (input: UpdateInput) => unknown[] | undefined;

/** Set by the field manager module; until then non-apply writes keep the managedFields they carry. */
export const FIELD_MANAGER: { recordUpdate?: UpdateRecorder } = {};

/** The patch type for a Content-Type header (parameters such as `; charset=utf-8` ignored). */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return (Object.keys(PATCH_CONTENT_TYPES) as PatchType[]).find((t) => PATCH_CONTENT_TYPES[t] === media);
}

/** The one entry point: routes `input` to the patcher for `contentType`, refusing types it has none for. */
export function patchObject(contentType: string | undefined, input: PatchInput): KubeObject {
  const type = patchTypeOf(contentType);
  const patcher = type && PATCHERS[type];
  if (!patcher) {
    const accepted = (Object.keys(PATCHERS) as PatchType[]).map((t) => PATCH_CONTENT_TYPES[t]);
    throw unsupportedMediaType(contentType ?? '', accepted);
  }
  const patched = patcher(input);
  if (!patched || typeof patched !== 'object' || Array.isArray(patched) || !patched.metadata)
    throw badRequest('the patch did not produce an object with metadata');
  return patched;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}

/** RFC 7386: objects merge recursively, `null` deletes, anything else (arrays included) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
