import { createHash } from 'node:crypto';
// The wire protocol: discovery (enough for kubectl), GET of one Service, paged lists served from one snapshot,
// and watches as chunked newline-delimited JSON events. Read-only: tests change Services in process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Faults, RequestKind } from './faults.ts';
import { parseFieldSelector, parseLabelSelector, SelectorError, type ServiceFilter } from './selector.ts';
import { type Change, keyOf, type Service, type ServiceStore } from './store.ts';

export const SIMULATED_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-kube-zk-sync-simulator' };

export interface RequestStats {
  requests: Record<RequestKind, number>;
  openWatches: number;
  watchesStarted: number;
  eventsSent: number;
  bookmarksSent: number;
  /** The latest requests (path and query), oldest first, so a test can see what a client asked for. */
  recent: { kind: RequestKind; url: string }[];
}

const RECENT_LIMIT = 500;

interface Status {
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; kind?: string };
}

type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: unknown };

/** One open watch response. */
class WatchStream {
  stalled = false;
  readonly #res: ServerResponse;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #stats: RequestStats;

  constructor(res: ServerResponse, stats: RequestStats) {
    this.#res = res;
    this.#stats = stats;
  }

  send(event: WatchEvent): void {
    if (this.stalled || this.#res.writableEnded || this.#res.destroyed) return;
    this.#res.write(`${JSON.stringify(event)}\n`);
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
  store: ServiceStore;
  stats: RequestStats;
  bookmarkIntervalMs: () => number;
  faults: Faults;
  /** Aborted when the simulator stops, so injected delays do not outlive it. */
  signal: AbortSignal;
  /** The uid of the kube-system namespace: the cluster's identity, which a rebuilt cluster does not share. */
  clusterUid: string;
}

export class ApiHandler {
  readonly #store: ServiceStore;
  readonly #stats: RequestStats;
  readonly #bookmarkIntervalMs: () => number;
  readonly #signal: AbortSignal;
  readonly #faults: Faults;
  readonly #watches = new Set<WatchStream>();
  readonly #clusterUid: string;

  constructor(options: ApiHandlerOptions) {
    this.#clusterUid = options.clusterUid;
    this.#store = options.store;
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
    const kind: RequestKind =
      route.kind === 'collection'
        ? isTrue(url.searchParams.get('watch'))
          ? 'watch'
          : 'list'
        : route.kind === 'namespace'
          ? 'get'
          : route.kind;
    this.#stats.requests[kind]++;
    this.#stats.recent.push({ kind, url: url.pathname + url.search });
    if (this.#stats.recent.length > RECENT_LIMIT) this.#stats.recent.shift();
    this.#serve(req, res, url, route, kind).catch((error: unknown) => {
      if (!res.headersSent) sendStatus(res, { code: 500, reason: 'InternalError', message: String(error) });
      else res.destroy();
    });
  };

  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    route: Route,
    kind: RequestKind,
  ): Promise<void> {
    if (req.method !== 'GET') {
      const message = `the simulator is read-only over HTTP (${req.method}): change Services through its API`;
      return sendStatus(res, { code: 405, reason: 'MethodNotAllowed', message });
    }
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
    try {
      switch (route.kind) {
        case 'discovery':
          return sendJson(res, 200, discovery(route.path, req.headers.host ?? ''));
        case 'get':
          return this.#get(res, route.namespace, route.name);
        case 'namespace':
          return this.#namespace(res, route.name);
        case 'collection':
          if (kind === 'watch')
            return this.#watch(res, route.namespace, url.searchParams, plan.gone, plan.stall);
          return this.#list(res, route.namespace, url.searchParams);
        default:
          return sendStatus(res, {
            code: 404,
            reason: 'NotFound',
            message: 'the server could not find the requested resource',
          });
      }
    } catch (error) {
      if (error instanceof SelectorError || error instanceof BadRequest) {
        return sendStatus(res, { code: 400, reason: 'BadRequest', message: error.message });
      }
      throw error;
    }
  }

