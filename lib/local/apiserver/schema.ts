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
  'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
  {
    manager: str('Manager is an identifier of the workflow managing these fields.'),
    operation: str(
      "Operation is the type of operation which lead to this ManagedFieldsEntry being created: 'Apply' or 'Update'.",
    ),
    apiVersion: str('APIVersion defines the version of this resource that this field set applies to.'),
    time: time('Time is the timestamp of when the ManagedFields entry was added.'),
    fieldsType: str(
      'FieldsType is the discriminator for the different fields format and version: "FieldsV1".',
    ),
    fieldsV1: {
      kind: 'any',
      description: 'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.',
    },
    subresource: str(
      'Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource.',
    ),
  },
);

const ownerReference = struct(
  'OwnerReference contains enough information to let you identify an owning object.',
  {
    apiVersion: str('API version of the referent.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent.'),
    controller: bool('If true, this reference points to the managing controller.'),
    blockOwnerDeletion: bool(
      'If true, AND if the owner has the "foregroundDeletion" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed.',
    ),
  },
  ['apiVersion', 'kind', 'name', 'uid'],
);

const OBJECT_META = struct(
  'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  {
    name: str('Name must be unique within a namespace.'),
    generateName: str(
      'GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.',
    ),
    namespace: str('Namespace defines the space within which each name must be unique.'),
    selfLink: str(
      'Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.',
    ),
    uid: str(
      'UID is the unique in time and space value for this object. Populated by the system. Read-only.',
    ),
    resourceVersion: str(
      'An opaque value that represents the internal version of this object. Populated by the system. Read-only.',
    ),
    generation: int(
      'A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.',
      'int64',
    ),
    creationTimestamp: time(
      'CreationTimestamp is a timestamp representing the server time when this object was created. Populated by the system. Read-only.',
    ),
    deletionTimestamp: time(
      'DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. Populated by the system when a graceful deletion is requested. Read-only.',
    ),
    deletionGracePeriodSeconds: int(
      'Number of seconds allowed for this object to gracefully terminate before it will be removed from the system.',
      'int64',
    ),
    labels: stringMap(
      'Map of string keys and values that can be used to organize and categorize (scope and select) objects.',
    ),
    annotations: stringMap(
      'Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata.',
    ),
    ownerReferences: mapList(ownerReference, ['uid'], 'List of objects depended by this object.'),
    finalizers: {
      kind: 'list',
      listType: 'set',
      items: str(),
      patchStrategy: 'merge',
      description:
        'Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.',
    },
    managedFields: atomicList(
      managedFieldsEntry,
      'ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.',
    ),
  },
);

const objectReference = struct(
  'ObjectReference contains enough information to let you inspect or modify the referred object.',
  {
    kind: str('Kind of the referent.'),
    namespace: str('Namespace of the referent.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent.'),
    apiVersion: str('API version of the referent.'),
    resourceVersion: str('Specific resourceVersion to which this reference is made, if any.'),
    fieldPath: str(
      'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.',
    ),
  },
);

const condition = struct(
  'Condition contains details for one aspect of the current state of this API Resource.',
  {
    type: str('type of condition in CamelCase or in foo.example.com/CamelCase.'),
    status: str('status of the condition, one of True, False, Unknown.'),
    observedGeneration: int(
      'observedGeneration represents the .metadata.generation that the condition was set based upon.',
      'int64',
    ),
    lastTransitionTime: time(
      'lastTransitionTime is the last time the condition transitioned from one status to another.',
    ),
    reason: str(
      "reason contains a programmatic identifier indicating the reason for the condition's last transition.",
    ),
    message: str('message is a human readable message indicating details about the transition.'),
  },
  ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
);

const servicePort = struct(
  "ServicePort contains information on service's port.",
  {
    name: str('The name of this port within the service. This must be a DNS_LABEL.'),
    protocol: str('The IP protocol for this port. Supports "TCP", "UDP", and "SCTP". Default is TCP.', {
      default: 'TCP',
    }),
    appProtocol: str('The application protocol for this port.'),
    port: int('The port that will be exposed by this service.'),
    targetPort: {
      kind: 'scalar',
      type: 'int-or-string',
      description: 'Number or name of the port to access on the pods targeted by the service.',
    },
    nodePort: int(
      'The port on each node on which this service is exposed when type is NodePort or LoadBalancer.',
    ),
  },
  ['port'],
);

const portStatus = struct(
  'PortStatus represents the error condition of a service port',
  {
    port: int('Port is the port number of the service port of which status is recorded here'),
    protocol: str('Protocol is the protocol of the service port of which status is recorded here'),
    error: str('Error is to record the problem with the service port'),
  },
  ['port', 'protocol'],
);

