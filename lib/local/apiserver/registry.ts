// The verbs, as the apiserver's generic registry runs them: create, get, replace, patch and delete for every kind
// in the catalog, with system fields set by the server, defaults, validation, optimistic concurrency, status kept
// apart from spec, finalizers, and dry runs. The HTTP layer and the simulator's in-process API both call this.
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  type FieldError,
  forbidden,
  invalid,
  invalidValue,
  methodNotAllowed,
  notFound,
} from './errors.ts';
import { fromEventsApi, toEventsApi } from './events.ts';
import { patchObject, recordUpdate } from './patching.ts';
import { apiVersionOf, type ResourceKind } from './resources.ts';
import { defaultService, type Service, type ServiceAllocator, serviceErrors, timestamp } from './services.ts';
import type { KubeObject, ObjectMeta, ObjectStore } from './store.ts';
import { endpointSliceErrors, eventErrors, leaseErrors, metadataErrors } from './validation.ts';

/** What each kind does differently; everything else is the same for all. */
interface Strategy {
  /** `metadata.generation` starts at 1 and grows with each change of `spec`. */
  hasSpec: boolean;
  /** The kind has a `status` subresource: writes to the object keep the old status, status writes keep the rest. */
  statusSubresource: boolean;
  /** PUT without `metadata.resourceVersion` replaces whatever is stored. */
  allowUnconditionalUpdate: boolean;
  /** PUT of an object that does not exist creates it. */
  allowCreateOnUpdate: boolean;
  /** Defaults and allocations (mutates the draft). */
  prepare?(draft: KubeObject, old: KubeObject | undefined): void;
  /** Field errors (422), or a decoding problem (400) for values of the wrong type. */
  validate(draft: KubeObject, old: KubeObject | undefined, resource: ResourceKind): FieldError[];
}

export interface WriteOptions {
  /** `?dryRun=All`: everything but storing. */
  dryRun?: boolean;
  fieldManager?: string;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  dryRun?: string[];
}

/** The answer to a write: the object as the client sees it, and whether the write created it. */
export interface WriteResult {
  object: KubeObject;
  created: boolean;
}

/** A delete's answer: the object if it is still there (finalizers pending), or the last state of a removed one. */
export interface DeleteResult {
  object: KubeObject;
  removed: boolean;
}

/** Runs inside every Service write, after defaults and before validation (the cloud controller's admission). */
export type ServiceAdmission = (draft: Service, old: Service | undefined) => void;

export interface RegistryOptions {
  store: ObjectStore;
  allocator: ServiceAllocator;
  admitService?: ServiceAdmission;
}

export class Registry {
  readonly #store: ObjectStore;
  readonly #strategies: Record<string, Strategy>;
  readonly #admitService: ServiceAdmission | undefined;

