import { createHash } from 'node:crypto';
// The wire protocol: discovery, reads (GET, paged lists served from one snapshot, watches as chunked
// newline-delimited JSON events) and writes (POST, PUT, PATCH, DELETE, and the status subresource) of every kind in
// the catalog. The verbs' rules are the registry's; this module parses requests and writes responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { discoveryDocument, isDiscoveryPath } from './discovery.ts';
import {
  ApiError,
  badRequest,
  methodNotAllowed,
  notSupported,
  resourceNotFound,
  type Status,
  unsupportedMediaType,
} from './errors.ts';
import type { Faults, RequestKind } from './faults.ts';
import {
  OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
  openApiV2Document,
  openApiV2Protobuf,
  openApiV3Document,
  openApiV3Index,
} from './openapi.ts';
import { type DeleteOptions, present, type Registry } from './registry.ts';
import { apiVersionOf, findResource, type ResourceKind } from './resources.ts';
import {
  type ObjectFilter,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  selectableFields,
} from './selector.ts';
import { timestamp } from './services.ts';
import { type Change, type KubeObject, keyOf, type ObjectStore } from './store.ts';
import { includeObjectParam, type Negotiated, negotiate, toTable } from './tables.ts';

export { SIMULATED_VERSION } from './discovery.ts';

export interface RequestStats {
  requests: Record<RequestKind, number>;
  openWatches: number;
  watchesStarted: number;
  eventsSent: number;
  bookmarksSent: number;
  /** The latest requests (path and query), oldest first, so a test can see what a client asked for. */
  recent: { kind: RequestKind; method: string; url: string }[];
}

const RECENT_LIMIT = 500;

type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: unknown };

/**
 * How a watch that asked for a Table (`kubectl get -w`) shows each event: the object as a one-row Table, a bookmark
 * as a Table without rows, an error as its Status. Undefined for a watch of plain objects.
 */
function tableEvents(
  resource: ResourceKind,
  table: Negotiated,
  query: URLSearchParams,
): ((event: WatchEvent) => WatchEvent) | undefined {
  if (table.as !== 'Table') return undefined;
  const includeObject = includeObjectParam(query.get('includeObject'));
  return (event) => {
    if (event.type === 'ERROR') return event;
    const object = event.object as KubeObject;
    const rows = event.type === 'BOOKMARK' ? [] : [object];
    const { resourceVersion } = object.metadata;
    return {
      type: event.type,
      object: toTable(resource, rows, { version: table.version, includeObject, resourceVersion }),
    };
  };
}

/** One open watch response. */
class WatchStream {
  stalled = false;
  readonly #res: ServerResponse;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #stats: RequestStats;
  readonly #shown: (event: WatchEvent) => WatchEvent;

  constructor(res: ServerResponse, stats: RequestStats, shown: (event: WatchEvent) => WatchEvent = (e) => e) {
    this.#res = res;
    this.#stats = stats;
    this.#shown = shown;
  }

  send(event: WatchEvent): void {
    if (this.stalled || this.#res.writableEnded || this.#res.destroyed) return;
    this.#res.write(`${JSON.stringify(this.#shown(event))}\n`);
    if (event.type === 'BOOKMARK') this.#stats.bookmarksSent++;
    else this.#stats.eventsSent++;
  }

  every(ms: number, action: () => void): void {
    this.#timers.push(setInterval(action, ms));
  }

  after(ms: number, action: () => void): void {
    this.#timers.push(setTimeout(action, ms));
  }

  /** Ends the stream cleanly (the client sees EOF), unless stalled: a stalled connection says nothing. */
  end(): void {
    if (!this.stalled) this.#res.end();
  }

  stall(): void {
    this.stalled = true;
    this.clearTimers();
  }

  drop(): void {
    this.#res.socket?.destroy();
  }

  clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.length = 0;
  }
}

export interface ApiHandlerOptions {
  store: ObjectStore;
  registry: Registry;
  stats: RequestStats;
  bookmarkIntervalMs: () => number;
  faults: Faults;
  /** Aborted when the simulator stops, so injected delays do not outlive it. */
  signal: AbortSignal;
  /** The uid of the kube-system namespace: the cluster's identity, which a rebuilt cluster does not share. */
  clusterUid: string;
}

