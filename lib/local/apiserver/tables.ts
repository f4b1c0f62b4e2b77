// `kubectl get` output: the apiserver answers a list or get with a meta.k8s.io Table when the Accept header asks for
// one (`application/json;as=Table;v=v1;g=meta.k8s.io`), with the columns and cells of the Kubernetes printers for
// each kind. The server always fills every column, `-o wide` ones (priority 1) included; kubectl hides those unless
// asked. Cells follow the Kubernetes printers (pkg/printers/internalversion): Service, EndpointSlice, Lease, Event
// (core/v1 and events.k8s.io/v1 print the same), Namespace.
import type { ResourceKind } from './resources.ts';
import { StatusError } from './status-error.ts';

type Obj = Record<string, unknown>;

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: Obj;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** What an Accept header asks for: a Table (of that meta.k8s.io version) or the objects as JSON. */
export type Negotiated = { as: 'Table'; version: 'v1' | 'v1beta1' } | { as: 'json' };

/**
 * The first media range of `accept` the simulator can serve, in the client's order: `application/json` with
 * `as=Table;g=meta.k8s.io;v=v1|v1beta1` is a Table, plain `application/json` (or `*\/*`, or no header) the objects.
 * Throws a 406 StatusError when nothing listed can be served (e.g. only protobuf, or `as=PartialObjectMetadataList`).
 */
export function negotiate(accept: string | undefined): Negotiated {
  if (!accept || accept.trim() === '') return { as: 'json' };
  for (const range of accept.split(',')) {
    const [type = '', ...rawParams] = range.split(';').map((p) => p.trim());
    const params = new Map(
      rawParams.map((p) => {
        const [k = '', v = ''] = p.split('=').map((s) => s.trim());
        return [k.toLowerCase(), v] as const;
      }),
    );
    const json = ['application/json', 'application/*', '*/*'].includes(type.toLowerCase());
    if (!json) continue;
    const as = params.get('as');
    if (as === undefined) return { as: 'json' };
    const version = params.get('v');
    if (as === 'Table' && params.get('g') === 'meta.k8s.io' && (version === 'v1' || version === 'v1beta1')) {
      return { as: 'Table', version };
    }
  }
  throw new StatusError(
    'NotAcceptable',
    `only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io`,
  );
}

/** The `includeObject` query parameter; Metadata when absent, a 400 when it is none of the three. */
export function includeObjectParam(value: string | null | undefined): IncludeObject {
  if (value === null || value === undefined || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw new StatusError(
    'BadRequest',
    `includeObject: Unsupported value: "${value}": supported values: "Metadata", "None", "Object"`,
  );
}

export interface TableOptions {
  includeObject?: IncludeObject;
  /** meta.k8s.io version of the Table (from `negotiate`). */
  version?: 'v1' | 'v1beta1';
  /** The list's resourceVersion and continue token, copied to the Table's metadata. */
  resourceVersion?: string;
  continue?: string;
  /** The time AGE and LAST SEEN are measured to. */
  now?: Date;
  /**
   * Whether cells are computed as for `-o wide` (the apiserver always does, so EXTERNAL-IP is never cut); false
   * gives the client-side printer's 16-character cut of load-balancer addresses.
   */
  wide?: boolean;
}

interface Printer {
  columns: TableColumnDefinition[];
  cells(object: Obj, now: Date, wide: boolean): unknown[];
}

const column = (
  name: string,
  description: string,
  extra: Partial<TableColumnDefinition> = {},
): TableColumnDefinition => ({
  name,
  type: 'string',
  format: '',
  description,
  priority: 0,
  ...extra,
});
const NAME = column('Name', 'Object name, unique within its namespace.', { format: 'name' });
const AGE = column('Age', 'Time since the server created the object.');

const field = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Obj)[key] : undefined), o);
const text = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const name = (o: Obj): string => text(field(o, 'metadata', 'name'));
const age = (o: Obj, now: Date): string => since(field(o, 'metadata', 'creationTimestamp'), now);

/** Elapsed time as kubectl prints it (apimachinery's HumanDuration); `<unknown>` without a timestamp. */
function since(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return '<unknown>';
  return humanDuration(now.getTime() - at);
}

export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

const LOAD_BALANCER_WIDTH = 16;