  constructor(options: RegistryOptions) {
    this.#store = options.store;
    this.#admitService = options.admitService;
    const { allocator } = options;
    const plain = (validate: Strategy['validate']): Strategy => ({
      hasSpec: false,
      statusSubresource: false,
      allowUnconditionalUpdate: true,
      allowCreateOnUpdate: false,
      validate,
    });
    this.#strategies = {
      services: {
        hasSpec: true,
        statusSubresource: true,
        allowUnconditionalUpdate: true,
        allowCreateOnUpdate: true,
        prepare: (draft, old) => defaultService(draft, old as Service | undefined, allocator),
        validate: (draft, old) => serviceErrors(draft, old as Service | undefined),
      },
      endpointslices: plain((draft, old) => [
        ...metadataErrors(draft, 'dns1123-subdomain', true),
        ...endpointSliceErrors(draft, old),
      ]),
      leases: {
        ...plain((draft) => {
          const { decode, errors } = leaseErrors(draft);
          if (decode) throw badRequest(decode);
          return [...metadataErrors(draft, 'dns1123-subdomain', true), ...errors];
        }),
        hasSpec: true,
        allowUnconditionalUpdate: false,
      },
      events: {
        ...plain((draft, _old, resource) => [
          ...metadataErrors(draft, 'dns1123-subdomain', true),
          ...eventErrors(draft, resource.group !== ''),
        ]),
        allowCreateOnUpdate: true,
      },
    };
  }

  /** The object as `resource` serves it, or NotFound. */
  get(resource: ResourceKind, namespace: string | undefined, name: string): KubeObject {
    this.#strategy(resource);
    const stored = this.#store.get(resource.plural, namespace, name);
    if (!stored) throw notFound(resource, name);
    return present(resource, stored);
  }

  /** POST: the object must not exist (409 AlreadyExists); the server names it from generateName if asked. */
  create(
    resource: ResourceKind,
    namespace: string | undefined,
    body: unknown,
    options: WriteOptions = {},
  ): KubeObject {
    const strategy = this.#strategy(resource);
    const draft = this.#decode(resource, body);
    checkNamespace(resource, draft, namespace);
    if (!draft.metadata.name && draft.metadata.generateName)
      draft.metadata.name = `${draft.metadata.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    if (draft.metadata.name && this.#store.get(resource.plural, namespace, draft.metadata.name))
      throw alreadyExists(resource, draft.metadata.name);
    return this.#write(resource, strategy, undefined, draft, undefined, options).object;
  }

  /** PUT: replaces the object (409 Conflict when `metadata.resourceVersion` is stale), or creates it where allowed. */
  replace(
    resource: ResourceKind,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions & { subresource?: string } = {},
  ): WriteResult {
    const strategy = this.#strategy(resource, options.subresource);
    const draft = this.#decode(resource, body);
    placeAtUrl(resource, draft, namespace, name);
    const old = this.#store.get(resource.plural, namespace, name);
    if (!old) {
      if (!strategy.allowCreateOnUpdate || options.subresource) throw notFound(resource, name);
      return this.#write(resource, strategy, undefined, draft, undefined, options);
    }
    const rv = draft.metadata.resourceVersion;
    if (!rv && !strategy.allowUnconditionalUpdate)
      throw invalid(resource, name, [
        invalidValue('metadata.resourceVersion', 0, 'must be specified for an update'),
      ]);
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(resource, name);
    return this.#write(resource, strategy, old, draft, options.subresource, options);
  }

  /**
   * PATCH through the patch seam. A `metadata.resourceVersion` in the patch is a precondition (409 when stale);
   * `apply` of an object that does not exist creates it.
   */
  patch(
    resource: ResourceKind,
    namespace: string | undefined,
    name: string,
    contentType: string | undefined,
    body: string,
    options: WriteOptions & { subresource?: string; force?: boolean } = {},
  ): WriteResult {
    const strategy = this.#strategy(resource, options.subresource);
    const old = this.#store.get(resource.plural, namespace, name);
    const isApply = (contentType ?? '').startsWith('application/apply-patch');
    if (!old && !(isApply && !options.subresource)) throw notFound(resource, name);
    if (isApply && !options.fieldManager)
      throw badRequest(
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    const live = old ? (structuredClone(present(resource, old)) as KubeObject) : undefined;
    const patched = patchObject(contentType, {
      resource,
      name,
      live,
      body,
      fieldManager: options.fieldManager,
      force: options.force ?? false,
      subresource: options.subresource,
    });
    const draft = this.#decode(resource, patched);
    placeAtUrl(resource, draft, namespace, name);
    // An apply has recorded its managedFields already; the registry records those of every other write.
    const written = { ...options, applied: isApply };
    if (!old) return this.#write(resource, strategy, undefined, draft, undefined, written);
    const rv = draft.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(resource, name);
    return this.#write(resource, strategy, old, draft, options.subresource, written);
  }

  /**
   * DELETE: preconditions are checked first (409). An object with finalizers gets `deletionTimestamp` and stays
   * until they are removed; any other goes at once.
   */
  delete(
    resource: ResourceKind,
    namespace: string | undefined,
    name: string,
    deleteOptions: DeleteOptions = {},
    options: WriteOptions = {},
  ): DeleteResult {
    this.#strategy(resource);
    const old = this.#store.get(resource.plural, namespace, name);
    if (!old) throw notFound(resource, name);
    const { uid, resourceVersion } = deleteOptions.preconditions ?? {};
    if (uid && uid !== old.metadata.uid)
      throw conflict(
        resource,
        name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`,
      );
    if (resourceVersion && resourceVersion !== old.metadata.resourceVersion)
      throw conflict(
        resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    const dryRun = options.dryRun || deleteOptions.dryRun?.includes('All');
    if (old.metadata.finalizers?.length) {
      if (old.metadata.deletionTimestamp || dryRun) return { object: present(resource, old), removed: false };
      const draft = structuredClone(old) as KubeObject;
      draft.metadata.deletionTimestamp = timestamp();
      draft.metadata.deletionGracePeriodSeconds = 0;
      return { object: present(resource, this.#store.put(resource.plural, draft)), removed: false };
    }
    if (dryRun) return { object: present(resource, old), removed: true };
    const removed = this.#store.remove(resource.plural, namespace, name) as KubeObject;
    return { object: present(resource, removed), removed: true };
  }

  #strategy(resource: ResourceKind, subresource?: string): Strategy {
    const strategy = this.#strategies[resource.plural];
    if (!strategy) throw methodNotAllowed(resource);
    if (subresource !== undefined && !(subresource === 'status' && strategy.statusSubresource))
      throw notFoundSubresource(resource, subresource);
    return strategy;
  }

  /** The request body as a stored object: kind/apiVersion checked, Events converted to their stored shape. */
  #decode(resource: ResourceKind, body: unknown): KubeObject {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    const object = structuredClone(body) as KubeObject;
    const expected = apiVersionOf(resource);
    if (object.apiVersion !== undefined && object.apiVersion !== expected)
      throw badRequest(
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expected})`,
      );
    if (object.kind !== undefined && object.kind !== resource.kind)
      throw badRequest(
        `the kind in the data (${String(object.kind)}) does not match the expected kind (${resource.kind})`,
      );
    if (object.metadata !== undefined && (typeof object.metadata !== 'object' || object.metadata === null))
      throw badRequest('metadata: expected an object');
    object.metadata = { ...(object.metadata ?? {}) } as ObjectMeta;
    const stored = resource.plural === 'events' && resource.group !== '' ? fromEventsApi(object) : object;
    return {
      ...stored,
      kind: resource.kind,
      apiVersion: resource.group === 'events.k8s.io' ? 'v1' : expected,
    };
  }

  /** The shared tail of create, replace and patch: system fields, status rules, defaults, validation, storing. */
  #write(
    resource: ResourceKind,
    strategy: Strategy,
    old: KubeObject | undefined,
    input: KubeObject,
    subresource: string | undefined,
    options: WriteOptions & { applied?: boolean },
  ): WriteResult {
    let draft = input;
    if (old && subresource === 'status') {
      // A status write changes the status and nothing else.
      draft = { ...(structuredClone(old) as KubeObject), status: input.status };
    } else if (old && strategy.statusSubresource) {
      draft.status = structuredClone(old.status);
    } else if (!old && strategy.statusSubresource) {
      delete draft.status;
    }
    const meta = draft.metadata;
    if (old) {
      meta.uid = old.metadata.uid;
      meta.creationTimestamp = old.metadata.creationTimestamp;
      meta.namespace = old.metadata.namespace;
      setOrDelete(meta, 'deletionTimestamp', old.metadata.deletionTimestamp);
      setOrDelete(meta, 'deletionGracePeriodSeconds', old.metadata.deletionGracePeriodSeconds);
      setOrDelete(meta, 'generation', old.metadata.generation);
      meta.managedFields ??= old.metadata.managedFields;
      if (meta.managedFields === undefined) delete meta.managedFields;
    } else {
      meta.uid = randomUUID();
      meta.creationTimestamp = timestamp();
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
      delete meta.generation;
      if (strategy.hasSpec) meta.generation = 1;
    }
    meta.resourceVersion = '';
    strategy.prepare?.(draft, old);
    if (old && strategy.hasSpec && !isDeepStrictEqual(draft.spec, old.spec))
      meta.generation = (old.metadata.generation ?? 0) + 1;
    if (resource.plural === 'services' && this.#admitService)
      this.#admitService(draft as Service, old as Service | undefined);
    const errors = strategy.validate(draft, old, resource);
    if (old?.metadata.deletionTimestamp) {
      const before = new Set(old.metadata.finalizers ?? []);
      if ((meta.finalizers ?? []).some((f) => !before.has(f)))
        errors.push(
          forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted'),
        );
    }
    if (errors.length > 0) throw invalid(resource, meta.name, errors);
    if (meta.finalizers?.length === 0) delete meta.finalizers;
    if (!options.applied) {
      const managedFields = recordUpdate({
        resource,
        live: old && present(resource, old),
        updated: present(resource, draft),
        fieldManager: options.fieldManager,
        subresource,
      });
      if (managedFields) meta.managedFields = managedFields;
    }
    if (old) {
      meta.resourceVersion = old.metadata.resourceVersion;
      // An update that changes nothing writes nothing: same resourceVersion, no watch event.
      if (isDeepStrictEqual(draft, old)) return { object: present(resource, old), created: false };
      meta.resourceVersion = '';
    }
    if (options.dryRun) {
      if (old) meta.resourceVersion = old.metadata.resourceVersion;
      return { object: present(resource, draft), created: !old };
    }
    if (old?.metadata.deletionTimestamp && !meta.finalizers?.length) {
      // The last finalizer is gone: the update becomes the deletion the client asked for (one DELETED, as the
      // apiserver turns such an update into a delete).
      const removed = this.#store.remove(resource.plural, meta.namespace, meta.name) as KubeObject;
      return {
        object: present(resource, {
          ...draft,
          metadata: { ...meta, resourceVersion: removed.metadata.resourceVersion },
        }),
        created: false,
      };
    }
    return { object: present(resource, this.#store.put(resource.plural, draft)), created: !old };
  }
}

/** The object in the API version `resource` serves: stored Events are core/v1. */
export function present(resource: ResourceKind, stored: KubeObject): KubeObject {
  return resource.plural === 'events' && resource.group !== '' ? toEventsApi(stored) : stored;
}

function checkNamespace(resource: ResourceKind, draft: KubeObject, namespace: string | undefined): void {
  if (!resource.namespaced) {
    delete draft.metadata.namespace;
    return;
  }
  if (draft.metadata.namespace && namespace !== undefined && draft.metadata.namespace !== namespace)
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  if (namespace !== undefined) draft.metadata.namespace = namespace;
}

/** A PUT or PATCH body names the object of its URL, or none (then it takes the URL's name and namespace). */
function placeAtUrl(
  resource: ResourceKind,
  draft: KubeObject,
  namespace: string | undefined,
  name: string,
): void {
  if (draft.metadata.name && draft.metadata.name !== name)
    throw badRequest(
      `the name of the object (${draft.metadata.name}) does not match the name on the URL (${name})`,
    );
  draft.metadata.name = name;
  checkNamespace(resource, draft, namespace);
}

function setOrDelete<K extends keyof ObjectMeta>(
  meta: ObjectMeta,
  key: K,
  value: ObjectMeta[K] | undefined,
): void {
  if (value === undefined) delete meta[key];
  else meta[key] = value;
}

function notFoundSubresource(resource: ResourceKind, subresource: string): ApiError {
  return new ApiError({
    code: 404,
    reason: 'NotFound',
    message: `the server could not find the requested resource (${resource.plural}/${subresource})`,
  });
}
