// The simulator's write verbs against what the Kubernetes API reference documents: status codes, Status bodies
// and watch events, through real HTTP, the real @kubernetes/client-node and real kubectl. Each test name cites the
// section of the API reference (https://kubernetes.io/docs/reference/) whose behavior it pins.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig, type V1Service, Watch } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  ApiServerSimulator,
  type KubeObject,
  LB_CLEANUP_FINALIZER,
  type SimulatorOptions,
} from '../../../lib/local/apiserver/index.ts';
import { eventually } from '../../support/cli.ts';
import { kubectl } from '../../support/kubectl.ts';

let sim: ApiServerSimulator;
let dir: string;
let kubeconfig: string;
let core: CoreV1Api;
let kc: KubeConfig;

async function startSimulator(options: SimulatorOptions = {}): Promise<void> {
  sim = new ApiServerSimulator(options);
  await sim.start();
  kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-conformance-'));
});

afterEach(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are raw JSON, which is what is under test
type Json = any;

/** One HTTP request as a client sends it; the body is JSON unless it is already text. */
async function api(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'Content-Type': contentType, Accept: 'application/json' },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

const SERVICES = '/api/v1/namespaces/shop/services';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/shop/leases';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';
const CORE_EVENTS = '/api/v1/namespaces/shop/events';
const EVENTS_API = '/apis/events.k8s.io/v1/namespaces/shop/events';

function service(name: string, spec: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }], ...spec },
  };
}

/** A watch through the real client; `events` fills as they arrive. */
async function watch(path: string, params: Record<string, string> = {}) {
  const events: { type: string; object: Json }[] = [];
  const controller = await new Watch(kc).watch(
    path,
    params,
    (type, object) => events.push({ type, object }),
    () => {},
  );
  return { events, stop: () => controller.abort() };
}

/** Status is a Failure with this code and reason (the fields clients act on). */
function expectStatus(body: Json, code: number, reason: string): void {
  expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
}