  #get(res: ServerResponse, namespace: string, name: string) {
    const service = this.#store.get(namespace, name);
    if (!service)
      return sendStatus(res, { code: 404, reason: 'NotFound', message: `services "${name}" not found` });
    sendJson(res, 200, service);
  }

  /** A namespace exists when it is one every cluster has, or when a Service lives in it. */
  #namespace(res: ServerResponse, name: string) {
    if (this.#faults.refuseNamespaceRead()) {
      return sendStatus(res, {
        code: 403,
        reason: 'Forbidden',
        message: `namespaces "${name}" is forbidden: User "system:serviceaccount:simulator:client" cannot get resource "namespaces" in API group "" in the namespace "${name}"`,
        details: { name, kind: 'namespaces' },
      });
    }
    const exists =
      ['default', 'kube-system', 'kube-public'].includes(name) ||
      this.#store.list().some((s) => s.metadata.namespace === name);
    if (!exists)
      return sendStatus(res, { code: 404, reason: 'NotFound', message: `namespaces "${name}" not found` });
    const uid =
      name === 'kube-system'
        ? this.#clusterUid
        : createHash('sha256').update(`${this.#clusterUid}/${name}`).digest('hex').slice(0, 32);
    sendJson(res, 200, {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name, uid, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  #list(res: ServerResponse, namespace: string | undefined, query: URLSearchParams) {
    const filter = filterFor(namespace, query);
    const limit = parseCount(query.get('limit'), 'limit');
    const requested = query.get('resourceVersion') ?? '';
    const token = query.get('continue');
    let rv: number;
    let snapshot: Service[] | undefined;
    let after = '';
    if (token) {
      if (requested) throw new BadRequest('specifying resource version is not allowed when using continue');
      ({ rv, after } = decodeContinue(token));
      snapshot = this.#store.snapshotAt(rv);
      if (!snapshot) return sendStatus(res, expired(CONTINUE_EXPIRED));
    } else {
      const current = this.#store.resourceVersion;
      const asked = requested ? parseCount(requested, 'resourceVersion') : undefined;
      if (asked !== undefined && asked > current) {
        return sendStatus(res, {
          code: 504,
          reason: 'Timeout',
          message: `Too large resource version: ${asked}, current: ${current}`,
        });
      }
      // An exact read (explicit, or the legacy meaning of a non-zero resourceVersion with limit) comes from the
      // snapshot at that revision; any other read is served from the latest state.
      const match = query.get('resourceVersionMatch');
      const exact = match === 'Exact' || (!match && limit !== undefined && asked !== undefined && asked > 0);
      rv = exact && asked !== undefined ? asked : current;
      snapshot = this.#store.snapshotAt(rv);
      if (!snapshot) return sendStatus(res, expired('The resourceVersion for the provided list is too old.'));
    }
    const matching = snapshot.filter(
      (s) => keyOf(s.metadata.namespace, s.metadata.name) > after && filter(s),
    );
    const page = limit ? matching.slice(0, limit) : matching;
    const last = page[page.length - 1];
    const more = limit !== undefined && matching.length > limit && last !== undefined;
    const selective = query.has('labelSelector') || query.has('fieldSelector');
    sendJson(res, 200, {
      kind: 'ServiceList',
      apiVersion: 'v1',
      metadata: {
        resourceVersion: String(rv),
        ...(more && { continue: encodeContinue(rv, keyOf(last.metadata.namespace, last.metadata.name)) }),
        ...(more && !selective && { remainingItemCount: matching.length - page.length }),
      },
      // The apiserver leaves kind and apiVersion out of list items; clients take them from the list.
      items: page.map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item),
    });
  }

  #watch(
    res: ServerResponse,
    namespace: string | undefined,
    query: URLSearchParams,
    gone: 'stream' | 'http' | undefined,
    stall: boolean,
  ) {
    const filter = filterFor(namespace, query);
    const requested = query.get('resourceVersion') ?? '';
    const from = requested && requested !== '0' ? parseCount(requested, 'resourceVersion') : undefined;
    const timeoutSeconds = parseCount(query.get('timeoutSeconds'), 'timeoutSeconds');
    const changes = from === undefined ? [] : this.#store.changesSince(from);
    const tooOld: Status = expired(
      `too old resource version: ${requested || '0'} (${this.#store.compactedThrough + 1})`,
    );
    if (gone === 'http') return sendStatus(res, tooOld);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const watch = new WatchStream(res, this.#stats);
    this.#watches.add(watch);
    this.#stats.openWatches++;
    this.#stats.watchesStarted++;
    const unsubscribe = this.#store.subscribe((change) => {
      const event = eventFor(change, filter);
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
      for (const service of this.#store.list())
        if (filter(service)) watch.send({ type: 'ADDED', object: service });
    } else {
      for (const change of changes) {
        const event = eventFor(change, filter);
        if (event) watch.send(event);
      }
    }
    if (isTrue(query.get('allowWatchBookmarks'))) {
      watch.every(this.#bookmarkIntervalMs(), () =>
        watch.send({
          type: 'BOOKMARK',
          object: {
            kind: 'Service',
            apiVersion: 'v1',
            metadata: { resourceVersion: String(this.#store.resourceVersion) },
          },
        }),
      );
    }
    if (timeoutSeconds !== undefined && timeoutSeconds > 0)
      watch.after(timeoutSeconds * 1000, () => watch.end());
  }
}

/** The event a watcher with `filter` sees for a change: objects moving in or out of a selector are ADDED/DELETED. */
function eventFor(change: Change, filter: ServiceFilter): WatchEvent | undefined {
  const was = change.previous !== undefined && filter(change.previous);
  const is = filter(change.object);
  if (change.type === 'DELETED') return is ? { type: 'DELETED', object: change.object } : undefined;
  if (change.type === 'ADDED') return is ? { type: 'ADDED', object: change.object } : undefined;
  if (was && is) return { type: 'MODIFIED', object: change.object };
  if (is) return { type: 'ADDED', object: change.object };
  if (was) return { type: 'DELETED', object: change.object };
  return undefined;
}

type Route =
  | { kind: 'discovery'; path: string }
  | { kind: 'collection'; namespace?: string }
  | { kind: 'get'; namespace: string; name: string }
  | { kind: 'namespace'; name: string }
  | { kind: 'other' };

function routeOf(url: URL): Route {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (['/version', '/api', '/apis', '/api/v1'].includes(path)) return { kind: 'discovery', path };
  if (path === '/api/v1/services') return { kind: 'collection' };
  const namespaceGet = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
  if (namespaceGet) return { kind: 'namespace', name: decodeURIComponent(namespaceGet[1] as string) };
  const match = /^\/api\/v1\/namespaces\/([^/]+)\/services(?:\/([^/]+))?$/.exec(path);
  if (!match) return { kind: 'other' };
  const namespace = decodeURIComponent(match[1] as string);
  return match[2]
    ? { kind: 'get', namespace, name: decodeURIComponent(match[2]) }
    : { kind: 'collection', namespace };
}

function discovery(path: string, host: string): unknown {
  switch (path) {
    case '/version':
      return { ...SIMULATED_VERSION, platform: 'linux/amd64', goVersion: 'go1.23.0', compiler: 'gc' };
    case '/api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }],
      };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
    default:
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'v1',
        resources: [
          {
            name: 'services',
            singularName: 'service',
            namespaced: true,
            kind: 'Service',
            verbs: ['get', 'list', 'watch'],
            shortNames: ['svc'],
            categories: ['all'],
          },
        ],
      };
  }
}

function filterFor(namespace: string | undefined, query: URLSearchParams): ServiceFilter {
  const filters: ServiceFilter[] = [];
  if (namespace !== undefined) filters.push((s) => s.metadata.namespace === namespace);
  const labels = query.get('labelSelector');
  if (labels) filters.push(parseLabelSelector(labels));
  const fields = query.get('fieldSelector');
  if (fields) filters.push(parseFieldSelector(fields));
  return (service) => filters.every((f) => f(service));
}

class BadRequest extends Error {}

function parseCount(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value))
    throw new BadRequest(`${name}: Invalid value: "${value}": must be a non-negative integer`);
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
  throw new BadRequest(
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