const loadBalancerIngress = struct(
  'LoadBalancerIngress represents the status of a load-balancer ingress point: traffic intended for the service should be sent to an ingress point.',
  {
    ip: str(
      'IP is set for load-balancer ingress points that are IP based (typically GCE or OpenStack load-balancers)',
    ),
    hostname: str(
      'Hostname is set for load-balancer ingress points that are DNS based (typically AWS load-balancers)',
    ),
    ipMode: str(
      'IPMode specifies how the load-balancer IP behaves, and may only be specified when the ip field is specified.',
    ),
    ports: atomicList(portStatus, 'Ports is a list of records of service ports'),
  },
);

const SERVICE = struct(
  'Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.',
  {
    spec: struct('ServiceSpec describes the attributes that a user creates on a service.', {
      ports: mapList(
        servicePort,
        ['port', 'protocol'],
        'The list of ports that are exposed by this service.',
        'port',
      ),
      selector: stringMap(
        'Route service traffic to pods with label keys and values matching this selector.',
        'atomic',
      ),
      clusterIP: str('clusterIP is the IP address of the service and is usually assigned randomly.'),
      clusterIPs: atomicList(
        str(),
        'ClusterIPs is a list of IP addresses assigned to this service, and are usually assigned randomly.',
      ),
      type: str(
        'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer.',
      ),
      externalIPs: atomicList(
        str(),
        'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
      ),
      sessionAffinity: str('Supports "ClientIP" and "None". Used to maintain session affinity.'),
      loadBalancerIP: str('Only applies to Service Type: LoadBalancer. Deprecated.'),
      loadBalancerSourceRanges: atomicList(
        str(),
        'If specified and supported by the platform, this will restrict traffic through the cloud-provider load-balancer will be restricted to the specified client IPs.',
      ),
      externalName: str(
        'externalName is the external reference that discovery mechanisms will return as an alias for this service (e.g. a DNS CNAME record).',
      ),
      externalTrafficPolicy: str(
        'externalTrafficPolicy describes how nodes distribute service traffic they receive on one of the Service\'s "externally-facing" addresses.',
      ),
      healthCheckNodePort: int('healthCheckNodePort specifies the healthcheck nodePort for the service.'),
      publishNotReadyAddresses: bool(
        'publishNotReadyAddresses indicates that any agent which deals with endpoints for this Service should disregard any indications of ready/not-ready.',
      ),
      sessionAffinityConfig: struct(
        'SessionAffinityConfig represents the configurations of session affinity.',
        {
          clientIP: struct(
            'ClientIPConfig represents the configurations of Client IP based session affinity.',
            {
              timeoutSeconds: int(
                'timeoutSeconds specifies the seconds of ClientIP type session sticky time.',
              ),
            },
          ),
        },
      ),
      ipFamilies: atomicList(
        str(),
        'IPFamilies is a list of IP families (e.g. IPv4, IPv6) assigned to this service.',
      ),
      ipFamilyPolicy: str(
        'IPFamilyPolicy represents the dual-stack-ness requested or required by this Service.',
      ),
      allocateLoadBalancerNodePorts: bool(
        'allocateLoadBalancerNodePorts defines if NodePorts will be automatically allocated for services with type LoadBalancer.',
      ),
      loadBalancerClass: str(
        'loadBalancerClass is the class of the load balancer implementation this Service belongs to.',
      ),
      internalTrafficPolicy: str(
        'InternalTrafficPolicy describes how nodes distribute service traffic they receive on the ClusterIP.',
      ),
      trafficDistribution: str(
        'TrafficDistribution offers a way to express preferences for how traffic is distributed to Service endpoints.',
      ),
    }),
    status: struct('ServiceStatus represents the current status of a service.', {
      loadBalancer: struct('LoadBalancerStatus represents the status of a load-balancer.', {
        ingress: atomicList(
          loadBalancerIngress,
          'Ingress is a list containing ingress points for the load-balancer.',
        ),
      }),
      conditions: mapList(condition, ['type'], 'Current service state'),
    }),
  },
);

