// The OpenAPI documents kubectl reads, built from the kind schemas (schema.ts) of the catalog (resources.ts):
// - v3 (kubectl 1.27+): `GET /openapi/v3` lists one document per group-version, each fetched as JSON. kubectl finds
//   a kind by `x-kubernetes-group-version-kind`; a PATCH operation listing the `fieldValidation` query parameter tells
//   it the server validates fields (so `kubectl apply` sends `?fieldValidation=Strict` instead of checking locally);
//   one accepting `application/strategic-merge-patch+json` lets client-side apply build its three-way patch from
//   the `x-kubernetes-patch-merge-key`/`-strategy` of each field. `kubectl explain` reads the descriptions.
// - v2 (every kubectl, and the only one before 1.27): `GET /openapi/v2` as protobuf, the gnostic `openapi_v2.Document`
//   message. Old clients validate manifests against its definitions and `explain` from them.
// Field semantics come from schema.ts alone, so patching, apply and these documents cannot disagree.
import { createHash } from 'node:crypto';
import { encodeProto, type ProtoMessage } from './protobuf.ts';
import { RESOURCES, type ResourceKind } from './resources.ts';
import { kindSchema, type Schema } from './schema.ts';

/** The media type kubectl asks /openapi/v2 for, and the one the answer carries. */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const INFO = { title: 'Kubernetes', version: 'v1.32.0' };
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

type JsonSchema = Record<string, unknown>;

/** The definition name the apiserver gives a kind: io.k8s.api.<group's first label, or core>.<version>.<Kind>. */
export function definitionName(resource: Pick<ResourceKind, 'group' | 'version' | 'kind'>): string {
  const group = resource.group === '' ? 'core' : (resource.group.split('.')[0] as string);
  return `io.k8s.api.${group}.${resource.version}.${resource.kind}`;
}

/** The JSON schema of one field or kind, with the list and map semantics as x-kubernetes-* extensions. */
function jsonSchema(schema: Schema): JsonSchema {
  const described = schema.description ? { description: schema.description } : {};
  switch (schema.kind) {
    case 'scalar':
      if (schema.type === 'int-or-string') return { ...described, type: 'string', format: 'int-or-string' };
      return {
        ...described,
        type: schema.type,
        ...(schema.format ? { format: schema.format } : {}),
        ...(schema.default !== undefined ? { default: schema.default } : {}),
      };
    case 'any':
      return { ...described, type: 'object' };
    case 'map':
      return {
        ...described,
        type: 'object',
        additionalProperties: jsonSchema(schema.values),
        ...(schema.mapType ? { 'x-kubernetes-map-type': schema.mapType } : {}),
      };
    case 'list':
      return {
        ...described,
        type: 'array',
        items: jsonSchema(schema.items),
        'x-kubernetes-list-type': schema.listType,
        ...(schema.mapKeys ? { 'x-kubernetes-list-map-keys': schema.mapKeys } : {}),
        ...(schema.patchMergeKey ? { 'x-kubernetes-patch-merge-key': schema.patchMergeKey } : {}),
        ...(schema.patchStrategy ? { 'x-kubernetes-patch-strategy': schema.patchStrategy } : {}),
      };
    case 'struct':
      return {
        ...described,
        type: 'object',
        properties: Object.fromEntries(Object.entries(schema.fields).map(([k, v]) => [k, jsonSchema(v)])),
        ...(schema.required?.length ? { required: schema.required } : {}),
        ...(schema.patchStrategy ? { 'x-kubernetes-patch-strategy': schema.patchStrategy } : {}),
        ...(schema.gvk ? { 'x-kubernetes-group-version-kind': [schema.gvk] } : {}),
      };
  }
}

/** The path of a group-version in the v3 index: `api/v1`, `apis/discovery.k8s.io/v1`. */
export function groupVersionPath(resource: Pick<ResourceKind, 'group' | 'version'>): string {
  return resource.group === '' ? `api/${resource.version}` : `apis/${resource.group}/${resource.version}`;
}

const param = (name: string, where: 'query' | 'path', description: string) => ({
  name,
  in: where,
  description,
  ...(where === 'path' ? { required: true } : {}),
  schema: { type: 'string', uniqueItems: true },
});
const FIELD_VALIDATION = param(
  'fieldValidation',
  'query',
  'What to do about unknown or duplicate fields in the body: Ignore, Warn or Strict.',
);
const FIELD_MANAGER = param(
  'fieldManager',
  'query',
  'Name of whoever makes the change, as recorded in managedFields.',
);
const DRY_RUN = param('dryRun', 'query', 'All: check and answer as usual but store nothing.');
const FORCE = {
  ...param(
    'force',
    'query',
    'Apply only: take over fields owned by other managers instead of failing with a conflict.',
  ),
  schema: { type: 'boolean', uniqueItems: true },
};

