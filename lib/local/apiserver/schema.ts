// The shape of each kind the simulator serves, with the list semantics that the real types declare in their Go tags
// and OpenAPI extensions. Strategic merge patch reads `patchStrategy`/`patchMergeKey`, server-side apply reads
// `listType`/`mapKeys`/`mapType`, and the OpenAPI documents emit both as x-kubernetes-* extensions: one table, three
// readers. Field names, list semantics and defaults are those of the Kubernetes API reference (core/v1 Service,
// discovery.k8s.io/v1 EndpointSlice, coordination.k8s.io/v1 Lease, core/v1 and events.k8s.io/v1 Event, Namespace).
import type { ResourceKind } from './resources.ts';

export type ScalarType = 'string' | 'integer' | 'boolean' | 'number' | 'int-or-string';

interface Described {
  description?: string;
}

export interface ScalarSchema extends Described {
  kind: 'scalar';
  type: ScalarType;
  /** OpenAPI format: int32, int64, date-time. */
  format?: string;
  /** The value the apiserver fills in when the field is missing (SSA uses it for list-map keys). */
  default?: string | number | boolean;
}

export interface StructSchema extends Described {
  kind: 'struct';
  fields: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  /** `retainKeys`: a strategic merge patch may name the fields to keep (`$retainKeys`). */
  patchStrategy?: 'retainKeys';
  /** The kind's own group/version/kind, on top-level schemas only. */
  gvk?: { group: string; version: string; kind: string };
}

export interface MapSchema extends Described {
  kind: 'map';
  values: Schema;
  /** `atomic` maps are owned and replaced as a whole by SSA (Service spec.selector). Default granular. */
  mapType?: 'atomic' | 'granular';
}

export interface ListSchema extends Described {
  kind: 'list';
  items: Schema;
  /** SSA: atomic (replaced whole), set (scalars, merged by value), map (merged by `mapKeys`). */
  listType: 'atomic' | 'set' | 'map';
  mapKeys?: readonly string[];
  /** Strategic merge patch: `merge` merges lists by `patchMergeKey` (or by value for scalars); else replaced. */
  patchStrategy?: 'merge';
  patchMergeKey?: string;
}

/** Free-form JSON (managedFields' fieldsV1). */
export interface AnySchema extends Described {
  kind: 'any';
}

export type Schema = ScalarSchema | StructSchema | MapSchema | ListSchema | AnySchema;

const str = (description?: string, extra: Partial<ScalarSchema> = {}): ScalarSchema => ({
  kind: 'scalar',
  type: 'string',
  description,
  ...extra,
});
const int = (description?: string, format = 'int32'): ScalarSchema => ({
  kind: 'scalar',
  type: 'integer',
  format,
  description,
});
const bool = (description?: string): ScalarSchema => ({ kind: 'scalar', type: 'boolean', description });
const time = (description?: string): ScalarSchema => str(description, { format: 'date-time' });
const struct = (description: string, fields: Record<string, Schema>, required?: string[]): StructSchema => ({
  kind: 'struct',
  description,
  fields,
  ...(required ? { required } : {}),
});
const stringMap = (description: string, mapType?: 'atomic'): MapSchema => ({
  kind: 'map',
  values: str(),
  description,
  ...(mapType ? { mapType } : {}),
});
const atomicList = (items: Schema, description: string): ListSchema => ({
  kind: 'list',
  listType: 'atomic',
  items,
  description,
});
const mapList = (
  items: Schema,
  mapKeys: string[],
  description: string,
  patchMergeKey: string | undefined = mapKeys[0],
): ListSchema => ({
  kind: 'list',
  listType: 'map',
  mapKeys,
  items,
  description,
  ...(patchMergeKey ? { patchStrategy: 'merge' as const, patchMergeKey } : {}),
});

const managedFieldsEntry = struct(
  "One field manager's claim: which fields it owns, at which API version, written by which operation.",
  {
    manager: str('Name of the field manager that owns these fields.'),
    operation: str('How the fields were written: Apply or Update.'),
    apiVersion: str('API version in which the owned fields are expressed.'),
    time: time('When this entry was recorded.'),
    fieldsType: str('Encoding of the owned fields; always "FieldsV1".'),
    fieldsV1: {
      kind: 'any',
      description: 'The owned fields as a JSON tree in the FieldsV1 encoding.',
    },
    subresource: str('Subresource the write went through (such as status); empty for the main resource.'),
  },
);