describe('writes through HTTP', () => {
  beforeEach(() => startSimulator());

  test('Service v1 core: create (POST 201): the server sets uid, creationTimestamp, resourceVersion, generation and the Service defaults', async () => {
    const sent = service('web', {
      type: 'LoadBalancer',
      ports: [
        { name: 'http', port: 80 },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
      ],
    });
    sent.metadata.uid = 'client-chosen';
    sent.metadata.resourceVersion = '999';
    const before = Number(sim.resourceVersion);
    const { status, body } = await api('POST', SERVICES, sent);
    expect(status).toBe(201);
    expect(body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.metadata.resourceVersion).toBe(String(before + 1));
    expect(body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.metadata.generation).toBe(1);
    expect(body.metadata.namespace).toBe('shop');
    expect(body.spec).toMatchObject({
      type: 'LoadBalancer',
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
    });
    expect(body.spec.clusterIPs).toEqual([body.spec.clusterIP]);
    expect(body.spec.clusterIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(body.spec.ports[0]).toMatchObject({ protocol: 'TCP', port: 80, targetPort: 80 });
    expect(body.spec.ports[1]).toMatchObject({ protocol: 'UDP', port: 53, targetPort: 5353 });
    for (const port of body.spec.ports) expect(port.nodePort).toBeGreaterThanOrEqual(30000);
    expect((await api('GET', `${SERVICES}/web`)).body).toEqual(body);
  });

  test('Service v1 core: create: an existing name is 409 AlreadyExists, as @kubernetes/client-node reports it', async () => {
    await core.createNamespacedService({ namespace: 'shop', body: service('db') as V1Service });
    const error = await core
      .createNamespacedService({ namespace: 'shop', body: service('db') as V1Service })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ApiException);
    const { code, body } = error as ApiException<string>;
    expect(code).toBe(409);
    const status = JSON.parse(body);
    expectStatus(status, 409, 'AlreadyExists');
    expect(status.message).toBe('services "db" already exists');
    expect(status.details).toEqual({ name: 'db', kind: 'services' });
  });

  test('Service v1 core: validation: 422 Invalid names each bad field in details.causes, with the apiserver messages', async () => {
    const bad = service('Web_1', {
      type: 'Balancer',
      ports: [{ port: 80 }, { port: 80 }, { name: 'x', port: 70000 }],
    });
    const { status, body } = await api('POST', SERVICES, bad);
    expect(status).toBe(422);
    expectStatus(body, 422, 'Invalid');
    expect(body.message).toMatch(
      /^Service "Web_1" is invalid: \[metadata\.name: Invalid value: "Web_1": a DNS-1035 label/,
    );
    expect(body.details).toMatchObject({ name: 'Web_1', kind: 'Service' });
    const causes = body.details.causes.map((c: Json) => `${c.reason} ${c.field}`);
    expect(causes).toEqual(
      expect.arrayContaining([
        'FieldValueInvalid metadata.name',
        'FieldValueNotSupported spec.type',
        'FieldValueRequired spec.ports[0].name',
        'FieldValueRequired spec.ports[1].name',
        'FieldValueDuplicate spec.ports[1]',
        'FieldValueInvalid spec.ports[2].port',
      ]),
    );
    expect(body.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      field: 'spec.ports[2].port',
      message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
    });
    const externalName = await api('POST', SERVICES, service('ext', { type: 'ExternalName', ports: [] }));
    expect(externalName.status).toBe(422);
    expect(externalName.body.details.causes).toEqual([
      { reason: 'FieldValueRequired', field: 'spec.externalName', message: 'Required value' },
    ]);
    expect((await api('GET', `${SERVICES}/Web_1`)).status).toBe(404);
  });

  test('API concepts: receiving resources as Tables: a list, a get and each watch event answer with the printer columns', async () => {
    await api('POST', SERVICES, service('web', { type: 'LoadBalancer' }));
    const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const read = (path: string) =>
      fetch(`${sim.url}${path}`, { headers: { Accept: TABLE }, signal: AbortSignal.timeout(10_000) });
    const list = (await (await read(SERVICES)).json()) as Json;
    expect(list.kind).toBe('Table');
    expect(list.columnDefinitions.map((c: Json) => c.name)).toEqual([
      'Name',
      'Type',
      'Cluster-IP',
      'External-IP',
      'Port(s)',
      'Age',
      'Selector',
    ]);
    expect(list.rows.map((r: Json) => r.cells.slice(0, 2))).toEqual([['web', 'LoadBalancer']]);
    expect(list.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'web' } });
    const one = (await (await read(`${SERVICES}/web`)).json()) as Json;
    expect(one.rows.map((r: Json) => r.cells[0])).toEqual(['web']);

    const controller = new AbortController();
    const response = await fetch(
      `${sim.url}${SERVICES}?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
      {
        headers: { Accept: TABLE },
        signal: controller.signal,
      },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await api(
      'PATCH',
      `${SERVICES}/web`,
      { metadata: { labels: { v: '2' } } },
      'application/merge-patch+json',
    );
    let text = '';
    while (!text.includes('\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const event = JSON.parse(text.split('\n')[0] as string) as Json;
    expect(event.type).toBe('MODIFIED');
    expect(event.object.kind).toBe('Table');
    expect(event.object.rows.map((r: Json) => r.cells.slice(0, 2))).toEqual([['web', 'LoadBalancer']]);
  });

  test('API concepts: resource versions / Conflict: PUT with a stale resourceVersion is 409; with the current one it is stored and watched as MODIFIED', async () => {
    const created = (await api('POST', SERVICES, service('web'))).body;
    const watcher = await watch(SERVICES, { resourceVersion: created.metadata.resourceVersion });
    const first = { ...created, metadata: { ...created.metadata, labels: { v: '1' } } };
    const updated = await api('PUT', `${SERVICES}/web`, first);
    expect(updated.status).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(
      Number(created.metadata.resourceVersion),
    );
    expect(updated.body.metadata.uid).toBe(created.metadata.uid);
    expect(updated.body.metadata.generation).toBe(1);
    const stale = await api('PUT', `${SERVICES}/web`, {
      ...first,
      metadata: { ...first.metadata, labels: { v: '2' } },
    });
    expect(stale.status).toBe(409);
    expectStatus(stale.body, 409, 'Conflict');
    expect(stale.body.message).toBe(
      'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    const spec = { ...updated.body, spec: { ...updated.body.spec, ports: [{ name: 'http', port: 81 }] } };
    const bumped = await api('PUT', `${SERVICES}/web`, spec);
    expect(bumped.body.metadata.generation).toBe(2);
    await eventually('two MODIFIED events', () => watcher.events.length === 2, 5000);
    expect(watcher.events.map((e) => [e.type, e.object.metadata.resourceVersion])).toEqual([
      ['MODIFIED', updated.body.metadata.resourceVersion],
      ['MODIFIED', bumped.body.metadata.resourceVersion],
    ]);
    watcher.stop();
  });

  test('Service v1 core: replace: PUT without resourceVersion is unconditional, and PUT of a missing Service creates it with server-set system fields', async () => {
    const created = await api('PUT', `${SERVICES}/fresh`, {
      ...service('fresh'),
      metadata: { name: 'fresh', uid: 'mine', creationTimestamp: '2001-01-01T00:00:00Z', generation: 7 },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata.uid).not.toBe('mine');
    expect(created.body.metadata.creationTimestamp).not.toBe('2001-01-01T00:00:00Z');
    expect(created.body.metadata.generation).toBe(1);
    const replaced = await api(
      'PUT',
      `${SERVICES}/fresh`,
      service('fresh', { ports: [{ name: 'http', port: 8080 }] }),
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body.spec.ports[0].port).toBe(8080);
    expect(replaced.body.spec.clusterIP).toBe(created.body.spec.clusterIP);
    const moved = await api('PUT', `${SERVICES}/fresh`, {
      ...replaced.body,
      spec: { ...replaced.body.spec, clusterIP: '10.99.0.1', clusterIPs: ['10.99.0.1'] },
    });
    expect(moved.status).toBe(422);
    expect(moved.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.clusterIPs[0]',
        message: 'Invalid value: ["10.99.0.1"]: may not change once set',
      },
    ]);
    const renamed = await api('PUT', `${SERVICES}/fresh`, service('other'));
    expect(renamed.status).toBe(400);
    expectStatus(renamed.body, 400, 'BadRequest');
    expect(renamed.body.message).toBe(
      'the name of the object (other) does not match the name on the URL (fresh)',
    );
  });

  test('Lease v1 coordination.k8s.io: replace needs a resourceVersion (422); fields of the wrong type are 400; leases are not created by PUT (404)', async () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'mirror-leader' },
      spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15 },
    };
    expect((await api('PUT', `${LEASES}/mirror-leader`, lease)).status).toBe(404);
    const created = await api('POST', LEASES, lease);
    expect(created.status).toBe(201);
    expect(created.body.metadata.generation).toBe(1);
    const unconditional = await api('PUT', `${LEASES}/mirror-leader`, lease);
    expect(unconditional.status).toBe(422);
    expect(unconditional.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.resourceVersion',
        message: 'Invalid value: 0: must be specified for an update',
      },
    ]);
    const typed = await api('POST', LEASES, {
      ...lease,
      metadata: { name: 'b' },
      spec: { leaseDurationSeconds: '15' },
    });
    expect(typed.status).toBe(400);
    expect(typed.body.message).toMatch(
      /cannot unmarshal string into Go struct field LeaseSpec\.spec\.leaseDurationSeconds of type int32/,
    );
    const ranged = await api('POST', LEASES, {
      ...lease,
      metadata: { name: 'c' },
      spec: { leaseDurationSeconds: 0 },
    });
    expect(ranged.status).toBe(422);
    const renewed = await api('PUT', `${LEASES}/mirror-leader`, {
      ...created.body,
      spec: { ...created.body.spec, holderIdentity: 'pod-b', renewTime: '2026-01-01T00:00:00.000000Z' },
    });
    expect(renewed.status).toBe(200);
    expect(renewed.body.spec.holderIdentity).toBe('pod-b');
  });

  test('Service v1 core: status subresource: status writes change only status, writes to the Service keep the old status', async () => {
    const created = (await api('POST', SERVICES, service('web'))).body;
    const ingress = [{ hostname: 'web.example.com' }];
    const statusPut = await api('PUT', `${SERVICES}/web/status`, {
      ...created,
      metadata: { ...created.metadata, labels: { ignored: 'yes' } },
      spec: { ...created.spec, ports: [{ name: 'http', port: 1 }] },
      status: { loadBalancer: { ingress } },
    });
    expect(statusPut.status).toBe(200);
    expect(statusPut.body.status.loadBalancer.ingress).toEqual(ingress);
    expect(statusPut.body.spec.ports[0].port).toBe(80);
    expect(statusPut.body.metadata.labels).toBeUndefined();
    const mainPut = await api('PUT', `${SERVICES}/web`, { ...statusPut.body, status: { loadBalancer: {} } });
    expect(mainPut.body.status.loadBalancer.ingress).toEqual(ingress);
    const statusGet = await api('GET', `${SERVICES}/web/status`);
    expect(statusGet.status).toBe(200);
    const statusPatch = await api(
      'PATCH',
      `${SERVICES}/web/status`,
      { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } }, spec: { type: 'NodePort' } },
      'application/merge-patch+json',
    );
    expect(statusPatch.body.status.loadBalancer.ingress).toEqual([{ ip: '203.0.113.7' }]);
    expect(statusPatch.body.spec.type).toBe('ClusterIP');
    expect((await api('GET', `${LEASES}/x/status`)).status).toBe(404);
  });

  test('API concepts: patch: merge patch applies, a resourceVersion in the patch is a precondition (409), other media types are 415, a missing object 404', async () => {
    const created = (await api('POST', SERVICES, service('web'))).body;
    const merged = await api(
      'PATCH',
      `${SERVICES}/web`,
      { metadata: { annotations: { 'kube-zk-sync.io/name': 'shop' } } },
      'application/merge-patch+json',
    );
    expect(merged.status).toBe(200);
    expect(merged.body.metadata.annotations).toEqual({ 'kube-zk-sync.io/name': 'shop' });
    const stale = await api(
      'PATCH',
      `${SERVICES}/web`,
      { metadata: { resourceVersion: created.metadata.resourceVersion, labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    expect(stale.status).toBe(409);
    expectStatus(stale.body, 409, 'Conflict');
    const current = await api(
      'PATCH',
      `${SERVICES}/web`,
      { metadata: { resourceVersion: merged.body.metadata.resourceVersion, labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    expect(current.status).toBe(200);
    const odd = await api('PATCH', `${SERVICES}/web`, { a: 1 }, 'text/plain');
    expect(odd.status).toBe(415);
    expectStatus(odd.body, 415, 'UnsupportedMediaType');
    const missing = await api('PATCH', `${SERVICES}/nope`, {}, 'application/merge-patch+json');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('services "nope" not found');
    const invalid = await api(
      'PATCH',
      `${SERVICES}/web`,
      { spec: { ports: [{ port: 0 }] } },
      'application/merge-patch+json',
    );
    expect(invalid.status).toBe(422);
  });

  test('API concepts: dry-run: dryRun=All answers as a write would and stores nothing, with no watch event', async () => {
    const watcher = await watch(SERVICES);
    const rv = sim.resourceVersion;
    const created = await api('POST', `${SERVICES}?dryRun=All`, service('web'));
    expect(created.status).toBe(201);
    expect(created.body.spec.clusterIP).toBeDefined();
    expect((await api('GET', `${SERVICES}/web`)).status).toBe(404);
    await api('POST', SERVICES, service('real'));
    const patched = await api(
      'PATCH',
      `${SERVICES}/real?dryRun=All`,
      { metadata: { labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    expect(patched.body.metadata.labels).toEqual({ a: 'b' });
    const deleted = await api('DELETE', `${SERVICES}/real?dryRun=All`);
    expect(deleted.status).toBe(200);
    const kept = await api('GET', `${SERVICES}/real`);
    expect(kept.body.metadata.labels).toBeUndefined();
    expect(Number(sim.resourceVersion)).toBe(Number(rv) + 1);
    expect((await api('POST', `${SERVICES}?dryRun=Some`, service('x'))).status).toBe(400);
    await eventually('the one real ADDED', () => watcher.events.length === 1, 5000);
    expect(watcher.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED real']);
    watcher.stop();
  });

  test('API concepts: delete: 200 with a Status Success naming the object, DELETED on watches; stale preconditions are 409; a missing object 404', async () => {
    const created = (await api('POST', SERVICES, service('web'))).body;
    const watcher = await watch(SERVICES, { resourceVersion: created.metadata.resourceVersion });
    const wrongUid = await api('DELETE', `${SERVICES}/web`, { preconditions: { uid: 'other' } });
    expect(wrongUid.status).toBe(409);
    expect(wrongUid.body.message).toBe(
      `Operation cannot be fulfilled on services "web": Precondition failed: UID in precondition: other, UID in object meta: ${created.metadata.uid}`,
    );
    const wrongRv = await api('DELETE', `${SERVICES}/web`, { preconditions: { resourceVersion: '1' } });
    expect(wrongRv.status).toBe(409);
    const deleted = await api('DELETE', `${SERVICES}/web`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Background',
      preconditions: { uid: created.metadata.uid },
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'web', kind: 'services', uid: created.metadata.uid },
    });
    await eventually('DELETED', () => watcher.events.length === 1, 5000);
    expect(watcher.events[0]?.type).toBe('DELETED');
    expect(watcher.events[0]?.object.metadata.uid).toBe(created.metadata.uid);
    const again = await api('DELETE', `${SERVICES}/web`);
    expect(again.status).toBe(404);
    expectStatus(again.body, 404, 'NotFound');
    expect(again.body.details).toEqual({ name: 'web', kind: 'services' });
    watcher.stop();
  });

  test('API concepts: finalizers: delete sets deletionTimestamp and keeps the object until its finalizers are removed; no new finalizers meanwhile', async () => {
    const sent = service('held');
    sent.metadata.finalizers = ['example.com/hold'];
    const created = (await api('POST', SERVICES, sent)).body;
    const watcher = await watch(SERVICES, { resourceVersion: created.metadata.resourceVersion });
    const deleting = await api('DELETE', `${SERVICES}/held`);
    expect(deleting.status).toBe(200);
    expect(deleting.body.kind).toBe('Service');
    expect(deleting.body.metadata.deletionTimestamp).toBeDefined();
    expect((await api('GET', `${SERVICES}/held`)).status).toBe(200);
    const more = await api(
      'PATCH',
      `${SERVICES}/held`,
      { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } },
      'application/merge-patch+json',
    );
    expect(more.status).toBe(422);
    expect(more.body.details.causes[0]).toMatchObject({
      field: 'metadata.finalizers',
      reason: 'FieldValueForbidden',
    });
    const released = await api(
      'PATCH',
      `${SERVICES}/held`,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    expect(released.status).toBe(200);
    expect((await api('GET', `${SERVICES}/held`)).status).toBe(404);
    await eventually('MODIFIED then DELETED', () => watcher.events.length === 2, 5000);
    expect(watcher.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    watcher.stop();
  });

  test('EndpointSlice v1 discovery.k8s.io: addressType is required and immutable, addresses must fit it', async () => {
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc12', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'] }],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    };
    const created = await api('POST', SLICES, slice);
    expect(created.status).toBe(201);
    const changed = await api('PUT', `${SLICES}/web-abc12`, { ...created.body, addressType: 'IPv6' });
    expect(changed.status).toBe(422);
    expect(changed.body.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      field: 'addressType',
      message: 'Invalid value: "IPv6": field is immutable',
    });
    const bad = await api('POST', SLICES, {
      ...slice,
      metadata: { name: 'bad' },
      endpoints: [{ addresses: ['not-an-ip'] }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      field: 'endpoints[0].addresses[0]',
      message: 'Invalid value: "not-an-ip": must be a valid IPv4 address',
    });
    const selected = await api(
      'GET',
      `/apis/discovery.k8s.io/v1/endpointslices?labelSelector=kubernetes.io/service-name=web`,
    );
    expect(selected.body.kind).toBe('EndpointSliceList');
    expect(selected.body.items.map((s: Json) => s.metadata.name)).toEqual(['web-abc12']);
  });

  test('Event v1 events.k8s.io and core: one storage seen two ways (note/message, regarding/involvedObject, reportingController/reportingComponent), with field selectors', async () => {
    const regarding = { kind: 'Service', namespace: 'shop', name: 'web', uid: 'u-1', apiVersion: 'v1' };
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.1' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'kube-zk-sync.io/sync',
      reportingInstance: 'sync-1',
      action: 'Publish',
      reason: 'Published',
      type: 'Normal',
      note: 'published as shop',
      regarding,
      series: { count: 2, lastObservedTime: '2026-01-01T00:01:00.000000Z' },
    };
    const created = await api('POST', EVENTS_API, event);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      note: 'published as shop',
      regarding,
    });
    const asCore = (await api('GET', `${CORE_EVENTS}/web.1`)).body;
    expect(asCore).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      message: 'published as shop',
      involvedObject: regarding,
      reportingComponent: 'kube-zk-sync.io/sync',
      series: { count: 2 },
    });
    expect(asCore.note).toBeUndefined();
    const legacy = await api('POST', CORE_EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.2' },
      involvedObject: { ...regarding, name: 'other' },
      reason: 'Created',
      message: 'made by hand',
      count: 3,
      firstTimestamp: '2026-01-01T00:00:00Z',
      source: { component: 'someone' },
      type: 'Normal',
    });
    expect(legacy.status).toBe(201);
    const viewed = (await api('GET', `${EVENTS_API}/web.2`)).body;
    expect(viewed).toMatchObject({
      note: 'made by hand',
      deprecatedCount: 3,
      deprecatedFirstTimestamp: '2026-01-01T00:00:00Z',
      deprecatedSource: { component: 'someone' },
    });
    // What `kubectl describe svc web` sends.
    const described = await api(
      'GET',
      `${CORE_EVENTS}?fieldSelector=${encodeURIComponent('involvedObject.name=web,involvedObject.namespace=shop,involvedObject.kind=Service,involvedObject.uid=u-1')}`,
    );
    expect(described.body.items.map((e: Json) => e.metadata.name)).toEqual(['web.1']);
    const byController = await api(
      'GET',
      `${EVENTS_API}?fieldSelector=reportingController%3Dkube-zk-sync.io%2Fsync`,
    );
    expect(byController.body.items.map((e: Json) => e.metadata.name)).toEqual(['web.1']);
    const missing = await api('POST', EVENTS_API, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e3' },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.details.causes.map((c: Json) => c.field)).toEqual(
      expect.arrayContaining(['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']),
    );
    expect((await api('GET', `${CORE_EVENTS}?fieldSelector=bogus%3D1`)).status).toBe(400);
  });

  test('API concepts: resource versions: one sequence across kinds; a watch of one kind resumes past the others, and compaction is 410 Gone for every kind', async () => {
    const svc = (await api('POST', SERVICES, service('web'))).body;
    const lease = (
      await api('POST', LEASES, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'l' },
        spec: {},
      })
    ).body;
    expect(Number(lease.metadata.resourceVersion)).toBe(Number(svc.metadata.resourceVersion) + 1);
    const page = await api('GET', '/apis/coordination.k8s.io/v1/leases?limit=1');
    expect(page.body.metadata.resourceVersion).toBe(lease.metadata.resourceVersion);
    const watcher = await watch(SERVICES, { resourceVersion: svc.metadata.resourceVersion });
    await api('PATCH', `${LEASES}/l`, { spec: { holderIdentity: 'a' } }, 'application/merge-patch+json');
    await api(
      'PATCH',
      `${SERVICES}/web`,
      { metadata: { labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    await eventually('the Service change', () => watcher.events.length === 1, 5000);
    expect(watcher.events[0]?.object.kind).toBe('Service');
    watcher.stop();
    sim.compact();
    const gone = await fetch(
      `${sim.url}${LEASES}?watch=true&resourceVersion=${lease.metadata.resourceVersion}`,
      {
        signal: AbortSignal.timeout(5000),
      },
    );
    const line = JSON.parse((await gone.text()).split('\n')[0] as string);
    expect(line).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
  });
});

describe('faults', () => {
  beforeEach(() => startSimulator());

  test('API concepts: efficient detection of changes: writes made while watches were dropped arrive on resume from the last resourceVersion, for every kind', async () => {
    const paths = [SERVICES, LEASES, EVENTS_API];
    const start = sim.resourceVersion;
    const first = await Promise.all(paths.map((path) => watch(path, { resourceVersion: start })));
    await api('POST', SERVICES, service('web'));
    await eventually('the first Service event', () => first[0]?.events.length === 1, 5000);
    const seen = first[0]?.events[0]?.object.metadata.resourceVersion as string;
    expect(sim.faults.dropWatches()).toBe(3);
    await api(
      'PATCH',
      `${SERVICES}/web`,
      { metadata: { labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    await api('POST', LEASES, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l' },
      spec: {},
    });
    await api('POST', CORE_EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e' },
      involvedObject: { kind: 'Service', name: 'web', namespace: 'shop' },
      reason: 'Published',
      message: 'm',
      type: 'Normal',
    });
    await api('DELETE', `${SERVICES}/web`);
    const [services, leases, events] = await Promise.all([
      watch(SERVICES, { resourceVersion: seen }),
      watch(LEASES, { resourceVersion: start }),
      watch(EVENTS_API, { resourceVersion: start }),
    ]);
    await eventually(
      'every missed change',
      () => services?.events.length === 2 && leases?.events.length === 1 && events?.events.length === 1,
      5000,
    );
    expect(services?.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    expect(leases?.events[0]?.object.kind).toBe('Lease');
    expect(events?.events[0]?.object).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'm' });
    for (const w of [...first, services, leases, events]) w?.stop();
  });
});

describe('discovery and namespaces', () => {
  beforeEach(() => startSimulator());

  test('API discovery: /apis lists every group; each group/version lists its resources; /api/v1 lists services (with status), events and namespaces', async () => {
    const groups = (await api('GET', '/apis')).body;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: Json) => g.name).sort()).toEqual([
      'coordination.k8s.io',
      'discovery.k8s.io',
      'events.k8s.io',
    ]);
    expect(groups.groups[0].preferredVersion).toEqual({
      groupVersion: `${groups.groups[0].name}/v1`,
      version: 'v1',
    });
    const core = (await api('GET', '/api/v1')).body;
    expect(core.resources.map((r: Json) => r.name)).toEqual([
      'services',
      'services/status',
      'events',
      'namespaces',
    ]);
    expect(core.resources[0]).toMatchObject({ kind: 'Service', shortNames: ['svc'], namespaced: true });
    expect(core.resources[0].verbs).toEqual(
      expect.arrayContaining(['create', 'delete', 'patch', 'update', 'watch']),
    );
    const leases = (await api('GET', '/apis/coordination.k8s.io/v1')).body;
    expect(leases).toMatchObject({ kind: 'APIResourceList', groupVersion: 'coordination.k8s.io/v1' });
    expect(leases.resources.map((r: Json) => r.name)).toEqual(['leases']);
    // `ev` belongs to core Events alone, as in the apiserver; kubectl warns about a short name two groups share.
    const events = (await api('GET', '/apis/events.k8s.io/v1')).body.resources[0];
    expect(events).toMatchObject({ name: 'events', kind: 'Event' });
    expect(events.shortNames).toBeUndefined();
    expect((await api('GET', '/apis/example.com/v1')).status).toBe(404);
    expect((await api('POST', '/api/v1/namespaces', { metadata: { name: 'x' } })).status).toBe(405);
  });

  test('Namespace v1 core: list and get; kube-system carries the cluster uid; namespaces of stored objects exist', async () => {
    await api('POST', SERVICES, service('web'));
    const list = (await api('GET', '/api/v1/namespaces')).body;
    expect(list.kind).toBe('NamespaceList');
    expect(list.items.map((n: Json) => n.metadata.name)).toEqual([
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
      'shop',
    ]);
    const system = (await api('GET', '/api/v1/namespaces/kube-system')).body;
    expect(system.metadata.uid).toBe(sim.clusterUid);
    expect(system.metadata.creationTimestamp).toBeDefined();
    expect((await api('GET', '/api/v1/namespaces/nowhere')).status).toBe(404);
  });
});

const lb = (name: string): Json => service(name, { type: 'LoadBalancer' });

describe('cloud controller', () => {
  test('Service v1 core: LoadBalancer status: finalizer at once, <pending> then an ELB hostname (MODIFIED), dropped on a type change', async () => {
    await startSimulator({ lbDelayMs: 150, region: 'eu-west-1' });
    const watcher = await watch(SERVICES);
    const created = (await api('POST', SERVICES, lb('shop-api'))).body;
    expect(created.metadata.finalizers).toEqual([LB_CLEANUP_FINALIZER]);
    expect(created.status.loadBalancer.ingress).toBeUndefined();
    await eventually('the address', () => watcher.events.length === 2, 5000);
    const addressed = watcher.events[1]?.object;
    expect(watcher.events[1]?.type).toBe('MODIFIED');
    expect(addressed.status.loadBalancer.ingress).toEqual([
      { hostname: expect.stringMatching(/^shop-api-[0-9a-f]{16}\.elb\.eu-west-1\.amazonaws\.com$/) },
    ]);
    const clusterIP = await api(
      'PATCH',
      `${SERVICES}/shop-api`,
      { spec: { type: 'ClusterIP' } },
      'application/merge-patch+json',
    );
    expect(clusterIP.body.metadata.finalizers).toBeUndefined();
    expect(clusterIP.body.status.loadBalancer).toEqual({});
    expect(clusterIP.body.spec.ports[0].nodePort).toBeUndefined();
    const again = await api(
      'PATCH',
      `${SERVICES}/shop-api`,
      { spec: { type: 'LoadBalancer' } },
      'application/merge-patch+json',
    );
    expect(again.body.metadata.finalizers).toEqual([LB_CLEANUP_FINALIZER]);
    await eventually(
      'the address again',
      () => Boolean(sim.getService('shop', 'shop-api')?.status.loadBalancer.ingress),
      5000,
    );
    watcher.stop();
  });

  test('Service v1 core: LoadBalancer delete: the Service stays (deletionTimestamp) until the controller releases the load balancer', async () => {
    await startSimulator({ lbDelayMs: 150 });
    await api('POST', SERVICES, lb('gone'));
    await eventually(
      'the address',
      () => Boolean(sim.getService('shop', 'gone')?.status.loadBalancer.ingress),
      5000,
    );
    const watcher = await watch(SERVICES, { resourceVersion: sim.resourceVersion });
    const deleting = await api('DELETE', `${SERVICES}/gone`);
    expect(deleting.status).toBe(200);
    expect(deleting.body.metadata.deletionTimestamp).toBeDefined();
    expect(deleting.body.metadata.finalizers).toEqual([LB_CLEANUP_FINALIZER]);
    await eventually(
      'the Service to go',
      async () => (await api('GET', `${SERVICES}/gone`)).status === 404,
      5000,
    );
    // deletionTimestamp set, address released, then the Service deleted.
    expect(watcher.events.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED', 'DELETED']);
    expect(watcher.events[1]?.object.status.loadBalancer).toEqual({});
    watcher.stop();
  });

  test('Service v1 core: LoadBalancer with no delay is born with its address; Services the generator makes stay as described', async () => {
    await startSimulator();
    const created = (await api('POST', SERVICES, lb('now'))).body;
    expect(created.status.loadBalancer.ingress?.[0]?.hostname).toMatch(
      /^now-[0-9a-f]{16}\.elb\.us-east-1\.amazonaws\.com$/,
    );
    const pending = sim.createService({
      namespace: 'shop',
      name: 'waiting',
      type: 'LoadBalancer',
      ports: [{ port: 80 }],
    });
    expect(pending.metadata.finalizers).toBeUndefined();
    expect(pending.status.loadBalancer.ingress).toBeUndefined();
    const deleted = await api('DELETE', `${SERVICES}/now`);
    expect(deleted.body.metadata.deletionTimestamp).toBeDefined();
    await eventually('the release', () => sim.getService('shop', 'now') === undefined, 5000);
  });

  test('in process: create, patch and delete through the simulator answer as the HTTP API does (ApiError with the Status)', async () => {
    await startSimulator({ lbDelayMs: 50 });
    const created = sim.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'a', namespace: 'shop' },
      spec: lb('a').spec,
    });
    expect(created.metadata.finalizers).toEqual([LB_CLEANUP_FINALIZER]);
    expect(() => sim.create(created)).toThrow('services "a" already exists');
    const ref = { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'a' };
    const patched = sim.patch(ref, 'application/merge-patch+json', { metadata: { labels: { x: 'y' } } });
    expect(patched.object.metadata.labels).toEqual({ x: 'y' });
    expect(sim.delete(ref).removed).toBe(false);
    await eventually('the release', () => sim.get(ref) === undefined, 5000);
    const leases: KubeObject[] = sim.list('coordination.k8s.io/v1', 'Lease');
    expect(leases).toEqual([]);
  });
});

describe('kubectl', () => {
  test('create, annotate, label, patch --type=merge, delete (waiting for the finalizer), and the errors kubectl prints', async () => {
    await startSimulator({ lbDelayMs: 100 });
    const manifest = join(dir, 'svc.json');
    await writeFile(
      manifest,
      JSON.stringify({ ...lb('my-shop'), metadata: { name: 'my-shop', namespace: 'shop' } }),
    );
    const k = (...args: string[]) => kubectl(kubeconfig, dir, ...args);
    expect(await k('create', '-f', manifest, '--validate=false')).toContain('service/my-shop created');
    const duplicate = await k('create', '-f', manifest, '--validate=false').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(duplicate).toContain('Error from server (AlreadyExists): error when creating');
    expect(await k('annotate', '-n', 'shop', 'svc', 'my-shop', 'kube-zk-sync.io/name=shop')).toContain(
      'annotated',
    );
    expect(await k('label', '-n', 'shop', 'svc', 'my-shop', 'team=core')).toContain('labeled');
    await k(
      'patch',
      '-n',
      'shop',
      'svc',
      'my-shop',
      '--type=merge',
      '-p',
      '{"spec":{"ports":[{"name":"http","port":8080}]}}',
    );
    const stale = await k('annotate', '-n', 'shop', 'svc', 'my-shop', 'a=b', '--resource-version=1').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(stale).toContain('Error from server (Conflict)');
    await eventually(
      'the address',
      () => Boolean(sim.getService('shop', 'my-shop')?.status.loadBalancer.ingress),
      5000,
    );
    const got = JSON.parse(await k('get', '-n', 'shop', 'svc', 'my-shop', '-o', 'json'));
    expect(got.metadata.annotations).toEqual({ 'kube-zk-sync.io/name': 'shop' });
    expect(got.metadata.labels).toEqual({ team: 'core' });
    expect(got.spec.ports[0]).toMatchObject({ port: 8080, targetPort: 8080, protocol: 'TCP' });
    expect(await k('delete', '-n', 'shop', 'svc', 'my-shop')).toContain('service "my-shop" deleted');
    expect(sim.getService('shop', 'my-shop')).toBeUndefined();
    const missing = await k('delete', '-n', 'shop', 'svc', 'my-shop').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(missing).toContain('Error from server (NotFound): services "my-shop" not found');
  });
});
