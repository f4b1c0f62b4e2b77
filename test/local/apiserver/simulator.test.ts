// The apiserver simulator against the real @kubernetes/client-node 2.x: lists, pages, watches, and every fault
// the forwarder has to survive, seen the way the forwarder will see them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig, type V1Service, Watch } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  ApiServerSimulator,
  generateServices,
  type ServiceInput,
  type SimulatorOptions,
  startChurn,
} from '../../../lib/local/apiserver/index.ts';

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sim: ApiServerSimulator;
let dir: string;
let kc: KubeConfig;
let core: CoreV1Api;

async function startSimulator(options: SimulatorOptions = {}, services: ServiceInput[] = []): Promise<void> {
  sim = new ApiServerSimulator(options);
  for (const s of services) sim.createService(s);
  await sim.start();
  await sim.writeKubeconfig(join(dir, 'kubeconfig'));
  kc = new KubeConfig();
  kc.loadFromFile(join(dir, 'kubeconfig'));
  core = kc.makeApiClient(CoreV1Api);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-sim-'));
});

afterEach(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Seen {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: watch objects are raw JSON, which is what is under test
  object: any;
}

interface OpenWatch {
  events: Seen[];
  /** What the client's `done` callback received (null: the server ended the stream cleanly). */
  done: Promise<unknown>;
  controller: AbortController;
}

async function watch(
  path: string,
  params: Record<string, string | number | boolean | undefined>,
  inactivityTimeoutMs?: number,
): Promise<OpenWatch> {
  const client = new Watch(kc);
  if (inactivityTimeoutMs !== undefined) {
    // The 2.x client gives up on a watch after 30 s without a byte, through a private field; shortened here so a
    // stall is seen in a second. Checked first, so a client that renames it fails this test instead of hanging.
    expect(Reflect.get(client, 'requestTimeoutMs')).toBe(30_000);
    Reflect.set(client, 'requestTimeoutMs', inactivityTimeoutMs);
  }
  const events: Seen[] = [];
  let finish: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => {
    finish = resolve;
  });
  const controller = await client.watch(
    path,
    params,
    (type, object) => events.push({ type, object }),
    finish,
  );
  return { events, done, controller };
}

const lb = (namespace: string, name: string, extra: Partial<ServiceInput> = {}): ServiceInput => ({
  namespace,
  name,
  type: 'LoadBalancer',
  ports: [{ name: 'http', port: 80 }],
  ingress: [{ hostname: `${name}.elb.us-east-1.amazonaws.com` }],
  ...extra,
});

async function listAll(limit: number, between: () => Promise<void> = async () => {}) {
  const pages: V1Service[][] = [];
  const versions = new Set<string | undefined>();
  let token: string | undefined;
  do {
    const page = await core.listServiceForAllNamespaces({ limit, _continue: token });
    pages.push(page.items);
    versions.add(page.metadata?.resourceVersion);
    token = page.metadata?._continue;
    if (token) await between();
  } while (token);
  return { pages, versions };
}

