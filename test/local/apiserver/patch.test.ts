// The patch types the apiserver accepts, each against what its specification (RFC 7386, RFC 6902, the Kubernetes
// strategic merge patch and server-side apply documentation) says it produces.
import { describe, expect, test } from 'vitest';
import {
  applyPatch,
  type JsonObject,
  jsonPatch,
  mergePatch,
  recordUpdate,
  recordWrite,
  StatusError,
  serverSideApply,
  strategicMergePatch,
} from '../../../lib/local/apiserver/patch/index.ts';
import { findResource, type ResourceKind } from '../../../lib/local/apiserver/resources.ts';
import { kindSchema, type Schema, type StructSchema } from '../../../lib/local/apiserver/schema.ts';

const services = findResource('', 'v1', 'services') as ResourceKind;
const serviceSchema = kindSchema(services) as StructSchema;

function service(spec: JsonObject, metadata: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', ...metadata },
    spec,
  };
}

function failure(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error('expected a StatusError');
}

describe('JSON merge patch (RFC 7386)', () => {
  test.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('RFC 7386 appendix A: %j + %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  test('leaves its inputs alone', () => {
    const target = { a: { b: 1 } };
    mergePatch(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { foo: ['bar', 'baz'], baz: 'qux', 'a/b': 1 };

  test('each operation as RFC 6902 section 4 and appendix A describe it', () => {
    expect(jsonPatch(doc, [{ op: 'add', path: '/foo/1', value: 'x' }])).toMatchObject({
      foo: ['bar', 'x', 'baz'],
    });
    expect(jsonPatch(doc, [{ op: 'add', path: '/foo/-', value: 'x' }])).toMatchObject({
      foo: ['bar', 'baz', 'x'],
    });
    expect(jsonPatch(doc, [{ op: 'remove', path: '/baz' }])).toEqual({ foo: ['bar', 'baz'], 'a/b': 1 });
    expect(jsonPatch(doc, [{ op: 'replace', path: '/a~1b', value: 2 }])).toMatchObject({ 'a/b': 2 });
    expect(jsonPatch(doc, [{ op: 'move', from: '/baz', path: '/moved' }])).toEqual({
      foo: ['bar', 'baz'],
      moved: 'qux',
      'a/b': 1,
    });
    expect(jsonPatch(doc, [{ op: 'copy', from: '/foo/0', path: '/first' }])).toMatchObject({
      first: 'bar',
      foo: ['bar', 'baz'],
    });
    expect(jsonPatch(doc, [{ op: 'test', path: '/foo', value: ['bar', 'baz'] }])).toEqual(doc);
    expect(jsonPatch(doc, [{ op: 'replace', path: '', value: { whole: true } }])).toEqual({ whole: true });
  });

  test.each([
    ['a failed test', [{ op: 'test', path: '/baz', value: 'nope' }]],
    ['removing a missing key', [{ op: 'remove', path: '/missing' }]],
    ['replacing a missing key', [{ op: 'replace', path: '/missing', value: 1 }]],
    ['adding under a missing parent', [{ op: 'add', path: '/missing/child', value: 1 }]],
    ['an index past the end', [{ op: 'add', path: '/foo/5', value: 1 }]],
    ['an unknown op', [{ op: 'frobnicate', path: '/baz' }]],
  ])('%s is the apiserver 422 and changes nothing, even after operations that applied', (_, ops) => {
    const before = structuredClone(doc);
    const error = failure(() => jsonPatch(doc, [{ op: 'add', path: '/new', value: 1 }, ...(ops as never[])]));
    expect(error.code).toBe(422);
    expect(error.status).toMatchObject({ reason: 'Invalid', code: 422 });
    expect(error.anonymous).toBe(true);
    expect(doc).toEqual(before);
  });

  test('a body that is not a list of operations is a 400', () => {
    const live = service({ type: 'ClusterIP' });
    const error = failure(() => applyPatch(services, live, '{"op":"add"}', 'application/json-patch+json'));
    expect(error.code).toBe(400);
    expect(error.status.reason).toBe('BadRequest');
  });
});

describe('strategic merge patch', () => {
  const live = service(
    {
      type: 'ClusterIP',
      selector: { app: 'web', tier: 'front' },
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
      ],
      externalIPs: ['10.0.0.1', '10.0.0.2'],
    },
    { annotations: { a: '1', b: '2' }, finalizers: ['x', 'y'] },
  );
  const smp = (patch: JsonObject) => strategicMergePatch(live, patch, serviceSchema);

  test('Service spec.ports merge by port: one entry changes, the other stays in place', () => {
    const out = smp({ spec: { ports: [{ port: 443, targetPort: 9443 }] } });
    expect((out.spec as JsonObject).ports).toEqual([
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
      { name: 'https', port: 443, protocol: 'TCP', targetPort: 9443 },
    ]);
  });

  test('$patch: delete removes a port by its merge key; a new one goes before the live ones, as the apiserver orders it', () => {
    const out = smp({
      spec: {
        ports: [
          { port: 80, $patch: 'delete' },
          { port: 9090, name: 'metrics' },
        ],
      },
    });
    expect(((out.spec as JsonObject).ports as JsonObject[]).map((p) => p.port)).toEqual([9090, 443]);
  });

  test('a new list item keeps neither nulls nor directives', () => {
    const out = smp({ spec: { ports: [{ port: 7000, name: null, $retainKeys: ['port'] }] } });
    expect(((out.spec as JsonObject).ports as JsonObject[])[0]).toEqual({ port: 7000 });
  });

  test('$patch: replace in a list replaces it whole', () => {
    const out = smp({ spec: { ports: [{ $patch: 'replace' }, { port: 7000 }] } });
    expect((out.spec as JsonObject).ports).toEqual([{ port: 7000 }]);
  });

  test('$setElementOrder/ports orders the merged list as kubectl apply asks', () => {
    const out = smp({ spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }] } });
    expect(((out.spec as JsonObject).ports as JsonObject[]).map((p) => p.port)).toEqual([443, 80]);
  });

  test('$deleteFromPrimitiveList removes values from a merged list of scalars; new values are added once', () => {
    const out = smp({ metadata: { '$deleteFromPrimitiveList/finalizers': ['x'], finalizers: ['y', 'z'] } });
    expect((out.metadata as JsonObject).finalizers).toEqual(['y', 'z']);
  });

  test('null deletes a map key; maps such as the selector merge key by key', () => {
    const out = smp({ metadata: { annotations: { a: null, c: '3' } }, spec: { selector: { tier: null } } });
    expect((out.metadata as JsonObject).annotations).toEqual({ b: '2', c: '3' });
    expect((out.spec as JsonObject).selector).toEqual({ app: 'web' });
  });

  test('a list without a merge strategy (externalIPs) is replaced', () => {
    const out = smp({ spec: { externalIPs: ['10.0.0.3'] } });
    expect((out.spec as JsonObject).externalIPs).toEqual(['10.0.0.3']);
  });

  test('$patch: replace on a map replaces it; $patch: delete empties it', () => {
    expect(smp({ spec: { selector: { $patch: 'replace', only: 'this' } } }).spec).toMatchObject({
      selector: { only: 'this' },
    });
    expect((smp({ spec: { selector: { $patch: 'delete' } } }).spec as JsonObject).selector).toEqual({});
  });

  test('$retainKeys clears the keys it does not name, and a patch key it does not name is a 400', () => {
    const schema: Schema = {
      kind: 'struct',
      fields: { strategy: { kind: 'struct', patchStrategy: 'retainKeys', fields: {} } },
    };
    const out = strategicMergePatch(
      { strategy: { type: 'A', a: 1, b: 2 } },
      { strategy: { $retainKeys: ['type', 'b'], type: 'B' } },
      schema,
    );
    expect(out).toEqual({ strategy: { type: 'B', b: 2 } });
    expect(
      failure(() => strategicMergePatch({ s: {} }, { s: { $retainKeys: ['x'], y: 1 } }, schema)).code,
    ).toBe(400);
  });

  test('a patch that is not an object is a 400 through applyPatch', () => {
    expect(
      failure(() => applyPatch(services, live, '[1]', 'application/strategic-merge-patch+json')).code,
    ).toBe(400);
    expect(
      failure(() => applyPatch(services, live, '{not json', 'application/strategic-merge-patch+json')).code,
    ).toBe(400);
  });

  test('unknown kinds get JSON merge patch semantics', () => {
    const unknown = {
      group: 'example.com',
      version: 'v1',
      plural: 'widgets',
      singular: 'widget',
      kind: 'Widget',
      listKind: 'WidgetList',
      namespaced: true,
      shortNames: [],
      verbs: [],
    };
    const out = applyPatch(
      unknown,
      { spec: { list: [1, 2], m: { a: 1 } } },
      '{"spec":{"list":[3],"m":{"b":2}}}',
      'application/strategic-merge-patch+json',
    );
    expect(out).toEqual({ spec: { list: [3], m: { a: 1, b: 2 } } });
  });
});

