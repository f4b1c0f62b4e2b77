// The sync state of one cluster, in a znode that only kube-zk-sync writes, in the same ZooKeeper transaction as the
// document, so the two never disagree. It holds what the document's other writers cannot take away:
// - which entries this cluster wrote (`owned`: name → Service and a fingerprint of the reader fields written), so
//   ownership survives writers that drop the marker field, and damage to the cluster's entries can be seen;
// - the newest resourceVersion applied per Service, and tombstones for deleted Services, which make at-least-once,
//   unordered delivery safe: an observation older than what was applied is stale;
// - the `floor`: the resourceVersion of the last complete list applied (a reconcile). Any observation older than
//   the floor is covered by that list, so versions and tombstones at or below it are dropped (the state holds only
//   what changed since the last reconcile), and an event older than the floor for a Service the state does not
//   know is stale, even when the state was lost and rebuilt;
// - what the cluster contributes to each shared entry (`contributions`, layout 3), since a writer that drops the
//   marker also drops the record of who contributed which endpoints;
// - the `identity` of the cluster (the kube-system namespace's uid), since resourceVersions are ordered only within
//   one etcd;
// - `outcomes`: for each Service in scope that is not published (skipped with an address to wait for or an opt-out,
//   invalid, in conflict, over a budget, its removal held), a digest of 8 characters of where it stands
//   (lib/registry/outcome.ts), so that a Service's owner is told of a change once, not at every step. Published
//   Services need no record (the document holds their entries), nor do the ones the filters leave out.
import { createHash } from 'node:crypto';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { compareResourceVersions } from '../events/resource-version.ts';
import type { RegistryEntry } from './document.ts';

export interface OwnedEntry {
  /** `namespace/name` of the Service the entry comes from. */
  readonly service: string;
  /** `fingerprint()` of the reader fields this cluster last wrote. */
  readonly fingerprint: string;
  /** The fingerprints it wrote before (newest first, at most PREVIOUS_FINGERPRINTS): an old copy may hold those. */
  readonly previous?: readonly string[];
  /**
   * Set when the entry is shared (lib/registry/shared.ts): what this cluster contributes to it, so that its part is
   * known again after a writer dropped the marker. The fingerprint is then the contribution's.
   */
  readonly contribution?: SharedContribution;
}

/** A cluster's part of a shared entry, as its state records it. */
export interface SharedContribution {
  readonly description: string;
  readonly endpoints: readonly string[];
}

/** How many earlier versions of an entry the cluster recognises as its own in an old copy of the document. */
export const PREVIOUS_FINGERPRINTS = 3;

/** Whether `print` is a version of this entry the cluster wrote. */
export const wroteVersion = (entry: OwnedEntry, print: string): boolean =>
  entry.fingerprint === print || (entry.previous ?? []).includes(print);

export interface ReleasedEntry extends OwnedEntry {
  /** When (ms since epoch) the cluster removed it. */
  readonly at: number;
}

export interface Tombstone {
  readonly rv: string;
  /** When (ms since epoch) the deletion was applied. */
  readonly at: number;
}

export interface SyncState {
  /** Service key → resourceVersion of the newest observation applied (only those newer than the floor). */
  readonly services: Readonly<Record<string, string>>;
  /** Service key → resourceVersion at which it was seen gone, and when that was applied. */
  readonly tombstones: Readonly<Record<string, Tombstone>>;
  /** Entry name → who wrote it. Absent when not known (a state from before ownership was recorded, or rebuilt). */
  readonly owned?: Readonly<Record<string, OwnedEntry>>;
  /** Entry name → an entry the cluster removed recently (see RELEASED_TTL_MS). */
  readonly released?: Readonly<Record<string, ReleasedEntry>>;
  /** resourceVersion of the last complete list applied, and when (ms since epoch). */
  readonly floor?: string;
  readonly floorAt?: number;
  /** The cluster's identity when the floor was taken (the kube-system namespace's uid). */
  readonly identity?: string;
  /** When a sync last asked for a reconcile to repair damage (ms since epoch): the rate limit of those requests. */
  readonly repairRequestedAt?: number;
  /** Service key → digest of its outcome, for the Services in scope that are not published (outcome.ts). */
  readonly outcomes?: Readonly<Record<string, string>>;
}