const ENDPOINT_SLICE = struct(
  'EndpointSlice represents a set of service endpoints.',
  {
    addressType: str(
      'addressType specifies the type of address carried by this EndpointSlice: IPv4, IPv6, FQDN.',
    ),
    endpoints: atomicList(
      struct(
        'Endpoint represents a single logical "backend" implementing a service.',
        {
          addresses: {
            kind: 'list',
            listType: 'set',
            items: str(),
            description: 'addresses of this endpoint.',
          },
          conditions: struct('EndpointConditions represents the current condition of an endpoint.', {
            ready: bool('ready indicates that this endpoint is ready to receive traffic.'),
            serving: bool('serving indicates that this endpoint is able to receive traffic.'),
            terminating: bool('terminating indicates that this endpoint is terminating.'),
          }),
          hostname: str('hostname of this endpoint.'),
          targetRef: objectReference,
          deprecatedTopology: stringMap(
            'deprecatedTopology contains topology information part of the v1beta1 API.',
          ),
          nodeName: str('nodeName represents the name of the Node hosting this endpoint.'),
          zone: str('zone is the name of the Zone this endpoint exists in.'),
          hints: struct('EndpointHints provides hints describing how an endpoint should be consumed.', {
            forZones: atomicList(
              struct(
                'ForZone provides information about which zones should consume this endpoint.',
                { name: str('name represents the name of the zone.') },
                ['name'],
              ),
              'forZones indicates the zone(s) this endpoint should be consumed by.',
            ),
          }),
        },
        ['addresses'],
      ),
      'endpoints is a list of unique endpoints in this slice.',
    ),
    ports: atomicList(
      struct('EndpointPort represents a Port used by an EndpointSlice', {
        name: str('name represents the name of this port.'),
        protocol: str('protocol represents the IP protocol for this port.'),
        port: int('port represents the port number of the endpoint.'),
        appProtocol: str('The application protocol for this port.'),
      }),
      'ports specifies the list of network ports exposed by each endpoint in this slice.',
    ),
  },
  ['addressType', 'endpoints'],
);

const LEASE = struct('Lease defines a lease concept.', {
  spec: struct('LeaseSpec is a specification of a Lease.', {
    holderIdentity: str('holderIdentity contains the identity of the holder of a current lease.'),
    leaseDurationSeconds: int(
      'leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it.',
    ),
    acquireTime: time('acquireTime is a time when the current lease was acquired.'),
    renewTime: time('renewTime is a time when the current holder of a lease has last updated the lease.'),
    leaseTransitions: int('leaseTransitions is the number of transitions of a lease between holders.'),
    strategy: str('Strategy indicates the strategy for picking the leader for coordinated leader election.'),
    preferredHolder: str(
      'PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up.',
    ),
  }),
});

const eventSeries = (count: string, last: string) =>
  struct('EventSeries contain information on series of events.', {
    count: int(count),
    lastObservedTime: time(last),
  });

const CORE_EVENT = struct(
  'Event is a report of an event somewhere in the cluster.',
  {
    involvedObject: objectReference,
    reason: str(
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    message: str('A human-readable description of the status of this operation.'),
    source: struct('EventSource contains information for an event.', {
      component: str('Component from which the event is generated.'),
      host: str('Node name on which the event is generated.'),
    }),
    firstTimestamp: time('The time at which the event was first recorded.'),
    lastTimestamp: time('The time at which the most recent occurrence of this event was recorded.'),
    count: int('The number of times this event has occurred.'),
    type: str('Type of this event (Normal, Warning), new types could be added in the future'),
    eventTime: time('Time when this Event was first observed.'),
    series: eventSeries(
      'Number of occurrences in this series up to the last heartbeat time',
      'Time of the last occurrence observed',
    ),
    action: str('What action was taken/failed regarding to the Regarding object.'),
    related: objectReference,
    reportingComponent: str('Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
    reportingInstance: str('ID of the controller instance, e.g. `kubelet-xyzf`.'),
  },
  ['metadata', 'involvedObject'],
);

const EVENTS_EVENT = struct(
  'Event is a report of an event somewhere in the cluster.',
  {
    eventTime: time('eventTime is the time when this Event was first observed. It is required.'),
    series: eventSeries(
      'count is the number of occurrences in this series up to the last heartbeat time.',
      'lastObservedTime is the time when last Event from the series was seen before last heartbeat.',
    ),
    reportingController: str(
      'reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.',
    ),
    reportingInstance: str('reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`.'),
    action: str('action is what action was taken/failed regarding to the regarding object.'),
    reason: str('reason is why the action was taken. It is human-readable.'),
    regarding: objectReference,
    related: objectReference,
    note: str('note is a human-readable description of the status of this operation.'),
    type: str('type is the type of this event (Normal, Warning), new types could be added in the future.'),
    deprecatedSource: struct('EventSource contains information for an event.', {
      component: str('Component from which the event is generated.'),
      host: str('Node name on which the event is generated.'),
    }),
    deprecatedFirstTimestamp: time(
      'deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.',
    ),
    deprecatedLastTimestamp: time(
      'deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.',
    ),
    deprecatedCount: int(
      'deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type.',
    ),
  },
  ['eventTime'],
);

const NAMESPACE = struct('Namespace provides a scope for Names. Use of multiple namespaces is optional.', {
  spec: struct('NamespaceSpec describes the attributes on a Namespace.', {
    finalizers: atomicList(
      str(),
      'Finalizers is an opaque list of values that must be empty to permanently remove object from storage.',
    ),
  }),
  status: struct('NamespaceStatus is information about the current status of a Namespace.', {
    phase: str('Phase is the current lifecycle phase of the namespace.'),
    conditions: mapList(
      condition,
      ['type'],
      "Represents the latest available observations of a namespace's current state.",
    ),
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
      apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
      kind: str('Kind is a string value representing the REST resource this object represents.'),
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