describe('server-side apply', () => {
  const t0 = new Date('2026-01-01T00:00:00.123Z');
  const port = (p: number, targetPort: number) => ({ port: p, targetPort });
  const manifest = (ports: JsonObject[], labels: JsonObject = { app: 'web' }) =>
    service({ type: 'ClusterIP', ports }, { labels });
  const apply = (live: JsonObject | undefined, applied: JsonObject, manager: string, force = false) =>
    serverSideApply(live, applied, serviceSchema, { manager, force, now: t0, hasStatus: true });
  const managed = (o: JsonObject) => (o.metadata as JsonObject).managedFields as JsonObject[];

  test('creating records an Apply entry whose FieldsV1 keys ports by port and the defaulted protocol', () => {
    const out = apply(undefined, manifest([port(80, 8080)]), 'kubectl');
    expect(managed(out)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        time: '2026-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } },
            'f:type': {},
          },
        },
      },
    ]);
    expect(out.spec).toEqual({ type: 'ClusterIP', ports: [port(80, 8080)] });
  });

  test('another manager applying a different value conflicts (409, a cause per field); the same value is shared', () => {
    const first = apply(undefined, manifest([port(80, 8080)]), 'kubectl');
    const error = failure(() => apply(first, manifest([port(80, 9090)]), 'controller'));
    expect(error.code).toBe(409);
    expect(error.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl": .spec.ports[port=80,protocol="TCP"].targetPort',
    );
    expect(error.about(services, 'web').status).toMatchObject({
      reason: 'Conflict',
      details: {
        name: 'web',
        kind: 'services',
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl"',
            field: '.spec.ports[port=80,protocol="TCP"].targetPort',
          },
        ],
      },
    });
    const shared = apply(first, manifest([port(80, 8080)]), 'controller');
    expect(managed(shared).map((m) => m.manager)).toEqual(['controller', 'kubectl']);
  });

  test('force takes the field over: the value changes and the old manager no longer owns it', () => {
    const first = apply(undefined, manifest([port(80, 8080)]), 'kubectl');
    const forced = apply(first, manifest([port(80, 9090)]), 'controller', true);
    expect(forced.spec).toMatchObject({ ports: [port(80, 9090)] });
    const kubectl = managed(forced).find((m) => m.manager === 'kubectl');
    expect(JSON.stringify(kubectl?.fieldsV1)).not.toContain('targetPort');
    // Now the first manager is the one in conflict.
    expect(failure(() => apply(forced, manifest([port(80, 8080)]), 'kubectl')).code).toBe(409);
  });

  test('a field dropped from the applied config is removed unless another manager owns it', () => {
    const first = apply(
      undefined,
      manifest([port(80, 8080), port(81, 8081)], { app: 'web', team: 'a' }),
      'kubectl',
    );
    const dropped = apply(first, manifest([port(80, 8080)], { app: 'web' }), 'kubectl');
    expect(dropped.spec).toMatchObject({ ports: [port(80, 8080)] });
    expect((dropped.metadata as JsonObject).labels).toEqual({ app: 'web' });

    const alsoOwned = apply(first, service({}, { labels: { team: 'a' } }), 'other');
    const kept = apply(alsoOwned, manifest([port(80, 8080)], { app: 'web' }), 'kubectl');
    expect((kept.metadata as JsonObject).labels).toEqual({ app: 'web', team: 'a' });
  });

  test('an Update (kubectl edit) takes the fields it changed, so a later apply of another value conflicts with it', () => {
    const first = apply(undefined, manifest([port(80, 8080)]), 'kubectl');
    const edited = structuredClone(first);
    (((edited.spec as JsonObject).ports as JsonObject[])[0] as JsonObject).targetPort = 7070;
    const recorded = recordUpdate(first, edited, serviceSchema, {
      manager: 'kubectl-edit',
      now: t0,
      hasStatus: true,
    });
    expect(managed(recorded).map((m) => [m.manager, m.operation])).toEqual([
      ['kubectl', 'Apply'],
      ['kubectl-edit', 'Update'],
    ]);
    const error = failure(() => apply(recorded, manifest([port(80, 8080)]), 'kubectl'));
    expect(error.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .spec.ports[port=80,protocol="TCP"].targetPort',
    );
  });

  test('an object written before any apply is owned by before-first-apply', () => {
    const out = apply(
      service({ type: 'ClusterIP', ports: [port(80, 8080)] }),
      manifest([port(80, 9090)]),
      'kubectl',
      true,
    );
    expect(managed(out).map((m) => m.manager)).toEqual(['kubectl', 'before-first-apply']);
    expect(JSON.stringify(managed(out)[1]?.fieldsV1)).not.toContain('targetPort');
    const noForce = failure(() =>
      apply(service({ type: 'ClusterIP', ports: [port(80, 8080)] }), manifest([port(80, 9090)]), 'kubectl'),
    );
    expect(noForce.message).toContain('"before-first-apply" using v1');
  });

  test('status is ignored when applying to the main resource', () => {
    const applied = {
      ...manifest([port(80, 8080)]),
      status: { loadBalancer: { ingress: [{ hostname: 'x' }] } },
    };
    const out = apply(undefined, applied, 'kubectl');
    expect(out.status).toBeUndefined();
  });

  test('through applyPatch: YAML or JSON body, fieldManager required (422), apiVersion and kind checked (400)', () => {
    const yaml = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n';
    const out = applyPatch(services, undefined, yaml, 'application/apply-patch+yaml', { manager: 'kubectl' });
    expect(out.spec).toEqual({ ports: [{ port: 80 }] });
    expect(
      applyPatch(services, undefined, JSON.stringify(manifest([])), 'application/apply-patch+yaml', {
        manager: 'm',
      }).kind,
    ).toBe('Service');
    expect(failure(() => applyPatch(services, undefined, yaml, 'application/apply-patch+yaml')).code).toBe(
      422,
    );
    expect(
      failure(() =>
        applyPatch(services, undefined, yaml.replace('Service', 'Pod'), 'application/apply-patch+yaml', {
          manager: 'm',
        }),
      ).code,
    ).toBe(400);
    expect(
      failure(() => applyPatch(services, undefined, 'a: [', 'application/apply-patch+yaml', { manager: 'm' }))
        .code,
    ).toBe(400);
  });
});

