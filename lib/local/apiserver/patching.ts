// The seam between the write machinery (registry.ts) and the patch algorithms (patch/): the registry turns a PATCH
// request into a new object through `patchObject`, and asks `recordUpdate` for the managedFields of every other
// write. The registry does everything around them (preconditions, system fields, defaults, validation,
// status/spec separation, storing); the algorithms only compute objects.
import { applyPatch, type JsonObject, recordWrite } from './patch/index.ts';
import type { ResourceKind } from './resources.ts';
import { StatusError } from './status-error.ts';
import type { KubeObject } from './store.ts';

export interface PatchInput {
  resource: ResourceKind;
  /** The object's name, from the URL. */
  name: string;
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
 * The `managedFields` to store after a write that is not an apply (create, update, the other patches), recording
 * `fieldManager`'s `Update` of the fields it changed, so a later server-side apply conflicts with what kubectl
 * edit, replace or create set, as in the real apiserver. Without a field manager nothing is recorded.
 */
export function recordUpdate({
  resource,
  live,
  updated,
  fieldManager,
  subresource,
}: UpdateInput): unknown[] | undefined {
  if (!fieldManager) return undefined;
  const recorded = recordWrite(resource, live as JsonObject | undefined, updated as unknown as JsonObject, {
    manager: fieldManager,
    ...(subresource && { subresource }),
  });
  return (recorded.metadata as { managedFields?: unknown[] } | undefined)?.managedFields;
}

/**
 * The one entry point: the patched object for `contentType`. Apply records its own managedFields; the other types
 * are recorded by the registry after defaults and validation, as every other write is. Errors from the patch
 * algorithms name the object they are about.
 */
export function patchObject(contentType: string | undefined, input: PatchInput): KubeObject {
  const { resource, name, live, body, fieldManager, force, subresource } = input;
  try {
    return applyPatch(resource, live as JsonObject | undefined, body, contentType, {
      ...(fieldManager && { manager: fieldManager }),
      force,
      ...(subresource && { subresource }),
    }) as unknown as KubeObject;
  } catch (error) {
    if (error instanceof StatusError) throw error.about(resource, name);
    throw error;
  }
}