function loadBalancerAddresses(service: Obj, wide: boolean): string {
  const addresses = new Set<string>();
  for (const ingress of list(field(service, 'status', 'loadBalancer', 'ingress'))) {
    const address = text(field(ingress, 'ip')) || text(field(ingress, 'hostname'));
    if (address) addresses.add(address);
  }
  const joined = [...addresses].sort().join(',');
  return !wide && joined.length > LOAD_BALANCER_WIDTH
    ? `${joined.slice(0, LOAD_BALANCER_WIDTH - 3)}...`
    : joined;
}

/** EXTERNAL-IP of a Service: external IPs; for a LoadBalancer its ingress addresses, `<pending>` before it has one. */
function serviceExternalIp(service: Obj, wide = true): string {
  const externalIPs = list(field(service, 'spec', 'externalIPs')).map(text);
  switch (text(field(service, 'spec', 'type')) || 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(service, wide);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return text(field(service, 'spec', 'externalName'));
    default:
      return '<unknown>';
  }
}

function servicePorts(service: Obj): string {
  const ports = list(field(service, 'spec', 'ports')).map((p) => {
    const protocol = text(field(p, 'protocol')) || 'TCP';
    const nodePort = Number(field(p, 'nodePort') ?? 0);
    return nodePort > 0
      ? `${text(field(p, 'port'))}:${nodePort}/${protocol}`
      : `${text(field(p, 'port'))}/${protocol}`;
  });
  return ports.length > 0 ? ports.join(',') : '<none>';
}

