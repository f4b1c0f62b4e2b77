// The resources the simulator serves: one catalog that routing, discovery, OpenAPI and the Table printers all read,
// so a kind is added in one place. Names, kinds and short names are those of the real apiserver.

export interface ResourceKind {
  /** API group; '' for the core group (`/api/v1`). */
  group: string;
  version: string;
  /** The plural in URLs and `details.kind` of Status errors. */
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  categories?: string[];
  /** Subresources with their own path (`services/status`). */
  subresources?: string[];
}

const WRITE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: readonly ResourceKind[] = [
  {
    group: '',
    version: 'v1',
    plural: 'services',
    singular: 'service',
    kind: 'Service',
    listKind: 'ServiceList',
    namespaced: true,
    shortNames: ['svc'],
    verbs: WRITE_VERBS.filter((v) => v !== 'deletecollection'),
    categories: ['all'],
    subresources: ['status'],
  },
  {
    group: '',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    listKind: 'EventList',
    namespaced: true,
    shortNames: ['ev'],
    verbs: WRITE_VERBS,
  },
  {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['get', 'list'],
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    singular: 'endpointslice',
    kind: 'EndpointSlice',
    listKind: 'EndpointSliceList',
    namespaced: true,
    shortNames: [],
    verbs: WRITE_VERBS,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    singular: 'lease',
    kind: 'Lease',
    listKind: 'LeaseList',
    namespaced: true,
    shortNames: [],
    verbs: WRITE_VERBS,
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    listKind: 'EventList',
    namespaced: true,
    // `ev` is the core group's alone: with it here too, kubectl warns that the short name is ambiguous.
    shortNames: [],
    verbs: WRITE_VERBS,
  },
];

/** `v1` for the core group, `group/version` otherwise: the `apiVersion` of the kind's objects. */
export function apiVersionOf(resource: ResourceKind): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

/** The resource served at `group/version` under `plural`, if any. */
export function findResource(group: string, version: string, plural: string): ResourceKind | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}