describe('recordWrite (POST and PUT)', () => {
  test('a create owns every field it set; a replace takes what it changed from the others', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    const created = recordWrite(services, undefined, service({ type: 'ClusterIP', ports: [{ port: 80 }] }), {
      manager: 'kubectl-create',
      now: t,
    });
    expect((created.metadata as JsonObject).managedFields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2026-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:spec': {
            'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } },
            'f:type': {},
          },
        },
      },
    ]);
    const replaced = recordWrite(
      services,
      created,
      { ...created, spec: { type: 'NodePort', ports: [{ port: 80 }] } },
      { manager: 'kubectl-replace', now: t },
    );
    expect(
      ((replaced.metadata as JsonObject).managedFields as JsonObject[]).map((m) => [m.manager, m.fieldsV1]),
    ).toEqual([
      [
        'kubectl-create',
        { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } } },
      ],
      ['kubectl-replace', { 'f:spec': { 'f:type': {} } }],
    ]);
  });
});

describe('applyPatch', () => {
  const live = service({ type: 'ClusterIP', ports: [{ port: 80 }] }, { annotations: { a: '1' } });

  test('an unknown Content-Type is a 415 naming the accepted ones', () => {
    const error = failure(() => applyPatch(services, live, '{}', 'application/json'));
    expect(error.code).toBe(415);
    expect(error.message).toContain('application/strategic-merge-patch+json');
  });

  test('a merge patch (kubectl annotate) with a field manager records its Update entry', () => {
    const patched = applyPatch(
      services,
      live,
      '{"metadata":{"annotations":{"b":"2"}}}',
      'application/merge-patch+json; charset=utf-8',
      { manager: 'kubectl-annotate' },
    );
    const out = recordWrite(services, live, patched, { manager: 'kubectl-annotate' });
    expect((out.metadata as JsonObject).annotations).toEqual({ a: '1', b: '2' });
    expect((out.metadata as JsonObject).managedFields).toMatchObject([
      {
        manager: 'kubectl-annotate',
        operation: 'Update',
        fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:b': {} } } },
      },
    ]);
  });
});