function selector(service: Obj): string {
  const entries = Object.entries((field(service, 'spec', 'selector') as Obj | undefined) ?? {});
  return entries.length > 0
    ? entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${text(v)}`)
        .join(',')
    : '<none>';
}

/** Up to three values then ` + N more...`; `<unset>` when there are none. */
function listWithMore(values: string[]): string {
  const max = 3;
  if (values.length > max) return `${values.slice(0, max).join(',')} + ${values.length - max} more...`;
  return values.length > 0 ? values.join(',') : '<unset>';
}

const SERVICE: Printer = {
  columns: [
    NAME,
    column('Type', 'How the Service is reached.'),
    column('Cluster-IP', 'Virtual IP of the Service inside the cluster.'),
    column('External-IP', 'Addresses from outside the cluster that reach the Service.'),
    column('Port(s)', 'Ports the Service serves.'),
    AGE,
    column('Selector', "Labels a pod must carry to get this Service's traffic.", {
      priority: 1,
    }),
  ],
  cells: (s, now, wide) => [
    name(s),
    text(field(s, 'spec', 'type')),
    text(list(field(s, 'spec', 'clusterIPs'))[0]) || '<none>',
    serviceExternalIp(s, wide),
    servicePorts(s),
    age(s, now),
    selector(s),
  ],
};

const ENDPOINT_SLICE: Printer = {
  columns: [
    NAME,
    column('AddressType', 'Kind of address in the slice.'),
    column('Ports', 'Ports served by every backend in the slice.'),
    column('Endpoints', 'Backends in this slice.'),
    AGE,
  ],
  cells: (e, now) => [
    name(e),
    text(field(e, 'addressType')),
    listWithMore(list(field(e, 'ports')).map((p) => text(field(p, 'port') ?? field(p, 'name')) || '*')),
    listWithMore(list(field(e, 'endpoints')).flatMap((ep) => list(field(ep, 'addresses')).map(text))),
    age(e, now),
  ],
};

const LEASE: Printer = {
  columns: [NAME, column('Holder', 'Identity of the current holder.'), AGE],
  cells: (l, now) => [name(l), text(field(l, 'spec', 'holderIdentity')), age(l, now)],
};

const NAMESPACE: Printer = {
  columns: [NAME, column('Status', 'Lifecycle phase of the namespace.'), AGE],
  cells: (n, now) => [name(n), text(field(n, 'status', 'phase')), age(n, now)],
};

const EVENT_COLUMNS = [
  column('Last Seen', 'When the event was last seen.'),
  column('Type', 'Normal or Warning.'),
  column('Reason', 'Short CamelCase cause, for programs.'),
  column('Object', 'Object the event concerns.'),
  column('Subobject', 'Part of the object the event concerns, if any.', { priority: 1 }),
  column('Source', 'Who reported the event.', { priority: 1 }),
  column('Message', 'Details, for people.'),
  column('First Seen', 'When the event was first seen.', { priority: 1 }),
  column('Count', 'How many times the event happened.', { priority: 1 }),
  column('Name', 'Name of the Event object.', { priority: 1, format: 'name' }),
];

/** The fields the Event printer reads, from a core/v1 Event or an events.k8s.io/v1 one (as the apiserver converts). */
interface EventView {
  firstTimestamp: unknown;
  lastTimestamp: unknown;
  eventTime: unknown;
  series: unknown;
  count: unknown;
  type: unknown;
  reason: unknown;
  object: unknown;
  source: { component: string; host: string };
  message: unknown;
}

function printEvent(view: EventView, e: Obj, now: Date): unknown[] {
  const first = view.firstTimestamp ? since(view.firstTimestamp, now) : since(view.eventTime, now);
  let last = view.lastTimestamp ? since(view.lastTimestamp, now) : first;
  let count = Number(view.count ?? 0);
  if (view.series) {
    last = since(field(view.series, 'lastObservedTime'), now);
    count = Number(field(view.series, 'count') ?? 0);
  } else if (count === 0) count = 1;
  const kind = text(field(view.object, 'kind')).toLowerCase();
  const objectName = text(field(view.object, 'name'));
  const component = view.source.component;
  const source = view.source.host ? `${component}, ${view.source.host}` : component;
  return [
    last,
    text(view.type),
    text(view.reason),
    objectName ? `${kind}/${objectName}` : kind,
    text(field(view.object, 'fieldPath')),
    source,
    text(view.message).trim(),
    first,
    count,
    name(e),
  ];
}

const CORE_EVENT: Printer = {
  columns: EVENT_COLUMNS,
  cells: (e, now) =>
    printEvent(
      {
        ...(e as unknown as EventView),
        object: e.involvedObject,
        source: {
          component: text(field(e, 'source', 'component')) || text(e.reportingComponent),
          host: text(field(e, 'source', 'host')) || text(e.reportingInstance),
        },
      },
      e,
      now,
    ),
};

const EVENTS_EVENT: Printer = {
  columns: EVENT_COLUMNS,
  cells: (e, now) =>
    printEvent(
      {
        firstTimestamp: e.deprecatedFirstTimestamp,
        lastTimestamp: e.deprecatedLastTimestamp,
        eventTime: e.eventTime,
        series: e.series,
        count: e.deprecatedCount,
        type: e.type,
        reason: e.reason,
        object: e.regarding,
        source: {
          component: text(field(e, 'deprecatedSource', 'component')) || text(e.reportingController),
          host: text(field(e, 'deprecatedSource', 'host')) || text(e.reportingInstance),
        },
        message: e.note,
      },
      e,
      now,
    ),
};

const PRINTERS: Record<string, Printer> = {
  '/Service': SERVICE,
  '/Event': CORE_EVENT,
  '/Namespace': NAMESPACE,
  'discovery.k8s.io/EndpointSlice': ENDPOINT_SLICE,
  'coordination.k8s.io/Lease': LEASE,
  'events.k8s.io/Event': EVENTS_EVENT,
};

/** A printer with only NAME and AGE, as the apiserver's default table for kinds without one. */
const DEFAULT: Printer = {
  columns: [NAME, AGE],
  cells: (o, now) => [name(o), age(o, now)],
};

/** The Table for `objects` of `resource` (a list: every item; a get: one object). */
export function toTable(
  resource: Pick<ResourceKind, 'group' | 'kind'>,
  objects: readonly Obj[],
  options: TableOptions = {},
): Table {
  const printer = PRINTERS[`${resource.group}/${resource.kind}`] ?? DEFAULT;
  const version = options.version ?? 'v1';
  const now = options.now ?? new Date();
  const include = options.includeObject ?? 'Metadata';
  const wide = options.wide ?? true;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: {
      ...(options.resourceVersion !== undefined ? { resourceVersion: options.resourceVersion } : {}),
      ...(options.continue ? { continue: options.continue } : {}),
    },
    columnDefinitions: printer.columns,
    rows: objects.map((o) => ({
      cells: printer.cells(o, now, wide),
      ...(include === 'Object'
        ? { object: o }
        : include === 'Metadata'
          ? {
              object: {
                kind: 'PartialObjectMetadata',
                apiVersion: `meta.k8s.io/${version}`,
                metadata: o.metadata as Obj,
              },
            }
          : {}),
    })),
  };
}