const ownerReference = struct(
  'Points at an object that owns this one.',
  {
    apiVersion: str('apiVersion of the object pointed at.'),
    kind: str('kind of the object pointed at.'),
    name: str('name of the object pointed at.'),
    uid: str('uid of the object pointed at.'),
    controller: bool('True when the owner is the controller that manages this object.'),
    blockOwnerDeletion: bool(
      'Under foreground deletion, the owner stays in storage until this reference is gone.',
    ),
  },
  ['apiVersion', 'kind', 'name', 'uid'],
);

const OBJECT_META = struct('Standard metadata carried by every stored object.', {
  name: str('Object name; no two objects of a kind share one within a namespace.'),
  generateName: str('Prefix from which the server makes up a unique name when name is left empty.'),
  namespace: str('Namespace the object lives in; names are unique per namespace.'),
  selfLink: str('Deprecated; the server no longer fills it in.'),
  uid: str('Identifier the server gives the object at creation, never reused; read-only.'),
  resourceVersion: str(
    'Opaque token the server changes on every write, used for concurrency checks and watches; read-only.',
  ),
  generation: int('Counter the server bumps when the desired state changes; read-only.', 'int64'),
  creationTimestamp: time('Server clock time at which the object was created; read-only.'),
  deletionTimestamp: time(
    'Time the object is due to be removed, set by the server when a graceful delete starts; read-only.',
  ),
  deletionGracePeriodSeconds: int(
    'Seconds the object gets to shut down cleanly before removal; set by the server on delete.',
    'int64',
  ),
  labels: stringMap('Key/value tags used to group objects and to pick them with label selectors.'),
  annotations: stringMap('Free-form key/value data that tools keep on the object; not used for selection.'),
  ownerReferences: mapList(
    ownerReference,
    ['uid'],
    'Objects this one depends on; once all are gone it is garbage-collected.',
  ),
  finalizers: {
    kind: 'list',
    listType: 'set',
    items: str(),
    patchStrategy: 'merge',
    description:
      'Components that still have cleanup to do; the object is removed only when the list is empty.',
  },
  managedFields: atomicList(
    managedFieldsEntry,
    'Which field manager owns which fields, as server-side apply tracks them; seldom edited by hand.',
  ),
});

const objectReference = struct('Identifies another object, or a field inside it.', {
  kind: str('kind of the object pointed at.'),
  namespace: str('namespace of the object pointed at.'),
  name: str('name of the object pointed at.'),
  uid: str('uid of the object pointed at.'),
  apiVersion: str('apiVersion of the object pointed at.'),
  resourceVersion: str('resourceVersion of the object pointed at, when the reference is pinned to one.'),
  fieldPath: str(
    'Path to the part of the object meant, such as spec.containers{app}; empty for the whole object.',
  ),
});

const condition = struct(
  "One observed aspect of the object's state.",
  {
    type: str('Condition name in CamelCase, optionally with a domain prefix.'),
    status: str('True, False or Unknown.'),
    observedGeneration: int('metadata.generation the condition was computed from.', 'int64'),
    lastTransitionTime: time('When status last changed.'),
    reason: str('CamelCase token naming the cause of the last change.'),
    message: str('Details of the last change, for people.'),
  },
  ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
);

const servicePort = struct(
  'One port the Service serves.',
  {
    name: str('Port name, a DNS label; needed when the Service has several ports.'),
    protocol: str('TCP (when unset), UDP or SCTP.', {
      default: 'TCP',
    }),
    appProtocol: str('Application-level protocol hint for the port, such as http.'),
    port: int('Port number the Service listens on.'),
    targetPort: {
      kind: 'scalar',
      type: 'int-or-string',
      description: 'Port number, or named container port, on the selected pods that receives the traffic.',
    },
    nodePort: int(
      'Port opened on every node for NodePort and LoadBalancer Services; allocated when not given.',
    ),
  },
  ['port'],
);

const portStatus = struct(
  'Error state of one Service port.',
  {
    port: int('Number of the Service port this entry is about.'),
    protocol: str('Protocol of the Service port this entry is about.'),
    error: str('Problem found with the port, if any.'),
  },
  ['port', 'protocol'],
);

const loadBalancerIngress = struct('An address at which the load balancer takes traffic for the Service.', {
  ip: str('Address of an IP-based load balancer.'),
  hostname: str('DNS name of a DNS-based load balancer.'),
  ipMode: str('VIP or Proxy: how traffic to the ip is handled; only allowed together with ip.'),
  ports: atomicList(portStatus, 'State of each Service port on this address.'),
});