/** One thing the cluster told us: at `resourceVersion`, Service `key` was `value`, or gone (null). */
export interface Observation<T> {
  readonly key: string;
  readonly resourceVersion: string;
  readonly value: T | null;
  /** The identity of the cluster it was observed in, when the observer knew it. */
  readonly identity?: string;
}

export const emptySyncState: SyncState = { services: {}, tombstones: {} };

/** Tombstones outlive any event still in flight (EventBridge retries for 24 hours); a reconcile heals the rest. */
export const DEFAULT_TOMBSTONE_TTL_MS = 48 * 3600_000;

/**
 * How long the cluster recognises an entry it removed. A writer that writes back an old copy of the document does
 * so within seconds of reading it; an hour covers slow ones. After that, an old copy that comes back without its
 * marker reads as hand-made (a conflict to report, not an entry to remove).
 */
export const RELEASED_TTL_MS = 3600_000;

/** A short digest of the fields readers see: enough to tell whether someone else changed an entry. */
export function fingerprint(entry: RegistryEntry): string {
  return createHash('sha256')
    .update(JSON.stringify([entry.name, entry.description, entry.endpoints]))
    .digest('base64url')
    .slice(0, 12);
}

export class SyncStateError extends Error {
  override readonly name = 'SyncStateError';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a state. Every layout is read: the compact one (`"v": 2`), the same with the cluster's contributions to
 * shared entries (`"v": 3`), and the first one (`services` and `tombstones` only), which carries no ownership. An
 * empty or missing znode is the empty state.
 */
export function parseSyncState(data: Buffer | string | null): SyncState {
  const text = data === null ? '' : data.toString();
  if (text.trim() === '') return emptySyncState;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyncStateError(`it is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(value)) throw new SyncStateError('it is not a JSON object');
  return value.v === 2 || value.v === 3 ? readCompact(value) : readFirstLayout(value);
}

function readFirstLayout(value: Record<string, unknown>): SyncState {
  const { services, tombstones } = value;
  if (!isRecord(services) || !isRecord(tombstones)) {
    throw new SyncStateError('it must be an object with "services" and "tombstones"');
  }
  for (const [key, rv] of Object.entries(services)) {
    if (typeof rv !== 'string') throw new SyncStateError(`the version of ${key} is not a string`);
  }
  for (const [key, t] of Object.entries(tombstones)) {
    const { rv, at } = (t ?? {}) as Record<string, unknown>;
    if (typeof rv !== 'string' || typeof at !== 'number') {
      throw new SyncStateError(`the tombstone of ${key} is not {"rv": string, "at": number}`);
    }
  }
  return { services: services as Record<string, string>, tombstones: tombstones as SyncState['tombstones'] };
}

// zod/mini carries no messages of its own: English ones name what is wrong.
z.config(en());

/** The compact layout as written by serializeSyncState: per-key records as tuples. */
const compactSchema = z.object({
  v: z.union([z.literal(2), z.literal(3)]),
  identity: z.optional(z.string()),
  floor: z.optional(z.string()),
  floorAt: z.optional(z.number()),
  repairRequestedAt: z.optional(z.number()),
  owned: z.optional(z.record(z.string(), z.tuple([z.string(), z.string()], z.string()))),
  released: z.optional(z.record(z.string(), z.tuple([z.string(), z.string(), z.number()], z.string()))),
  /** Entry name → [description, ...endpoints] of the cluster's contribution to a shared entry it owns. */
  contributions: z.optional(z.record(z.string(), z.tuple([z.string()], z.string()))),
  services: z.record(z.string(), z.string()),
  tombstones: z.record(z.string(), z.tuple([z.string(), z.number()])),
  outcomes: z.optional(z.record(z.string(), z.string())),
});

// The fingerprints an entry had before follow the fixed fields of its record.
const previousOf = (rest: readonly unknown[]) => (rest.length > 0 ? { previous: rest as string[] } : {});

function readCompact(value: Record<string, unknown>): SyncState {
  const parsed = compactSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(state)'}: ${i.message}`);
    throw new SyncStateError(problems.join('; '));
  }
  const {
    owned,
    released,
    contributions,
    services,
    tombstones,
    identity,
    floor,
    floorAt,
    repairRequestedAt,
    outcomes,
  } = parsed.data;
  const contributionTo = (name: string) => {
    const c = contributions?.[name];
    return c ? { contribution: { description: c[0], endpoints: c.slice(1) as string[] } } : {};
  };
  const map = <V, W>(record: Record<string, V>, f: (v: V) => W) =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
  return {
    services,
    tombstones: map(tombstones, ([rv, at]) => ({ rv, at })),
    ...(owned
      ? {
          owned: Object.fromEntries(
            Object.entries(owned).map(([name, [service, print, ...rest]]) => [
              name,
              { service, fingerprint: print, ...previousOf(rest), ...contributionTo(name) },
            ]),
          ),
        }
      : {}),
    ...(released
      ? {
          released: map(released, ([service, print, at, ...rest]) => ({
            service,
            fingerprint: print,
            at,
            ...previousOf(rest),
          })),
        }
      : {}),
    ...(identity !== undefined ? { identity } : {}),
    ...(floor !== undefined ? { floor } : {}),
    ...(floorAt !== undefined ? { floorAt } : {}),
    ...(repairRequestedAt !== undefined ? { repairRequestedAt } : {}),
    ...(outcomes !== undefined ? { outcomes } : {}),
  };
}

