// Events are one storage seen through two APIs, as in the apiserver: core/v1 Events are stored, and
// events.k8s.io/v1 reads and writes the same objects converted field by field.
import type { KubeObject } from './store.ts';

/** core/v1 field ↔ events.k8s.io/v1 field; the rest (reason, type, action, eventTime, series, related, …) keep their name. */
const RENAMED: readonly (readonly [string, string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function rename(
  object: KubeObject,
  pairs: readonly (readonly [string, string])[],
  apiVersion: string,
): KubeObject {
  const out: KubeObject = { ...object, kind: 'Event', apiVersion };
  for (const [from, to] of pairs) {
    delete out[from];
    if (object[from] !== undefined) out[to] = object[from];
  }
  return out;
}

/** The events.k8s.io/v1 view of a stored (core/v1) Event. */
export function toEventsApi(stored: KubeObject): KubeObject {
  const out = rename(stored, RENAMED, 'events.k8s.io/v1');
  // The core API's empty defaults have no counterpart in events.k8s.io.
  if (isEmpty(out.deprecatedSource)) delete out.deprecatedSource;
  if (out.deprecatedCount === 0) delete out.deprecatedCount;
  return out;
}

/** The stored (core/v1) form of an Event written through events.k8s.io/v1. */
export function fromEventsApi(written: KubeObject): KubeObject {
  return rename(
    written,
    RENAMED.map(([core, events]) => [events, core] as const),
    'v1',
  );
}

const isEmpty = (value: unknown): boolean =>
  value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