const SERVICE = struct('A stable name and set of ports in front of the pods a selector picks.', {
  spec: struct('Desired behaviour of the Service, written by its user.', {
    ports: mapList(
      servicePort,
      ['port', 'protocol'],
      'Ports the Service serves, one entry per port and protocol.',
      'port',
    ),
    selector: stringMap("Labels a pod must carry to get this Service's traffic.", 'atomic'),
    clusterIP: str(
      'Virtual IP of the Service inside the cluster; allocated when not given, None for a headless Service.',
    ),
    clusterIPs: atomicList(
      str(),
      "The Service's cluster IPs, one per IP family; the first equals clusterIP.",
    ),
    type: str('How the Service is reached: ClusterIP (when unset), NodePort, LoadBalancer or ExternalName.'),
    externalIPs: atomicList(str(), 'Extra addresses on which cluster nodes take traffic for this Service.'),
    sessionAffinity: str('ClientIP sends each client to the same pod every time; None does not.'),
    loadBalancerIP: str('Address asked of the load balancer (LoadBalancer only); deprecated.'),
    loadBalancerSourceRanges: atomicList(
      str(),
      'Client CIDRs the cloud load balancer lets through, where the platform supports it.',
    ),
    externalName: str('DNS name the Service resolves to (as a CNAME) when its type is ExternalName.'),
    externalTrafficPolicy: str(
      'Cluster or Local: whether traffic arriving on outside-facing addresses may go to pods on other nodes.',
    ),
    healthCheckNodePort: int('Node port the load balancer probes when externalTrafficPolicy is Local.'),
    publishNotReadyAddresses: bool('List the pods as endpoints whether or not they are ready.'),
    sessionAffinityConfig: struct('Settings for session affinity.', {
      clientIP: struct('Settings for ClientIP affinity.', {
        timeoutSeconds: int('How long, in seconds, a client stays with one pod.'),
      }),
    }),
    ipFamilies: atomicList(str(), 'IP families of the Service (IPv4, IPv6), in order.'),
    ipFamilyPolicy: str('SingleStack, PreferDualStack or RequireDualStack.'),
    allocateLoadBalancerNodePorts: bool('Whether a LoadBalancer Service gets node ports; true when unset.'),
    loadBalancerClass: str(
      "Load-balancer implementation that serves the Service; unset means the cloud provider's own.",
    ),
    internalTrafficPolicy: str(
      'Cluster or Local: whether traffic to the cluster IP may go to pods on other nodes.',
    ),
    trafficDistribution: str('Preference for spreading traffic over the endpoints, such as PreferClose.'),
  }),
  status: struct('Observed state of the Service, written by the system.', {
    loadBalancer: struct("State of the Service's load balancer.", {
      ingress: atomicList(loadBalancerIngress, 'Addresses of the load balancer.'),
    }),
    conditions: mapList(condition, ['type'], 'Observed conditions of the Service.'),
  }),
});

const ENDPOINT_SLICE = struct(
  "A share of a Service's backends, with the ports they serve.",
  {
    addressType: str('Kind of address in the slice: IPv4, IPv6 or FQDN.'),
    endpoints: atomicList(
      struct(
        'One backend of the Service.',
        {
          addresses: {
            kind: 'list',
            listType: 'set',
            items: str(),
            description: "Addresses of the backend, of the slice's address type.",
          },
          conditions: struct('Readiness of the backend.', {
            ready: bool('The backend should get traffic.'),
            serving: bool('The backend can handle traffic, even while shutting down.'),
            terminating: bool('The backend is shutting down.'),
          }),
          hostname: str('Host name of the backend, for DNS.'),
          targetRef: objectReference,
          deprecatedTopology: stringMap('Topology labels carried over from v1beta1; deprecated.'),
          nodeName: str('Node the backend runs on.'),
          zone: str('Zone the backend runs in.'),
          hints: struct('Hints for topology-aware routing.', {
            forZones: atomicList(
              struct('A zone whose clients should use this backend.', { name: str('Zone name.') }, ['name']),
              'Zones whose clients should use this backend.',
            ),
          }),
        },
        ['addresses'],
      ),
      'Backends in this slice, each listed once.',
    ),
    ports: atomicList(
      struct('A port every backend of the slice serves.', {
        name: str("Port name, matching the Service port's name."),
        protocol: str('TCP, UDP or SCTP.'),
        port: int('Port number on the backends.'),
        appProtocol: str('Application-level protocol hint for the port, such as http.'),
      }),
      'Ports served by every backend in the slice.',
    ),
  },
  ['addressType', 'endpoints'],
);