/** The largest request body accepted, as the apiserver's limit for one object (3 MiB). */
const MAX_BODY_BYTES = 3 * 1024 * 1024;
const JSON_MEDIA_TYPES = ['application/json'];
const FIELD_VALIDATION = ['Ignore', 'Strict', 'Warn'];

export class ApiHandler {
  readonly #store: ObjectStore;
  readonly #registry: Registry;
  readonly #stats: RequestStats;
  readonly #bookmarkIntervalMs: () => number;
  readonly #signal: AbortSignal;
  readonly #faults: Faults;
  readonly #watches = new Set<WatchStream>();
  readonly #clusterUid: string;
  /** When the simulated cluster (and so its namespaces) came to be. */
  readonly #born = timestamp();

  constructor(options: ApiHandlerOptions) {
    this.#clusterUid = options.clusterUid;
    this.#store = options.store;
    this.#registry = options.registry;
    this.#stats = options.stats;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs;
    this.#faults = options.faults;
    this.#signal = options.signal;
  }

  dropAll(): number {
    const n = this.#watches.size;
    for (const watch of this.#watches) watch.drop();
    return n;
  }

  stallAll(): number {
    let n = 0;
    for (const watch of this.#watches) {
      if (!watch.stalled) n++;
      watch.stall();
    }
    return n;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const route = routeOf(url);
    const kind = requestKind(req.method ?? 'GET', route, url);
    this.#stats.requests[kind]++;
    this.#stats.recent.push({ kind, method: req.method ?? 'GET', url: url.pathname + url.search });
    if (this.#stats.recent.length > RECENT_LIMIT) this.#stats.recent.shift();
    this.#serve(req, res, url, route, kind).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof ApiError) return sendStatus(res, error.status);
      if (error instanceof SelectorError) return sendStatus(res, badRequest(error.message).status);
      sendStatus(res, { code: 500, reason: 'InternalError', message: String(error) });
    });
  };

  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    route: Route,
    kind: RequestKind,
  ): Promise<void> {
    const plan = this.#faults.planFor(kind);
    if (plan.delayMs > 0) {
      try {
        await delay(plan.delayMs, undefined, { signal: this.#signal });
      } catch {
        return;
      }
      if (res.destroyed) return;
    }
    if (plan.failStatus !== undefined)
      return sendStatus(res, injectedFailure(plan.failStatus), retryAfter(plan));
    const method = req.method ?? 'GET';
    if (route.kind === 'discovery') {
      if (method !== 'GET') throw methodNotAllowed();
      const document = discoveryDocument(route.path, req.headers.host ?? '');
      if (document === undefined) throw resourceNotFound();
      return sendJson(res, 200, document);
    }
    if (route.kind === 'openapi') {
      if (method !== 'GET') throw methodNotAllowed();
      return sendOpenApi(res, route.path, req.headers.accept);
    }
    if (route.kind === 'other') throw resourceNotFound();
    const { resource, namespace, name, subresource } = route;
    if (resource.plural === 'namespaces' && resource.group === '') {
      if (kind === 'watch') throw methodNotAllowed(resource);
      return this.#namespaces(res, method, name);
    }
    if (method === 'GET') {
      // kubectl get asks for a Table: the columns its printers show (TYPE, CLUSTER-IP, EXTERNAL-IP, …).
      const table = negotiate(req.headers.accept);
      if (kind === 'watch') return this.#watch(res, resource, namespace, url.searchParams, plan, table);
      const tableOf = (
        objects: readonly KubeObject[],
        metadata: { resourceVersion?: string; continue?: string },
      ) =>
        toTable(resource, objects as never[], {
          version: table.as === 'Table' ? table.version : 'v1',
          includeObject: includeObjectParam(url.searchParams.get('includeObject')),
          ...metadata,
        });
      if (name !== undefined) {
        const object = this.#registry.get(resource, namespace, name);
        return sendJson(res, 200, table.as === 'Table' ? tableOf([object], {}) : object);
      }
      const list = this.#list(resource, namespace, url.searchParams);
      if ('code' in list) return sendStatus(res, list);
      return sendJson(
        res,
        200,
        table.as === 'Table' ? tableOf(list.objects, list.metadata) : listBody(resource, list),
      );
    }
    const query = url.searchParams;
    const options = writeOptions(query);
    const body = await readBody(req);
    switch (method) {
      case 'POST': {
        if (name !== undefined || (namespace === undefined && resource.namespaced))
          throw methodNotAllowed(resource);
        return sendJson(
          res,
          201,
          this.#registry.create(resource, namespace, parseObject(req, body), options),
        );
      }
      case 'PUT': {
        if (name === undefined) throw methodNotAllowed(resource);
        const result = this.#registry.replace(resource, namespace, name, parseObject(req, body), {
          ...options,
          subresource,
        });
        return sendJson(res, result.created ? 201 : 200, result.object);
      }
      case 'PATCH': {
        if (name === undefined) throw methodNotAllowed(resource);
        const result = this.#registry.patch(resource, namespace, name, req.headers['content-type'], body, {
          ...options,
          subresource,
          force: isTrue(query.get('force')),
        });
        return sendJson(res, result.created ? 201 : 200, result.object);
      }
      case 'DELETE': {
        if (name === undefined || subresource !== undefined) throw methodNotAllowed(resource);
        const deleteOptions = body.trim() ? (parseObject(req, body) as DeleteOptions) : {};
        const result = this.#registry.delete(resource, namespace, name, deleteOptions, options);
        if (!result.removed) return sendJson(res, 200, result.object);
        return sendJson(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: {
            name,
            ...(resource.group && { group: resource.group }),
            kind: resource.plural,
            uid: result.object.metadata.uid,
          },
        });
      }
      default:
        throw methodNotAllowed(resource);
    }
  }

  /** Namespaces every cluster has, and those some object lives in; kube-system's uid is the cluster's identity. */
  #namespaces(res: ServerResponse, method: string, name: string | undefined) {
    if (method !== 'GET') throw methodNotAllowed(findResource('', 'v1', 'namespaces'));
    if (this.#faults.refuseNamespaceRead()) {
      const what = name === undefined ? '' : ` "${name}"`;
      return sendStatus(res, {
        code: 403,
        reason: 'Forbidden',
        message: `namespaces${what} is forbidden: User "system:serviceaccount:simulator:client" cannot ${name === undefined ? 'list' : 'get'} resource "namespaces" in API group ""${name === undefined ? ' at the cluster scope' : ` in the namespace "${name}"`}`,
        details: { ...(name !== undefined && { name }), kind: 'namespaces' },
      });
    }
    const existing = new Set([
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
      ...this.#store.namespacesInUse(),
    ]);
    if (name === undefined) {
      return sendJson(res, 200, {
        kind: 'NamespaceList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.#store.resourceVersion) },
        items: [...existing].sort().map((n) => this.#namespace(n)),
      });
    }
    if (!existing.has(name))
      return sendStatus(res, {
        code: 404,
        reason: 'NotFound',
        message: `namespaces "${name}" not found`,
        details: { name, kind: 'namespaces' },
      });
    sendJson(res, 200, { kind: 'Namespace', apiVersion: 'v1', ...this.#namespace(name) });
  }

  #namespace(name: string) {
    const uid =
      name === 'kube-system'
        ? this.#clusterUid
        : createHash('sha256').update(`${this.#clusterUid}/${name}`).digest('hex').slice(0, 32);
    return {
      metadata: { name, uid, creationTimestamp: this.#born, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
  }

  /** One page of a list, or the Status that refuses it. */
  #list(resource: ResourceKind, namespace: string | undefined, query: URLSearchParams): ListPage | Status {
    const filter = filterFor(resource, namespace, query);
    const limit = parseCount(query.get('limit'), 'limit');
    const requested = query.get('resourceVersion') ?? '';
    const token = query.get('continue');
    let rv: number;
    let snapshot: KubeObject[] | undefined;
    let after = '';
    if (token) {
      if (requested) throw badRequest('specifying resource version is not allowed when using continue');
      ({ rv, after } = decodeContinue(token));
      snapshot = this.#store.snapshotAt(resource.plural, rv);
      if (!snapshot) return expired(CONTINUE_EXPIRED);
    } else {
      const current = this.#store.resourceVersion;
      const asked = requested ? parseCount(requested, 'resourceVersion') : undefined;
      if (asked !== undefined && asked > current) {
        return {
          code: 504,
          reason: 'Timeout',
          message: `Too large resource version: ${asked}, current: ${current}`,
        };
      }
      // An exact read (explicit, or the legacy meaning of a non-zero resourceVersion with limit) comes from the
      // snapshot at that revision; any other read is served from the latest state.
      const match = query.get('resourceVersionMatch');
      const exact = match === 'Exact' || (!match && limit !== undefined && asked !== undefined && asked > 0);
      rv = exact && asked !== undefined ? asked : current;
      snapshot = this.#store.snapshotAt(resource.plural, rv);
      if (!snapshot) return expired('The resourceVersion for the provided list is too old.');
    }
    const matching = snapshot.filter(
      (o) => keyOf(o.metadata.namespace, o.metadata.name) > after && filter(o),
    );
    const page = limit ? matching.slice(0, limit) : matching;
    const last = page[page.length - 1];
    const more = limit !== undefined && matching.length > limit && last !== undefined;
    const selective = query.has('labelSelector') || query.has('fieldSelector');
    return {
      objects: page.map((object) => present(resource, object)),
      metadata: {
        resourceVersion: String(rv),
        ...(more && { continue: encodeContinue(rv, keyOf(last.metadata.namespace, last.metadata.name)) }),
      },
      ...(more && !selective && { remainingItemCount: matching.length - page.length }),
    };
  }

  #watch(
    res: ServerResponse,
    resource: ResourceKind,
    namespace: string | undefined,
    query: URLSearchParams,
    { gone, stall }: { gone?: 'stream' | 'http'; stall?: boolean },
    table: Negotiated,
  ) {
    const filter = filterFor(resource, namespace, query);
    const requested = query.get('resourceVersion') ?? '';
    const from = requested && requested !== '0' ? parseCount(requested, 'resourceVersion') : undefined;
    const timeoutSeconds = parseCount(query.get('timeoutSeconds'), 'timeoutSeconds');
    const storage = resource.plural;
    const changes = from === undefined ? [] : this.#store.changesSince(from, storage);
    const tooOld: Status = expired(
      `too old resource version: ${requested || '0'} (${this.#store.compactedThrough + 1})`,
    );
    if (gone === 'http') return sendStatus(res, tooOld);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const watch = new WatchStream(res, this.#stats, tableEvents(resource, table, query));
    this.#watches.add(watch);
    this.#stats.openWatches++;
    this.#stats.watchesStarted++;
    const unsubscribe = this.#store.subscribe((change) => {
      if (change.storage !== storage) return;
      const event = eventFor(resource, change, filter);
      if (event) watch.send(event);
    });
    res.on('close', () => {
      unsubscribe();
      watch.clearTimers();
      this.#watches.delete(watch);
      this.#stats.openWatches--;
    });
    if (stall) return watch.stall();
    if (gone === 'stream' || !changes) {
      watch.send({
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', ...tooOld },
      });
      return watch.end();
    }
    if (from === undefined) {
      for (const object of this.#store.list(storage))
        if (filter(object)) watch.send({ type: 'ADDED', object: present(resource, object) });
    } else {
      for (const change of changes) {
        const event = eventFor(resource, change, filter);
        if (event) watch.send(event);
      }
    }
    if (isTrue(query.get('allowWatchBookmarks'))) {
      watch.every(this.#bookmarkIntervalMs(), () =>
        watch.send({
          type: 'BOOKMARK',
          object: {
            kind: resource.kind,
            apiVersion: apiVersionOf(resource),
            metadata: { resourceVersion: String(this.#store.resourceVersion) },
          },
        }),
      );
    }
    if (timeoutSeconds !== undefined && timeoutSeconds > 0)
      watch.after(timeoutSeconds * 1000, () => watch.end());
  }
}

/** What a request is, for counting and for faults: reads of objects are list, watch or get; writes are other. */
function requestKind(method: string, route: Route, url: URL): RequestKind {
  if (route.kind === 'discovery' || route.kind === 'openapi') return 'discovery';
  if (route.kind === 'other' || method !== 'GET') return 'other';
  if (route.name !== undefined) return 'get';
  return isTrue(url.searchParams.get('watch')) ? 'watch' : 'list';
}

/** `?dryRun=All`, `?fieldManager=`, `?fieldValidation=` as the apiserver checks them. */
function writeOptions(query: URLSearchParams): { dryRun: boolean; fieldManager?: string } {
  const dryRun = query.getAll('dryRun');
  for (const value of dryRun)
    if (value !== 'All') throw badRequest(`dryRun: ${notSupported('dryRun', value, ['All']).message}`);
  const validation = query.get('fieldValidation');
  if (validation && !FIELD_VALIDATION.includes(validation))
    throw badRequest(
      `fieldValidation: ${notSupported('fieldValidation', validation, FIELD_VALIDATION).message}`,
    );
  const fieldManager = query.get('fieldManager') ?? undefined;
  if (fieldManager !== undefined && fieldManager.length > 128)
    throw badRequest('fieldManager: Too long: may not be more than 128 bytes');
  return { dryRun: dryRun.length > 0, ...(fieldManager !== undefined && { fieldManager }) };
}

/** The whole body, refused past the size limit. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new ApiError({
        code: 413,
        reason: 'RequestEntityTooLarge',
        message: 'Request entity too large: limit is 3145728',
      });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object body (POST, PUT, DELETE options): other media types get 415, bad JSON 400. */
function parseObject(req: IncomingMessage, body: string): unknown {
  const media = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!JSON_MEDIA_TYPES.includes(media) && media !== '') throw unsupportedMediaType(media, JSON_MEDIA_TYPES);
  try {
    return JSON.parse(body);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

/** The event a watcher with `filter` sees for a change: objects moving in or out of a selector are ADDED/DELETED. */
function eventFor(resource: ResourceKind, change: Change, filter: ObjectFilter): WatchEvent | undefined {
  const was = change.previous !== undefined && filter(change.previous);
  const is = filter(change.object);
  const type =
    change.type === 'DELETED' || change.type === 'ADDED'
      ? is
        ? change.type
        : undefined
      : was && is
        ? 'MODIFIED'
        : is
          ? 'ADDED'
          : was
            ? 'DELETED'
            : undefined;
  return type && { type, object: present(resource, change.object) };
}

type Route =
  | { kind: 'discovery'; path: string }
  | { kind: 'openapi'; path: string }
  | { kind: 'resource'; resource: ResourceKind; namespace?: string; name?: string; subresource?: string }
  | { kind: 'other' };

/**
 * `/api/v1/…` or `/apis/<group>/<version>/…`, then `<plural>[/<name>[/<subresource>]]` for cluster-wide and
 * cluster-scoped paths, or `namespaces/<ns>/<plural>[/<name>[/<subresource>]]` for namespaced ones.
 */
/**
 * OpenAPI, what `kubectl apply` validates against and `kubectl explain` reads: v3 as JSON (an index, then a
 * document per group-version), v2 as protobuf (all kubectl asks for) or JSON when that is what the client accepts.
 */
function sendOpenApi(res: ServerResponse, path: string, accept: string | undefined): void {
  if (path === '/openapi/v2' && (accept?.includes('protobuf') || !accept?.includes('json'))) {
    const bytes = openApiV2Protobuf();
    res.writeHead(200, {
      'Content-Type': OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
      'Content-Length': bytes.byteLength,
    });
    res.end(bytes);
    return;
  }
  const document =
    path === '/openapi/v2'
      ? openApiV2Document()
      : path === '/openapi/v3'
        ? openApiV3Index()
        : openApiV3Document(path.slice('/openapi/v3/'.length));
  if (!document) throw resourceNotFound();
  sendJson(res, 200, document);
}

interface ListPage {
  objects: KubeObject[];
  metadata: { resourceVersion: string; continue?: string };
  remainingItemCount?: number;
}

/** A list as JSON: the apiserver leaves kind and apiVersion out of the items; clients take them from the list. */
function listBody(resource: ResourceKind, { objects, metadata, remainingItemCount }: ListPage): unknown {
  return {
    kind: resource.listKind,
    apiVersion: apiVersionOf(resource),
    metadata: { ...metadata, ...(remainingItemCount !== undefined && { remainingItemCount }) },
    items: objects.map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item),
  };
}

function routeOf(url: URL): Route {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (isDiscoveryPath(path)) return { kind: 'discovery', path };
  if (path === '/openapi/v2' || path === '/openapi/v3' || path.startsWith('/openapi/v3/'))
    return { kind: 'openapi', path };
  const prefix = /^\/api\/(v1)\/(.+)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)\/(.+)$/.exec(path);
  if (!prefix) return { kind: 'other' };
  const groupVersion = prefix[1] as string;
  const [group, version] = groupVersion.includes('/')
    ? (groupVersion.split('/') as [string, string])
    : ['', groupVersion];
  const segments = (prefix[2] as string).split('/').map(decodeURIComponent);
  let namespace: string | undefined;
  if (segments[0] === 'namespaces' && segments.length >= 3) {
    namespace = segments[1];
    segments.splice(0, 2);
  }
  const [plural, name, subresource, ...extra] = segments;
  const resource = plural === undefined ? undefined : findResource(group, version, plural);
  if (!resource || extra.length > 0 || (namespace !== undefined && !resource.namespaced))
    return { kind: 'other' };
  return {
    kind: 'resource',
    resource,
    ...(namespace !== undefined && { namespace }),
    ...(name !== undefined && { name }),
    ...(subresource !== undefined && { subresource }),
  };
}

function filterFor(
  resource: ResourceKind,
  namespace: string | undefined,
  query: URLSearchParams,
): ObjectFilter {
  const filters: ObjectFilter[] = [];
  if (namespace !== undefined) filters.push((o) => o.metadata.namespace === namespace);
  const labels = query.get('labelSelector');
  if (labels) filters.push(parseLabelSelector(labels));
  const fields = query.get('fieldSelector');
  if (fields) filters.push(parseFieldSelector(fields, selectableFields(resource)));
  return (object) => filters.every((f) => f(object));
}

function parseCount(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value))
    throw badRequest(`${name}: Invalid value: "${value}": must be a non-negative integer`);
  return Number(value);
}

