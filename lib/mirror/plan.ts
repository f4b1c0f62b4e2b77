// What to change in the mirror's namespace so that it holds what the document asks for: applies of objects that are
// missing or differ, deletions of the mirror's own objects that nothing asks for. Objects without this instance's
// labels are never touched (a Service of the same name is a conflict, reported); deletions are held whole when they
// would remove more than the allowed share of the mirror's Services (the reconcile's guard); `prune: false` deletes
// no Service. Pure, with table and property tests.
import { describeHeldDeletion, heldDeletionShare } from '../util/deletion-guard.ts';
import {
  type DesiredService,
  type DesiredSlice,
  type DesiredState,
  MANAGED_BY,
  MIRROR_LABELS,
  SLICE_LABELS,
} from './desired.ts';

export type MirrorKind = 'Service' | 'EndpointSlice';

/** An object of the namespace as listed (any object the API returned, the mirror's or not). */
export interface ObservedObject {
  readonly kind: MirrorKind;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The whole object as listed, to compare with what the mirror would apply. */
  readonly body: unknown;
}

/** A complete list of the namespace's Services and EndpointSlices. */
export interface ObservedNamespace {
  readonly services: readonly ObservedObject[];
  readonly slices: readonly ObservedObject[];
}

export type MirrorAction =
  | {
      readonly kind: 'apply';
      readonly object: DesiredService | DesiredSlice;
      readonly entry: string;
      readonly why: 'create' | 'update';
    }
  | {
      readonly kind: 'delete';
      readonly target: { readonly kind: MirrorKind; readonly name: string; readonly uid: string };
      readonly why: string;
    };

export interface MirrorConflict {
  readonly entry: string;
  readonly kind: MirrorKind;
  readonly name: string;
  readonly reason: string;
}

/** The desired state's unmirrorable and skipped entries are passed through, for the log, metrics and dry-run. */
export interface MirrorPlan extends Pick<DesiredState, 'unmirrorable' | 'skipped'> {
  readonly actions: readonly MirrorAction[];
  readonly conflicts: readonly MirrorConflict[];
  /** Why the deletions of Services were held (the deletion guard); the rest of the plan goes ahead. */
  readonly held?: string;
}

export interface MirrorPolicy {
  /** The instance label's value (instanceLabel of the cluster id). */
  readonly instance: string;
  /** Delete the mirror's Services that no entry asks for (false for a first rollout). */
  readonly prune: boolean;
  /** Hold the deletions when they would remove more than this share of the mirror's Services. */
  readonly maxDeleteShare?: number;
}

/** Whether this mirror instance wrote the object: both ownership labels, this instance. */
export const ownedBy = (labels: Readonly<Record<string, string>>, instance: string): boolean =>
  labels[MIRROR_LABELS.managedBy] === MANAGED_BY && labels[MIRROR_LABELS.instance] === instance;

/**
 * Whether `observed` already holds everything in `wanted`: objects key by key, arrays element by element (same
 * length), other values equal. Fields the server adds (clusterIP, targetPort, defaults) do not count as changes.
 */
export function covers(wanted: unknown, observed: unknown): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(observed) &&
      observed.length === wanted.length &&
      wanted.every((w, i) => covers(w, observed[i]))
    );
  }
  if (typeof wanted === 'object' && wanted !== null) {
    if (typeof observed !== 'object' || observed === null || Array.isArray(observed)) return false;
    const o = observed as Record<string, unknown>;
    return Object.entries(wanted).every(([key, value]) => covers(value, o[key]));
  }
  return wanted === observed;
}

/** The parts of an object that the mirror sets (apiVersion, kind, name and namespace identify it). */
function content(object: DesiredService | DesiredSlice): unknown {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = object;
  return { metadata: { labels: metadata.labels, annotations: metadata.annotations }, ...rest };
}