const LEASE = struct('A time-limited claim on something, such as leadership.', {
  spec: struct('Who holds the lease and for how long.', {
    holderIdentity: str('Identity of the current holder.'),
    leaseDurationSeconds: int('Seconds since the last renewal after which others may take the lease over.'),
    acquireTime: time('When the current holder took the lease.'),
    renewTime: time('When the current holder last renewed the lease.'),
    leaseTransitions: int('How many times the lease changed hands.'),
    strategy: str('How the leader is chosen in coordinated leader election.'),
    preferredHolder: str('A better-suited holder; the current one should let the lease go.'),
  }),
});

const eventSeries = (count: string, last: string) =>
  struct('Summary of an event that keeps recurring.', {
    count: int(count),
    lastObservedTime: time(last),
  });

const CORE_EVENT = struct(
  'A record of something that happened to an object in the cluster.',
  {
    involvedObject: objectReference,
    reason: str('Short CamelCase cause, for programs.'),
    message: str('Details, for people.'),
    source: struct('Who reported the event.', {
      component: str('Reporting component.'),
      host: str('Node the report came from.'),
    }),
    firstTimestamp: time('When the event was first seen.'),
    lastTimestamp: time('When the event was last seen.'),
    count: int('How many times the event happened.'),
    type: str('Normal or Warning; more may be added.'),
    eventTime: time('Precise time of the first sighting.'),
    series: eventSeries(
      'Occurrences so far, as of the last heartbeat.',
      'When the latest occurrence was seen.',
    ),
    action: str('What was done, or failed, to the object.'),
    related: objectReference,
    reportingComponent: str('Controller that sent the event, such as kubernetes.io/kubelet.'),
    reportingInstance: str("Which instance of that controller sent it, such as a kubelet's name."),
  },
  ['metadata', 'involvedObject'],
);

const EVENTS_EVENT = struct(
  'A record of something that happened to an object in the cluster.',
  {
    eventTime: time('Precise time of the first sighting; required.'),
    series: eventSeries(
      'Occurrences so far, as of the last heartbeat.',
      'When the latest occurrence was seen, as of the last heartbeat.',
    ),
    reportingController: str('Controller that sent the event, such as kubernetes.io/kubelet.'),
    reportingInstance: str("Which instance of that controller sent it, such as a kubelet's name."),
    action: str('What was done, or failed, to the regarding object.'),
    reason: str('Why the action happened, for people.'),
    regarding: objectReference,
    related: objectReference,
    note: str('Details, for people.'),
    type: str('Normal or Warning; more may be added.'),
    deprecatedSource: struct('Who reported the event.', {
      component: str('Reporting component.'),
      host: str('Node the report came from.'),
    }),
    deprecatedFirstTimestamp: time('First-seen time, kept for core/v1 Event compatibility.'),
    deprecatedLastTimestamp: time('Last-seen time, kept for core/v1 Event compatibility.'),
    deprecatedCount: int('Occurrence count, kept for core/v1 Event compatibility.'),
  },
  ['eventTime'],
);

const NAMESPACE = struct('A scope inside which object names are unique.', {
  spec: struct('Desired state of the namespace.', {
    finalizers: atomicList(str(), 'Tokens that must all be cleared before the namespace leaves storage.'),
  }),
  status: struct('Observed state of the namespace.', {
    phase: str('Active, or Terminating while it is being deleted.'),
    conditions: mapList(condition, ['type'], 'Latest observed conditions of the namespace.'),
  }),
});

const BODIES: Record<string, StructSchema> = {
  '/v1/Service': SERVICE,
  '/v1/Event': CORE_EVENT,
  '/v1/Namespace': NAMESPACE,
  'discovery.k8s.io/v1/EndpointSlice': ENDPOINT_SLICE,
  'coordination.k8s.io/v1/Lease': LEASE,
  'events.k8s.io/v1/Event': EVENTS_EVENT,
};

/** The whole object's schema for a kind of the catalog (apiVersion, kind, metadata and the kind's own fields). */
export function kindSchema(
  resource: Pick<ResourceKind, 'group' | 'version' | 'kind'>,
): StructSchema | undefined {
  const body = BODIES[`${resource.group}/${resource.version}/${resource.kind}`];
  if (!body) return undefined;
  return {
    ...body,
    gvk: { group: resource.group, version: resource.version, kind: resource.kind },
    fields: {
      apiVersion: str('Schema version of this object, such as v1 or group/version.'),
      kind: str('Type of this object, in CamelCase.'),
      metadata: OBJECT_META,
      ...body.fields,
    },
  };
}

/** The schema of `field` inside `schema` (a struct's field, a map's values), if known. */
export function fieldSchema(schema: Schema | undefined, field: string): Schema | undefined {
  if (schema?.kind === 'struct') return schema.fields[field];
  if (schema?.kind === 'map') return schema.values;
  return undefined;
}