/** Kubernetes reads booleans with Go's strconv.ParseBool. */
function isTrue(value: string | null): boolean {
  return value !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
  'without the continue parameter.';

function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString(
    'base64url',
  );
}

function decodeContinue(token: string): { rv: number; after: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as {
      v?: unknown;
      rv?: unknown;
      start?: unknown;
    };
    if (
      parsed.v === 'meta.k8s.io/v1' &&
      Number.isSafeInteger(parsed.rv) &&
      typeof parsed.start === 'string'
    ) {
      return {
        rv: parsed.rv as number,
        after: parsed.start.endsWith('\u0000') ? parsed.start.slice(0, -1) : parsed.start,
      };
    }
  } catch {
    // fall through to the apiserver's answer
  }
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

function expired(message: string): Status {
  return { code: 410, reason: 'Expired', message };
}

function injectedFailure(code: number): Status {
  const reasons: Record<number, string> = {
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return {
    code,
    reason: reasons[code] ?? 'InternalError',
    message: `injected failure (HTTP ${code}) from the simulator`,
  };
}

function retryAfter(plan: { failStatus?: number }): Record<string, string> {
  return plan.failStatus === 429 || plan.failStatus === 503 ? { 'Retry-After': '1' } : {};
}

function sendStatus(res: ServerResponse, status: Status, headers: Record<string, string> = {}): void {
  sendJson(
    res,
    status.code,
    { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', ...status },
    headers,
  );
}

function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}