const history = (o: OwnedEntry) => o.previous ?? [];

const sorted = <V, W>(record: Readonly<Record<string, V>>, map: (v: V) => W): Record<string, W> =>
  Object.fromEntries(
    Object.entries(record)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, map(v)]),
  );

/**
 * Deterministic, compact bytes (keys sorted, tuples for the per-key records): an unchanged state is identical. A
 * cluster that contributes to no shared entry writes layout 2, which the version before sharing reads.
 */
export function serializeSyncState(state: SyncState): string {
  const contributions = Object.fromEntries(
    Object.entries(state.owned ?? {}).flatMap(([name, o]) =>
      o.contribution ? [[name, o.contribution]] : [],
    ),
  );
  const shares = Object.keys(contributions).length > 0;
  return `${JSON.stringify({
    v: shares ? 3 : 2,
    ...(state.identity !== undefined ? { identity: state.identity } : {}),
    ...(state.floor !== undefined ? { floor: state.floor, floorAt: state.floorAt } : {}),
    ...(state.repairRequestedAt !== undefined ? { repairRequestedAt: state.repairRequestedAt } : {}),
    ...(state.owned ? { owned: sorted(state.owned, (o) => [o.service, o.fingerprint, ...history(o)]) } : {}),
    ...(shares
      ? { contributions: sorted(contributions, (c: SharedContribution) => [c.description, ...c.endpoints]) }
      : {}),
    ...(state.released && Object.keys(state.released).length > 0
      ? { released: sorted(state.released, (r) => [r.service, r.fingerprint, r.at, ...history(r)]) }
      : {}),
    services: sorted(state.services, (rv) => rv),
    tombstones: sorted(state.tombstones, (t) => [t.rv, t.at]),
    ...(state.outcomes && Object.keys(state.outcomes).length > 0
      ? { outcomes: sorted(state.outcomes, (d) => d) }
      : {}),
  })}\n`;
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
  /** Observations older than what the state already holds (or than its floor): dropped. */
  readonly stale: readonly Observation<T>[];
  /** The state's versions and tombstones once the admitted observations are applied. */
  readonly next: SyncState;
}

/** The version an observation of `key` must reach to be applied: what the state holds of it, or else the floor. */
export function knownVersion(state: SyncState, key: string): string | undefined {
  return state.services[key] ?? state.tombstones[key]?.rv ?? state.floor;
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
  const tombstones: Record<string, Tombstone> = {};
  for (const [key, t] of Object.entries(state.tombstones))
    if (now - t.at <= tombstoneTtlMs) tombstones[key] = t;
  const admitted = new Map<string, Observation<T>>();
  const stale: Observation<T>[] = [];
  for (const [key, o] of coalesce(observations)) {
    const known = knownVersion(state, key);
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
  return { admitted, stale, next: { ...state, services, tombstones } };
}

/**
 * The state with a new floor: versions and tombstones at or below it are dropped, since the complete list taken at
 * `floor` already covers every observation that old.
 */
export function raiseFloor(state: SyncState, floor: string, at: number, identity?: string): SyncState {
  const above = (rv: string) => compareResourceVersions(rv, floor) > 0;
  return {
    ...state,
    services: Object.fromEntries(Object.entries(state.services).filter(([, rv]) => above(rv))),
    tombstones: Object.fromEntries(Object.entries(state.tombstones).filter(([, t]) => above(t.rv))),
    floor,
    floorAt: at,
    ...(identity !== undefined ? { identity } : {}),
  };
}
