// JSON merge patch (RFC 7386): objects merge key by key, `null` deletes, anything else replaces.
import type { Json, JsonObject } from './json.ts';
import { isObject } from './json.ts';

/** `target` with `patch` merged in; neither input is changed. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