describe('list and get', () => {
  test('a list carries every Service with the fields a real apiserver sets, at the current resourceVersion', async () => {
    await startSimulator({}, [
      lb('payments', 'orders-api', {
        labels: { team: 'core' },
        annotations: { 'kube-zk-sync.io/name': 'orders' },
      }),
      { namespace: 'search', name: 'solr', ports: [{ port: 8983 }], externalIPs: ['198.51.100.7'] },
      lb('search', 'pending', { ingress: undefined }),
    ]);
    const list = await core.listServiceForAllNamespaces();
    expect(list.metadata?.resourceVersion).toBe(sim.resourceVersion);
    expect(list.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toEqual([
      'payments/orders-api',
      'search/pending',
      'search/solr',
    ]);
    const [orders, pending, solr] = list.items as [V1Service, V1Service, V1Service];
    expect(orders.metadata).toMatchObject({
      labels: { team: 'core' },
      annotations: { 'kube-zk-sync.io/name': 'orders' },
      resourceVersion: sim.getService('payments', 'orders-api')?.metadata.resourceVersion,
    });
    expect(orders.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(orders.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(orders.spec).toMatchObject({
      type: 'LoadBalancer',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    });
    expect(orders.spec?.clusterIP).toMatch(/^10\.100\.\d+\.\d+$/);
    expect(orders.status?.loadBalancer?.ingress).toEqual([
      { hostname: 'orders-api.elb.us-east-1.amazonaws.com' },
    ]);
    expect(pending.status?.loadBalancer?.ingress).toBeUndefined();
    expect(solr.spec).toMatchObject({ type: 'ClusterIP', externalIPs: ['198.51.100.7'] });
  });

  test('a namespaced list holds only that namespace; get returns one Service or 404', async () => {
    await startSimulator({}, [lb('payments', 'a'), lb('payments', 'b'), lb('search', 'a')]);
    const list = await core.listNamespacedService({ namespace: 'payments' });
    expect(list.items.map((s) => s.metadata?.name)).toEqual(['a', 'b']);
    const one = await core.readNamespacedService({ namespace: 'search', name: 'a' });
    expect(one).toMatchObject({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { namespace: 'search', name: 'a' },
    });
    const missing = await core
      .readNamespacedService({ namespace: 'search', name: 'b' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiException);
    expect((missing as ApiException<unknown>).code).toBe(404);
  });

  test('label selectors: equality, inequality, existence and sets; a bad selector is a 400', async () => {
    await startSimulator({}, [
      lb('a', 'core-prod', { labels: { team: 'core', env: 'prod', tier: 'web' } }),
      lb('a', 'core-staging', { labels: { team: 'core', env: 'staging', tier: 'web' } }),
      lb('a', 'core-untiered', { labels: { team: 'core', env: 'prod' } }),
      lb('a', 'infra-prod', { labels: { team: 'infra', env: 'prod', tier: 'db' } }),
      lb('a', 'unlabelled'),
    ]);
    const names = async (labelSelector: string) =>
      (await core.listServiceForAllNamespaces({ labelSelector })).items.map((s) => s.metadata?.name);
    expect(await names('team=core,env!=staging,tier')).toEqual(['core-prod']);
    expect(await names('team==infra')).toEqual(['infra-prod']);
    expect(await names('env!=prod')).toEqual(['core-staging', 'unlabelled']);
    expect(await names('!team')).toEqual(['unlabelled']);
    expect(await names('tier in (web, db),env notin (staging)')).toEqual(['core-prod', 'infra-prod']);
    const bad = await names('team=core,=oops').catch((e: unknown) => e);
    expect((bad as ApiException<unknown>).code).toBe(400);
  });

  test('pages are one snapshot at the first page’s resourceVersion while Services keep changing', async () => {
    await startSimulator({}, generateServices(40, { seed: 3 }));
    const before = new Map(sim.listServices().map((s) => [s.metadata.uid, s.metadata.resourceVersion]));
    const churn = startChurn(sim, { changesPerSecond: 500, seed: 3 });
    try {
      let changed = 0;
      const { pages, versions } = await listAll(7, async () => {
        // Every page is asked for only after more changes landed, so each one had the chance to see them.
        const seen = churn.counts.created + churn.counts.updated + churn.counts.deleted;
        await until(
          'more churn',
          () => churn.counts.created + churn.counts.updated + churn.counts.deleted > seen,
        );
        changed++;
      });
      expect(changed).toBeGreaterThanOrEqual(6);
      expect(versions.size).toBe(1);
      const listed = pages.flat().map((s) => [s.metadata?.uid, s.metadata?.resourceVersion]);
      expect(new Map(listed as [string, string][])).toEqual(before);
      expect(listed).toHaveLength(before.size);
      expect(Number(sim.resourceVersion)).toBeGreaterThan(Number([...versions][0]));
    } finally {
      await churn.stop();
    }
  });

  test('a continue token from before a compaction is 410 Gone; a fresh list works', async () => {
    await startSimulator({}, [
      lb('a', 'one'),
      lb('a', 'two'),
      lb('b', 'three'),
      lb('b', 'four'),
      lb('c', 'five'),
    ]);
    const first = await core.listServiceForAllNamespaces({ limit: 2 });
    sim.deleteService('c', 'five');
    sim.compact();
    const gone = await core
      .listServiceForAllNamespaces({ limit: 4, _continue: first.metadata?._continue })
      .catch((e) => e);
    expect(gone).toBeInstanceOf(ApiException);
    expect((gone as ApiException<string>).code).toBe(410);
    expect(JSON.parse((gone as ApiException<string>).body)).toMatchObject({
      kind: 'Status',
      reason: 'Expired',
      code: 410,
    });
    const { pages } = await listAll(2);
    expect(pages.flat()).toHaveLength(4);
  });
});

describe('watch', () => {
  test('from a resourceVersion: replays later changes in order, then streams live ones', async () => {
    await startSimulator({}, [lb('a', 'kept'), lb('a', 'doomed')]);
    const listed = await core.listServiceForAllNamespaces();
    sim.createService(lb('b', 'new'));
    sim.updateService('a', 'kept', (s) => {
      s.status.loadBalancer = { ingress: [{ ip: '203.0.113.9' }] };
    });
    sim.deleteService('a', 'doomed');
    const w = await watch('/api/v1/services', { resourceVersion: listed.metadata?.resourceVersion });
    await until('three replayed events', () => w.events.length >= 3);
    sim.createService(lb('c', 'live'));
    await until('the live event', () => w.events.length >= 4);
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`)).toEqual(
      ['ADDED b/new', 'MODIFIED a/kept', 'DELETED a/doomed', 'ADDED c/live'],
    );
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
    expect(rvs[0]).toBe(Number(listed.metadata?.resourceVersion) + 1);
    expect(w.events[0]?.object).toMatchObject({ kind: 'Service', apiVersion: 'v1' });
    expect(w.events[1]?.object.status.loadBalancer.ingress).toEqual([{ ip: '203.0.113.9' }]);
    w.controller.abort();
  });

  test('without a resourceVersion (or "0"): synthetic ADDED for the current state first', async () => {
    await startSimulator({}, [lb('a', 'one'), lb('b', 'two')]);
    for (const resourceVersion of [undefined, '0']) {
      const w = await watch('/api/v1/namespaces/b/services', { resourceVersion });
      await until('the initial state', () => w.events.length >= 1);
      sim.updateService('b', 'two', (s) => {
        s.metadata.labels = { n: String(Math.random()) };
      });
      await until('the update', () => w.events.length >= 2);
      expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
        'ADDED two',
        'MODIFIED two',
      ]);
      w.controller.abort();
    }
  });

  test('a label selector turns changes into and out of the selection into ADDED and DELETED', async () => {
    await startSimulator({}, [lb('a', 'svc', { labels: { publish: 'yes' } })]);
    const w = await watch('/api/v1/services', { labelSelector: 'publish=yes' });
    const relabel = (value: string) =>
      sim.updateService('a', 'svc', (s) => {
        s.metadata.labels = { publish: value };
      });
    relabel('no');
    relabel('yes');
    sim.updateService('a', 'svc', (s) => {
      s.spec.ports = [{ protocol: 'TCP', port: 443, targetPort: 443 }];
    });
    await until('four events', () => w.events.length >= 4);
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'DELETED', 'ADDED', 'MODIFIED']);
    w.controller.abort();
  });

  test('from a compacted resourceVersion: an ERROR event with Status 410 Expired, then the stream ends', async () => {
    await startSimulator({}, [lb('a', 'x')]);
    const old = sim.resourceVersion;
    sim.createService(lb('a', 'y'));
    sim.compact();
    const w = await watch('/api/v1/services', { resourceVersion: old });
    expect(await w.done).toBeNull();
    expect(w.events).toHaveLength(1);
    expect(w.events[0]?.type).toBe('ERROR');
    expect(w.events[0]?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(w.events[0]?.object.message).toMatch(/^too old resource version: /);
    // Watching from the compaction point itself is fine.
    const fresh = await watch('/api/v1/services', { resourceVersion: sim.resourceVersion });
    sim.deleteService('a', 'x');
    await until('the delete', () => fresh.events.length === 1);
    expect(fresh.events[0]?.type).toBe('DELETED');
    fresh.controller.abort();
  });

  test('a small history limit compacts by itself, as etcd does', async () => {
    await startSimulator({ historyLimit: 3 }, [lb('a', 'x')]);
    const old = sim.resourceVersion;
    for (let i = 0; i < 4; i++) {
      sim.updateService('a', 'x', (s) => {
        s.metadata.labels = { i: String(i) };
      });
    }
    const w = await watch('/api/v1/services', { resourceVersion: old });
    expect(await w.done).toBeNull();
    expect(w.events[0]?.object.code).toBe(410);
  });

  test('410 as an HTTP status on demand: done gets an error with statusCode 410; the next watch works', async () => {
    await startSimulator({}, [lb('a', 'x')]);
    sim.faults.goneOnNextWatch(1, { shape: 'http' });
    const gone = await watch('/api/v1/services', { resourceVersion: sim.resourceVersion });
    expect(await gone.done).toMatchObject({ statusCode: 410 });
    expect(gone.events).toEqual([]);
    sim.faults.goneOnNextWatch();
    const inStream = await watch('/api/v1/services', { resourceVersion: sim.resourceVersion });
    expect(await inStream.done).toBeNull();
    expect(inStream.events[0]?.object.code).toBe(410);
    const next = await watch('/api/v1/services', {});
    await until('the initial ADDED', () => next.events.length === 1);
    next.controller.abort();
    expect(sim.stats().faults.gone).toBe(2);
  });

  test('bookmarks come only to watches that ask, and carry only the current resourceVersion', async () => {
    await startSimulator({ bookmarkIntervalMs: 50 }, [lb('a', 'x')]);
    const plain = await watch('/api/v1/services', { resourceVersion: sim.resourceVersion });
    const bookmarked = await watch('/api/v1/services', {
      resourceVersion: sim.resourceVersion,
      allowWatchBookmarks: true,
    });
    sim.createService(lb('a', 'y'));
    await until('two bookmarks', () => bookmarked.events.filter((e) => e.type === 'BOOKMARK').length >= 2);
    await until('the change on the plain watch', () => plain.events.length === 1);
    const bookmark = bookmarked.events.findLast((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toEqual({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { resourceVersion: sim.resourceVersion },
    });
    expect(plain.events.map((e) => e.type)).toEqual(['ADDED']);
    plain.controller.abort();
    bookmarked.controller.abort();
    expect(sim.stats().bookmarksSent).toBeGreaterThanOrEqual(2);
  });

  test('timeoutSeconds ends the stream cleanly: done(null)', async () => {
    await startSimulator();
    const started = Date.now();
    const w = await watch('/api/v1/services', { resourceVersion: sim.resourceVersion, timeoutSeconds: 1 });
    expect(await w.done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    await until('the watch to be closed', () => sim.stats().openWatches === 0);
  });
});

describe('faults', () => {
  test('dropWatches destroys open watch connections: done gets an error, not a clean end', async () => {
    await startSimulator({}, [lb('a', 'x')]);
    const watches = await Promise.all([
      watch('/api/v1/services', {}),
      watch('/api/v1/namespaces/a/services', {}),
    ]);
    await until('both watches open', () => sim.stats().openWatches === 2);
    expect(sim.faults.dropWatches()).toBe(2);
    for (const w of watches) {
      const err = await w.done;
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).not.toBe('AbortError');
    }
    await until('no open watches', () => sim.stats().openWatches === 0);
    expect(sim.stats().faults.dropped).toBe(2);
  });

  test('stallWatches: the socket stays open and silent, until the client’s inactivity timeout gives up', async () => {
    await startSimulator({ bookmarkIntervalMs: 20 }, [lb('a', 'x')]);
    const w = await watch('/api/v1/services', { allowWatchBookmarks: true, timeoutSeconds: 1 }, 1500);
    await until('the initial event and a bookmark', () => w.events.some((e) => e.type === 'BOOKMARK'));
    expect(sim.faults.stallWatches()).toBe(1);
    const seen = w.events.length;
    sim.createService(lb('a', 'unseen'));
    const err = await w.done;
    // Silence past timeoutSeconds (1 s): the stalled server never ended the stream; the client's timer did.
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(w.events).toHaveLength(seen);
    await until('the server to see the client leave', () => sim.stats().openWatches === 0);
  });

  test('stallWatches with alsoNew: new watches get headers, then nothing, until clear()', async () => {
    await startSimulator({}, [lb('a', 'x')]);
    sim.faults.stallWatches({ alsoNew: true });
    const stalled = await watch('/api/v1/services', {}, 300);
    expect(await stalled.done).toMatchObject({ name: 'TimeoutError' });
    expect(stalled.events).toEqual([]);
    sim.faults.clear();
    const healthy = await watch('/api/v1/services', {});
    await until('the initial ADDED', () => healthy.events.length === 1);
    healthy.controller.abort();
  });

  test('failNext answers the next N list or watch requests with a 5xx Status, then recovers', async () => {
    await startSimulator({}, [lb('a', 'x')]);
    sim.faults.failNext(2, { on: 'list' });
    for (let i = 0; i < 2; i++) {
      const err = await core.listServiceForAllNamespaces().catch((e: unknown) => e);
      expect((err as ApiException<unknown>).code).toBe(500);
    }
    expect((await core.listServiceForAllNamespaces()).items).toHaveLength(1);
    sim.faults.failNext(1, { on: 'watch', status: 503 });
    const refused = await watch('/api/v1/services', {});
    expect(await refused.done).toMatchObject({ statusCode: 503 });
    const accepted = await watch('/api/v1/services', {});
    await until('the initial ADDED', () => accepted.events.length === 1);
    accepted.controller.abort();
    expect(sim.stats().faults.failed).toBe(3);
  });

  test('failRandomly fails about the given share of requests, reproducibly for a seed', async () => {
    const outcomes: string[] = [];
    for (const _run of [1, 2]) {
      await startSimulator({ seed: 42 }, [lb('a', 'x')]);
      sim.faults.failRandomly(0.5, { status: 503 });
      let line = '';
      for (let i = 0; i < 40; i++) {
        line += await core.listServiceForAllNamespaces().then(
          () => '.',
          (e: ApiException<unknown>) => (e.code === 503 ? 'x' : '?'),
        );
      }
      outcomes.push(line);
      await sim.stop();
    }
    expect(outcomes[0]).toBe(outcomes[1]);
    const failures = [...(outcomes[0] ?? '')].filter((c) => c === 'x').length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    expect(outcomes[0]).not.toContain('?');
  });

  test('latency delays every list and watch response', async () => {
    await startSimulator({}, [lb('a', 'x')]);
    sim.faults.setLatency(300);
    let started = Date.now();
    await core.listServiceForAllNamespaces();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    started = Date.now();
    const w = await watch('/api/v1/services', {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    w.controller.abort();
    expect(sim.stats().faults.delayed).toBe(2);
  });

  test('stats count requests by kind and open watches', async () => {
    await startSimulator();
    await core.listServiceForAllNamespaces();
    await core.readNamespacedService({ namespace: 'a', name: 'b' }).catch(() => undefined);
    const w = await watch('/api/v1/services', { allowWatchBookmarks: true });
    await until('the watch to be open', () => sim.stats().openWatches === 1);
    const stats = sim.stats();
    expect(stats.requests).toMatchObject({ list: 1, get: 1, watch: 1 });
    expect(stats.watchesStarted).toBe(1);
    expect(stats.recent.at(-1)?.url).toMatch(/^\/api\/v1\/services\?.*allowWatchBookmarks=true/);
    w.controller.abort();
    await until('the watch to be closed', () => sim.stats().openWatches === 0);
  });

  test('stop() closes open and stalled watches and leaves nothing listening', async () => {
    await startSimulator({}, [lb('a', 'x')]);
    const open = await watch('/api/v1/services', {});
    const stalled = await watch('/api/v1/services', {});
    await until('two open watches', () => sim.stats().openWatches === 2);
    sim.faults.stallWatches();
    sim.faults.setLatency(10_000);
    const pending = core.listServiceForAllNamespaces().catch((e: unknown) => e);
    await until('the delayed list to arrive', () => sim.stats().requests.list === 1);
    await sim.stop();
    expect(await open.done).not.toBeUndefined();
    expect(await stalled.done).not.toBeUndefined();
    expect(await pending).toBeInstanceOf(Error);
    const refused = await fetch(sim.url).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
  });
});

describe('generator and churn', () => {
  test('generateServices: N published load balancers, some ClusterIP and pending ones, reproducible by seed', () => {
    const services = generateServices(50, { seed: 9 });
    expect(generateServices(50, { seed: 9 })).toEqual(services);
    expect(generateServices(50, { seed: 10 })).not.toEqual(services);
    const published = services.filter((s) => s.type === 'LoadBalancer' && s.ingress?.length);
    expect(published).toHaveLength(50);
    expect(services.filter((s) => s.type === 'ClusterIP')).toHaveLength(10);
    expect(services.filter((s) => s.type === 'LoadBalancer' && !s.ingress)).toHaveLength(5);
    expect(new Set(services.map((s) => `${s.namespace}/${s.name}`)).size).toBe(services.length);
    expect(new Set(services.map((s) => s.namespace)).size).toBeGreaterThan(2);
    for (const s of services) expect(s.ports?.length).toBeGreaterThanOrEqual(1);
    for (const s of services) expect(s.ports?.length).toBeLessThanOrEqual(3);
    const hostnames = published.flatMap((s) => s.ingress ?? []).filter((i) => i.hostname);
    expect(hostnames.length).toBeGreaterThan(25);
    for (const i of hostnames)
      expect(i.hostname).toMatch(/^a[0-9a-f]{31}-[0-9a-f]{16}\.elb\.us-east-1\.amazonaws\.com$/);
    expect(published.some((s) => s.ingress?.some((i) => i.ip))).toBe(true);
  });

  test('churn applies changes at the given rate for the given time, the same ones for the same seed', async () => {
    const shapes: unknown[] = [];
    for (const _run of [1, 2]) {
      const cluster = new ApiServerSimulator();
      for (const s of generateServices(20, { seed: 5 })) cluster.createService(s);
      const before = Number(cluster.resourceVersion);
      const counts = await startChurn(cluster, { changesPerSecond: 40, durationSeconds: 0.5, seed: 5 }).done;
      expect(counts.created + counts.updated + counts.deleted).toBe(20);
      expect(counts.created).toBeGreaterThan(0);
      expect(counts.updated).toBeGreaterThan(counts.deleted);
      // Every change is exactly one write.
      expect(Number(cluster.resourceVersion) - before).toBe(20);
      shapes.push(
        cluster
          .listServices()
          .map((s) => [
            s.metadata.namespace,
            s.metadata.name,
            s.metadata.resourceVersion,
            s.metadata.labels,
            s.spec.ports,
            s.status,
          ]),
      );
    }
    expect(shapes[1]).toEqual(shapes[0]);
  });

  test("churn leaves Services outside its namespaces alone: a person's pending load balancer stays theirs", async () => {
    const cluster = new ApiServerSimulator({ lbDelayMs: 3_600_000 });
    for (const s of generateServices(10, { seed: 6 })) cluster.createService(s);
    const mine = cluster.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'demo' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    const counts = await startChurn(cluster, { changesPerSecond: 400, durationSeconds: 0.5, seed: 8 }).done;
    // Enough changes that, picking among all Services, one would have hit it.
    expect(counts.updated + counts.deleted).toBeGreaterThan(100);
    expect(cluster.getService('demo', 'web')).toEqual(mine);
    expect(cluster.listServices().every((s) => s.metadata.namespace !== 'demo' || s === mine)).toBe(true);
  });
});