const describeOwner = (labels: Readonly<Record<string, string>>): string =>
  labels[MIRROR_LABELS.managedBy] === MANAGED_BY
    ? `it belongs to another mirror instance ("${labels[MIRROR_LABELS.instance] ?? ''}")`
    : 'it exists without the labels of kube-zk-sync (someone else made it), so it is left alone';

const isServiceApply = (a: MirrorAction): boolean => a.kind === 'apply' && a.object.kind === 'Service';

export function planMirror(
  desired: DesiredState,
  observed: ObservedNamespace,
  policy: MirrorPolicy,
): MirrorPlan {
  const services = new Map(observed.services.map((o) => [o.name, o]));
  const slices = new Map(observed.slices.map((o) => [o.name, o]));
  const mine = (o: ObservedObject) => ownedBy(o.labels, policy.instance);
  const applies: MirrorAction[] = [];
  const conflicts: MirrorConflict[] = [];
  const keptServices = new Set<string>();
  const keptSlices = new Set<string>();

  const consider = (entry: string, object: DesiredService | DesiredSlice, existing?: ObservedObject) => {
    if (existing && !mine(existing)) {
      conflicts.push({
        entry,
        kind: object.kind,
        name: object.metadata.name,
        reason: describeOwner(existing.labels),
      });
      return false;
    }
    if (!existing) applies.push({ kind: 'apply', object, entry, why: 'create' });
    else if (!covers(content(object), existing.body))
      applies.push({ kind: 'apply', object, entry, why: 'update' });
    return true;
  };

  for (const { entry, service, slices: wanted } of desired.mirrored) {
    const name = service.metadata.name;
    // A Service the mirror may not write gets no slices either: they would add endpoints to someone else's Service.
    if (!consider(entry, service, services.get(name))) continue;
    keptServices.add(name);
    for (const slice of wanted) {
      if (consider(entry, slice, slices.get(slice.metadata.name))) keptSlices.add(slice.metadata.name);
    }
  }

  const serviceDeletes = observed.services.filter((o) => mine(o) && !keptServices.has(o.name));
  const ownedServices = observed.services.filter(mine).length;
  const heldShare = heldDeletionShare({
    deletes: serviceDeletes.length,
    owned: ownedServices,
    maxShare: policy.maxDeleteShare,
  });
  const deleting = policy.prune && heldShare === undefined;
  const deletes: MirrorAction[] = [];
  // Slices first: a Service is deleted only after nothing of it is left behind.
  for (const o of observed.slices) {
    if (!mine(o) || keptSlices.has(o.name)) continue;
    const service = o.labels[SLICE_LABELS.serviceName] ?? '';
    // Stale slices of a Service that stays are part of keeping its entry true; the rest go with their Service.
    const ofKept = keptServices.has(service);
    if (!ofKept && !deleting) continue;
    deletes.push({
      kind: 'delete',
      target: { kind: 'EndpointSlice', name: o.name, uid: o.uid },
      why: ofKept ? `no longer an endpoint group of Service ${service}` : `its Service ${service} is removed`,
    });
  }
  if (deleting) {
    for (const o of serviceDeletes) {
      deletes.push({
        kind: 'delete',
        target: { kind: 'Service', name: o.name, uid: o.uid },
        why: 'no mirrored entry asks for it any more',
      });
    }
  }
  return {
    // Services before their slices, so a slice never points at a Service that is not there yet.
    actions: [...applies.filter(isServiceApply), ...applies.filter((a) => !isServiceApply(a)), ...deletes],
    conflicts,
    unmirrorable: desired.unmirrorable,
    skipped: desired.skipped,
    ...(heldShare !== undefined && policy.maxDeleteShare !== undefined && policy.prune
      ? {
          held:
            `${describeHeldDeletion(serviceDeletes.length, "the mirror's Services", heldShare, policy.maxDeleteShare)}; ` +
            'check the registry document, then raise MAX_DELETE_SHARE (--max-delete-share) if this is intended',
        }
      : {}),
  };
}