/** The operations of one resource, keyed by path, as the apiserver publishes them. */
function operations(resource: ResourceKind): Record<string, Record<string, unknown>> {
  const ref = { $ref: `#/components/schemas/${definitionName(resource)}` };
  const gvk = { group: resource.group, version: resource.version, kind: resource.kind };
  const ok = (schema: unknown = ref) => ({
    '200': { description: 'OK', content: { 'application/json': { schema } } },
  });
  const op = (action: string, id: string, extra: Record<string, unknown> = {}) => ({
    operationId: id,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    responses: ok(),
    ...extra,
  });
  const body = (types: string[]) => ({
    requestBody: { required: true, content: Object.fromEntries(types.map((t) => [t, { schema: ref }])) },
  });
  const writes = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
  const has = (verb: string) => resource.verbs.includes(verb);
  const kind = resource.kind;
  const base = `/${groupVersionPath(resource)}${resource.namespaced ? '/namespaces/{namespace}' : ''}/${resource.plural}`;
  const scope = resource.namespaced ? [param('namespace', 'path', 'object name and auth scope')] : [];
  const named = [...scope, param('name', 'path', `name of the ${kind}`)];
  const item: Record<string, unknown> = { parameters: named };
  if (has('get')) item.get = op('get', `read${kind}`);
  if (has('update'))
    item.put = op('put', `replace${kind}`, { parameters: writes, ...body(['application/json']) });
  if (has('patch'))
    item.patch = op('patch', `patch${kind}`, { parameters: [...writes, FORCE], ...body(PATCH_TYPES) });
  if (has('delete')) item.delete = op('delete', `delete${kind}`, { parameters: [DRY_RUN] });
  const collection: Record<string, unknown> = { parameters: scope };
  if (has('list')) collection.get = op('list', `list${kind}`, { responses: ok({ type: 'object' }) });
  if (has('create'))
    collection.post = op('post', `create${kind}`, { parameters: writes, ...body(['application/json']) });
  const paths: Record<string, Record<string, unknown>> = { [base]: collection, [`${base}/{name}`]: item };
  if (resource.subresources?.includes('status')) {
    const status: Record<string, unknown> = { parameters: named, get: op('get', `read${kind}Status`) };
    if (has('update'))
      status.put = op('put', `replace${kind}Status`, { parameters: writes, ...body(['application/json']) });
    if (has('patch'))
      status.patch = op('patch', `patch${kind}Status`, {
        parameters: [...writes, FORCE],
        ...body(PATCH_TYPES),
      });
    paths[`${base}/{name}/status`] = status;
  }
  return paths;
}

function kindDefinitions(resources: readonly ResourceKind[]): Record<string, JsonSchema> {
  const definitions: Record<string, JsonSchema> = {};
  for (const resource of resources) {
    const schema = kindSchema(resource);
    if (schema) definitions[definitionName(resource)] = jsonSchema(schema);
  }
  return definitions;
}

const byGroupVersion = (): Map<string, ResourceKind[]> => {
  const groups = new Map<string, ResourceKind[]>();
  for (const r of RESOURCES) groups.set(groupVersionPath(r), [...(groups.get(groupVersionPath(r)) ?? []), r]);
  return groups;
};

let v3Documents: Map<string, { document: JsonSchema; hash: string }> | undefined;

function v3(): Map<string, { document: JsonSchema; hash: string }> {
  if (!v3Documents) {
    v3Documents = new Map();
    for (const [path, resources] of byGroupVersion()) {
      const document = {
        openapi: '3.0.0',
        info: INFO,
        paths: Object.assign({}, ...resources.map(operations)),
        components: { schemas: kindDefinitions(resources) },
      };
      const hash = createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
      v3Documents.set(path, { document, hash });
    }
  }
  return v3Documents;
}

