// The sync state of one cluster: the newest resourceVersion applied per Service, and tombstones for deleted
// Services. It is written in the same ZooKeeper transaction as the document, so the two never disagree, and it is
// what makes at-least-once, unordered delivery safe: an observation older than what was applied is stale.
import { compareResourceVersions } from '../events/resource-version.ts';

export interface SyncState {
  /** Service key → resourceVersion of the newest observation applied. */
  readonly services: Readonly<Record<string, string>>;
  /** Service key → resourceVersion at which it was seen gone, and when (ms since epoch) that was applied. */
  readonly tombstones: Readonly<Record<string, { readonly rv: string; readonly at: number }>>;
}

/** One thing the cluster told us: at `resourceVersion`, Service `key` was `value`, or gone (null). */
export interface Observation<T> {
  readonly key: string;
  readonly resourceVersion: string;
  readonly value: T | null;
}

export const emptySyncState: SyncState = { services: {}, tombstones: {} };

/** Tombstones outlive any event still in flight (EventBridge retries for 24 hours); a reconcile heals the rest. */
export const DEFAULT_TOMBSTONE_TTL_MS = 48 * 3600_000;

export class SyncStateError extends Error {
  override readonly name = 'SyncStateError';
}

export function parseSyncState(data: Buffer | string | null): SyncState {
  const text = data === null ? '' : data.toString();
  if (text.trim() === '') return emptySyncState;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyncStateError(`the sync state is not valid JSON (${(error as Error).message})`);
  }
  const { services, tombstones } = (value ?? {}) as Record<string, unknown>;
  if (
    typeof services !== 'object' ||
    services === null ||
    typeof tombstones !== 'object' ||
    tombstones === null
  ) {
    throw new SyncStateError('the sync state must be an object with "services" and "tombstones"');
  }
  for (const [key, rv] of Object.entries(services)) {
    if (typeof rv !== 'string')
      throw new SyncStateError(`the sync state's version of ${key} is not a string`);
  }
  for (const [key, t] of Object.entries(tombstones)) {
    const { rv, at } = (t ?? {}) as Record<string, unknown>;
    if (typeof rv !== 'string' || typeof at !== 'number') {
      throw new SyncStateError(`the sync state's tombstone of ${key} is not {"rv": string, "at": number}`);
    }
  }
  return value as SyncState;
}

const sortedRecord = <V>(record: Readonly<Record<string, V>>): Record<string, V> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Deterministic bytes (keys sorted), so an unchanged state is byte-identical. */
export function serializeSyncState(state: SyncState): string {
  return `${JSON.stringify({ services: sortedRecord(state.services), tombstones: sortedRecord(state.tombstones) })}\n`;
}

/** The newest observation per key; on equal versions the later one in the list wins. */
export function coalesce<T>(observations: Iterable<Observation<T>>): Map<string, Observation<T>> {
  const newest = new Map<string, Observation<T>>();
  for (const o of observations) {
    const seen = newest.get(o.key);
    if (!seen || compareResourceVersions(o.resourceVersion, seen.resourceVersion) >= 0) newest.set(o.key, o);
  }
  return newest;
}

export interface Admission<T> {
  /** Observations at least as new as the state: these are applied. */
  readonly admitted: ReadonlyMap<string, Observation<T>>;
  /** Observations older than what the state already holds: dropped. */
  readonly stale: readonly Observation<T>[];
  /** The state once the admitted observations are applied. */
  readonly next: SyncState;
}

/**
 * Coalesces observations per key and admits those that are not older than the state. An observation with the
 * same version as the state is admitted again (re-applying it changes nothing), which lets a reconcile re-map
 * every Service after a configuration change.
 */
export function admitObservations<T>(
  state: SyncState,
  observations: Iterable<Observation<T>>,
  now: number,
  tombstoneTtlMs = DEFAULT_TOMBSTONE_TTL_MS,
): Admission<T> {
  const services: Record<string, string> = { ...state.services };
  const tombstones: Record<string, { rv: string; at: number }> = {};
  for (const [key, t] of Object.entries(state.tombstones))
    if (now - t.at <= tombstoneTtlMs) tombstones[key] = t;
  const admitted = new Map<string, Observation<T>>();
  const stale: Observation<T>[] = [];
  for (const [key, o] of coalesce(observations)) {
    const known = services[key] ?? tombstones[key]?.rv;
    if (known !== undefined && compareResourceVersions(o.resourceVersion, known) < 0) {
      stale.push(o);
      continue;
    }
    admitted.set(key, o);
    if (o.value === null) {
      delete services[key];
      tombstones[key] = { rv: o.resourceVersion, at: now };
    } else {
      services[key] = o.resourceVersion;
      delete tombstones[key];
    }
  }
  return { admitted, stale, next: { services, tombstones } };
}