/** `GET /openapi/v3`: each group-version's document and the URL (with its content hash) to fetch it from. */
export function openApiV3Index(): { paths: Record<string, { serverRelativeURL: string }> } {
  return {
    paths: Object.fromEntries(
      [...v3()].map(([path, { hash }]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` }]),
    ),
  };
}

/** `GET /openapi/v3/<path>` (`api/v1`, `apis/coordination.k8s.io/v1`); undefined for a group-version not served. */
export function openApiV3Document(path: string): JsonSchema | undefined {
  return v3().get(path.replace(/^\/+|\/+$/g, ''))?.document;
}

/** `GET /openapi/v2` as JSON (what the protobuf encodes). */
export function openApiV2Document(): JsonSchema {
  const paths: Record<string, unknown> = {};
  for (const resource of RESOURCES) {
    for (const [path, item] of Object.entries(operations(resource))) {
      const patch = item.patch as Record<string, unknown> | undefined;
      if (!patch) continue;
      paths[path] = {
        patch: {
          operationId: patch.operationId,
          consumes: PATCH_TYPES,
          produces: ['application/json'],
          parameters: (patch.parameters as Array<Record<string, unknown>>).map(({ schema, ...p }) => ({
            ...p,
            type: (schema as { type: string }).type,
          })),
          responses: { '200': { description: 'OK' } },
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': patch['x-kubernetes-group-version-kind'],
        },
      };
    }
  }
  return { swagger: '2.0', info: INFO, paths, definitions: kindDefinitions(RESOURCES) };
}

// Field numbers of gnostic's openapi_v2 messages (OpenAPIv2.proto).
const yamlAny = (value: unknown): ProtoMessage => [[2, toYaml(value)]];
const extensions = (schema: Record<string, unknown>, field: number): ProtoMessage =>
  Object.entries(schema)
    .filter(([k]) => k.startsWith('x-'))
    .map(
      ([name, value]) =>
        [
          field,
          [
            [1, name],
            [2, yamlAny(value)],
          ],
        ] as const,
    );

/** JSON is YAML: the vendor extensions' values travel as YAML text. */
function toYaml(value: unknown): string {
  return JSON.stringify(value);
}

function protoSchema(schema: JsonSchema): ProtoMessage {
  const out: Array<readonly [number, ProtoMessage[number][1]]> = [];
  if (typeof schema.$ref === 'string') out.push([1, schema.$ref]);
  if (typeof schema.format === 'string') out.push([2, schema.format]);
  if (typeof schema.description === 'string') out.push([4, schema.description]);
  if (schema.default !== undefined) out.push([5, yamlAny(schema.default)]);
  for (const r of (schema.required as string[] | undefined) ?? []) out.push([19, r]);
  if (schema.additionalProperties)
    out.push([21, [[1, protoSchema(schema.additionalProperties as JsonSchema)]]]);
  if (typeof schema.type === 'string') out.push([22, [[1, schema.type]]]);
  if (schema.items) out.push([23, [[1, protoSchema(schema.items as JsonSchema)]]]);
  if (schema.properties) {
    const named = Object.entries(schema.properties as Record<string, JsonSchema>).map(
      ([name, s]) =>
        [
          1,
          [
            [1, name],
            [2, protoSchema(s)],
          ],
        ] as const,
    );
    out.push([25, named]);
  }
  out.push(...extensions(schema, 31));
  return out;
}

function protoParameter(p: Record<string, unknown>): ProtoMessage {
  const sub: ProtoMessage = [
    [1, p.required === true ? true : undefined],
    [2, String(p.in)],
    [3, String(p.description ?? '')],
    [4, String(p.name)],
    [6, String(p.type ?? 'string')],
    [20, true],
  ];
  // ParametersItem.parameter → Parameter.non_body_parameter → NonBodyParameter.query_parameter_sub_schema
  return [[1, [[2, [[3, sub]]]]]];
}

function protoOperation(op: Record<string, unknown>): ProtoMessage {
  return [
    [5, String(op.operationId)],
    ...(op.produces as string[]).map((t) => [6, t] as const),
    ...(op.consumes as string[]).map((t) => [7, t] as const),
    ...(op.parameters as Array<Record<string, unknown>>).map((p) => [8, protoParameter(p)] as const),
    // Responses.response_code → NamedResponseValue{name, ResponseValue.response → Response{description}}
    [
      9,
      [
        [
          1,
          [
            [1, '200'],
            [2, [[1, [[1, 'OK']]]]],
          ],
        ],
      ],
    ],
    ...extensions(op, 13),
  ];
}

let v2Protobuf: Uint8Array | undefined;

/** `GET /openapi/v2` as kubectl asks for it: a gnostic openapi_v2.Document in protobuf. */
export function openApiV2Protobuf(): Uint8Array {
  if (!v2Protobuf) {
    const doc = openApiV2Document();
    const paths = Object.entries(doc.paths as Record<string, { patch: Record<string, unknown> }>).map(
      ([path, item]) =>
        [
          2,
          [
            [1, path],
            [2, [[8, protoOperation(item.patch)]]],
          ],
        ] as const,
    );
    const definitions = Object.entries(doc.definitions as Record<string, JsonSchema>).map(
      ([name, schema]) =>
        [
          1,
          [
            [1, name],
            [2, protoSchema(schema)],
          ],
        ] as const,
    );
    v2Protobuf = encodeProto([
      [1, '2.0'],
      [
        2,
        [
          [1, INFO.title],
          [2, INFO.version],
        ],
      ],
      [8, paths],
      [9, definitions],
    ]);
  }
  return v2Protobuf;
}
