// The reconcile against the apiserver simulator (the real @kubernetes/client-node) and the shared real ZooKeeper.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import { KubeListError, listAllServices } from '../../lib/kube/list.ts';
import { mapService, parseMappingConfig } from '../../lib/kube/mapping.ts';
import { trimService } from '../../lib/kube/trim.ts';
import { ApiServerSimulator, generateServices, type Service } from '../../lib/local/apiserver/index.ts';
import { reconcile } from '../../lib/reconcile/reconcile.ts';
import { clusterList, parseReconcileRequest, ReconcileRequestError } from '../../lib/reconcile/request.ts';
import { handEntry, ownedEntry, type RegistryEntry, readerView } from '../../lib/registry/document.ts';
import { syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import type { ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { lambdaContext, serviceRecord } from '../sync/fixtures.ts';

const CLUSTER = 'rc-cluster';
const connectString = inject('zkConnect');
const uniquePath = () => `/test/${randomUUID()}/registry`;
// Namespace `data` may publish any name (the name policy), so that it can ask for one held by hand.
const MAPPING_ENV = { NAME_OVERRIDE_NAMESPACES: 'data' };

const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-reconcile-'));
const sim = new ApiServerSimulator();
await sim.start();
const kubeconfigFile = join(dir, 'kubeconfig');
await sim.writeKubeconfig(kubeconfigFile);

// The module-level handler reads its configuration from the environment at import, as on a cold start.
const envPath = uniquePath();
Object.assign(process.env, {
  ZK_CONNECT: connectString,
  REGISTRY_PATH: envPath,
  CLUSTER_ID: CLUSTER,
  // A local ZooKeeper without credentials: the znodes are open, as asked.
  ZK_OPEN_ACL: 'true',
  ...MAPPING_ENV,
  KUBECONFIG: kubeconfigFile,
  LIST_PAGE_SIZE: '50',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
const { handler } = await import('../../functions/reconcile.ts');
const { createReconcileHandler } = await import('../../functions/reconcile-handler.ts');

const kc = new KubeConfig();
kc.loadFromString(sim.kubeconfig());
const api = kc.makeApiClient(CoreV1Api);

const opened: ZkRegistryStore[] = [];
const configFor = (path: string) =>
  parseRegistryConfig({
    ZK_CONNECT: connectString,
    REGISTRY_PATH: path,
    CLUSTER_ID: CLUSTER,
    ZK_OPEN_ACL: 'true',
    ...MAPPING_ENV,
  });
function registryAt(path: string) {
  const { registry } = registryFromConfig(configFor(path));
  opened.push(registry);
  return registry;
}
/** The reconcile handler as the Lambda builds it, on a new document, with these clients, logger and metrics. */
function handlerOnNewDocument(api: () => CoreV1Api, logger: Logger, metrics: Metrics) {
  const path = uniquePath();
  const registry = registryAt(path);
  const h = createReconcileHandler({
    config: { ...configFor(path), kube: { kind: 'kubeconfig', file: kubeconfigFile }, listPageSize: 50 },
    registry: async () => registry,
    api: async () => api(),
    logger,
    metrics,
  });
  return { registry, h };
}
afterAll(async () => {
  for (const r of opened) r.close();
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

const byName = (a: RegistryEntry, b: RegistryEntry) => (a.name < b.name ? -1 : 1);
const mapped = (services: Service[]): RegistryEntry[] =>
  services
    .flatMap((s) => {
      const m = mapService(trimService(s), parseMappingConfig(MAPPING_ENV), CLUSTER);
      return m.kind === 'entry' ? [m.entry] : [];
    })
    .sort(byName);
const entriesIn = async (registry: ZkRegistryStore) =>
  (await registry.read()).document.entries.map(readerView).sort(byName);

/** What `work` writes to stdout and stderr (Powertools' logs and EMF metrics), kept out of the test output. */
async function capturingOutput<T>(work: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write.bind(stream));
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  try {
    return { result: await work(), lines };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
}

/** The invocation's metrics, from its EMF line. */
const emfOf = (lines: readonly string[]): Record<string, unknown> =>
  JSON.parse(
    lines.flatMap((l) => l.split('\n')).find((l) => l.includes('"CloudWatchMetrics"')) ?? '{}',
  ) as Record<string, unknown>;

const run = (registry: ZkRegistryStore, options: { dryRun?: boolean; force?: boolean } = {}) =>
  reconcile({
    registry,
    target: registryTarget(configFor(registry.path)),
    list: clusterList(api, 50),
    maxDeleteShare: 0.5,
    ...options,
  });

describe('reconcile', () => {
  beforeAll(() => {
    for (const input of generateServices(120, { seed: 11 })) sim.createService(input);
  });

  test('publishes every mapped Service once; a second reconcile writes nothing', async () => {
    const registry = registryAt(uniquePath());
    const first = await run(registry);
    const expected = mapped(sim.listServices());
    expect(first.report).toMatchObject({
      listed: sim.listServices().length,
      listVersion: sim.resourceVersion,
      created: expected.length,
      updated: 0,
      deleted: 0,
      written: true,
      documentWritten: true,
      dryRun: false,
    });
    expect(first.report.skipped).toBe(sim.listServices().length - expected.length);
    expect(await entriesIn(registry)).toEqual(expected);
    const second = await run(registry);
    expect(second.report).toMatchObject({ created: 0, unchanged: expected.length, documentWritten: false });
    expect((await registry.read()).version).toBe(first.report.version);
  });

  test("creates, updates and deletes what changed; hand-made and other clusters' entries stay byte for byte", async () => {
    const registry = registryAt(uniquePath());
    const kafka = { name: 'kafka', description: 'by hand', endpoints: ['k1:9092'] };
    const foreign = ownedEntry(
      { name: 'billing.payments', description: 'other', endpoints: ['10.0.0.1:80'] },
      { cluster: 'other-cluster', service: 'payments/billing' },
    );
    await registry.modify(() => ({ document: { entries: [handEntry(kafka), foreign] }, result: undefined }));
    await run(registry);
    const before = (await registry.read()).document;
    const published = sim.listServices().filter((s) => s.status.loadBalancer.ingress?.length);
    const [changed, removed] = published as [Service, Service];
    sim.updateService(changed.metadata.namespace, changed.metadata.name, (d) => {
      d.status.loadBalancer.ingress = [{ ip: '198.51.100.7' }];
    });
    sim.deleteService(removed.metadata.namespace, removed.metadata.name);
    const added = sim.createService({
      namespace: 'checkout',
      name: 'fresh',
      type: 'LoadBalancer',
      ports: [{ name: 'https', port: 443 }],
      ingress: [{ hostname: 'fresh.elb.example.com' }],
    });
    // A Service that wants a name held by hand is a conflict, not an overwrite.
    sim.createService({
      namespace: 'data',
      name: 'kafka',
      type: 'LoadBalancer',
      ports: [{ port: 9092 }],
      ingress: [{ ip: '198.51.100.9' }],
      annotations: { 'kube-zk-sync.io/name': 'kafka' },
    });
    const result = await run(registry);
    expect(result.report).toMatchObject({ created: 1, updated: 1, deleted: 1, conflicts: 1 });
    expect(result.plan.creates.map((c) => c.service)).toEqual(['checkout/fresh']);
    expect(result.plan.conflicts).toEqual([
      { service: 'data/kafka', name: 'kafka', heldBy: 'a hand-made entry' },
    ]);
    const after = (await registry.read()).document;
    const text = (name: string, doc: typeof before) => doc.entries.find((e) => e.name === name)?.text;
    expect(text('kafka', after)).toBe(text('kafka', before));
    expect(text('billing.payments', after)).toBe(text('billing.payments', before));
    expect(after.entries.find((e) => e.owner?.service === 'checkout/fresh')?.name).toBe(
      mapped([added])[0]?.name,
    );
  });

  test('a 5xx on a page of the list: it throws and nothing is written', async () => {
    const registry = registryAt(uniquePath());
    await run(registry);
    const before = await registry.read();
    const victim = sim.listServices().find((s) => s.status.loadBalancer.ingress?.length) as Service;
    sim.deleteService(victim.metadata.namespace, victim.metadata.name);
    let page = 0;
    const failing = {
      listServiceForAllNamespaces: async (param: { limit?: number; _continue?: string }) => {
        const result = await api.listServiceForAllNamespaces(param);
        if (++page === 1) sim.faults.failNext(1, { on: 'list', status: 500 });
        return result;
      },
    };
    const error = await reconcile({
      registry,
      target: registryTarget(configFor(registry.path)),
      list: () => listAllServices(failing, { pageSize: 50 }),
      maxDeleteShare: 1,
      force: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeListError);
    expect((error as Error).message).toContain('page 2 (HTTP 500');
    const after = await registry.read();
    expect(after.version).toBe(before.version);
    expect(
      after.document.entries.some(
        (e) => e.owner?.service === `${victim.metadata.namespace}/${victim.metadata.name}`,
      ),
    ).toBe(true);
  });

  test('the mass-deletion guard: an empty list from the API deletes nothing unless forced', async () => {
    // Its own cluster, emptied: the list is empty at a newer resourceVersion than every entry, as after an
    // outage of whatever creates the Services, or a filter gone wrong.
    const cluster = new ApiServerSimulator();
    await cluster.start();
    try {
      for (const input of generateServices(30, { seed: 5 })) cluster.createService(input);
      const clusterConfig = new KubeConfig();
      clusterConfig.loadFromString(cluster.kubeconfig());
      const input = {
        registry: registryAt(uniquePath()),
        target: registryTarget(configFor(uniquePath())),
        list: clusterList(clusterConfig.makeApiClient(CoreV1Api), 50),
        maxDeleteShare: 0.5,
      };
      const { registry } = input;
      await reconcile(input);
      const before = await registry.read();
      const owned = before.document.entries.length;
      expect(owned).toBeGreaterThan(0);
      for (const s of cluster.listServices()) cluster.deleteService(s.metadata.namespace, s.metadata.name);

      const refused = await reconcile(input);
      expect(refused.report).toMatchObject({ listed: 0, deleted: owned, written: false });
      expect(refused.report.refused).toMatch(/^refusing to delete \d+ of this cluster's entries \(100%/);
      expect((await registry.read()).version).toBe(before.version);

      const dry = await reconcile({ ...input, force: true, dryRun: true });
      expect(dry.report).toMatchObject({ deleted: owned, written: false, dryRun: true });
      expect(dry.report.refused).toBeUndefined();
      expect((await registry.read()).version).toBe(before.version);

      const forced = await reconcile({ ...input, force: true });
      expect(forced.report).toMatchObject({ deleted: owned, documentWritten: true });
      expect((await registry.read()).document.entries).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });

  test('events newer than the list survive it: a Service created after the list stays, one deleted stays gone', async () => {
    const path = uniquePath();
    const registry = registryAt(path);
    const target = registryTarget(configFor(path));
    await run(registry);
    const victim = sim.listServices().find((s) => s.status.loadBalancer.ingress?.length) as Service;
    let created: Service | undefined;
    const result = await reconcile({
      registry,
      target,
      maxDeleteShare: 0.5,
      list: async () => {
        const list = await listAllServices(api, { pageSize: 50 });
        // While the reconcile was listing, the cluster moved on and the sync applied the events.
        created = sim.createService({
          namespace: 'search',
          name: `after-list-${randomUUID().slice(0, 8)}`,
          type: 'LoadBalancer',
          ports: [{ port: 80 }],
          ingress: [{ ip: '198.51.100.30' }],
        });
        const deleted = sim.deleteService(victim.metadata.namespace, victim.metadata.name);
        await syncBatch([serviceRecord(CLUSTER, created), serviceRecord(CLUSTER, deleted, 'deleted')], {
          registry,
          target,
        });
        return list;
      },
    });
    expect(result.report.stale).toBe(2);
    const services = (await registry.read()).document.entries.map((e) => e.owner?.service);
    expect(services).toContain(`search/${created?.metadata.name}`);
    expect(services).not.toContain(`${victim.metadata.namespace}/${victim.metadata.name}`);
    expect(await entriesIn(registry)).toEqual(mapped(sim.listServices()));
  });

  test('an unreadable object in the list keeps its entry and is reported', async () => {
    const registry = registryAt(uniquePath());
    const list = await listAllServices(api, { pageSize: 500 });
    await reconcile({
      registry,
      target: registryTarget(configFor(registry.path)),
      list: async () => list,
      maxDeleteShare: 0.5,
    });
    const published = list.items.find((s) => (s as Service).status?.loadBalancer?.ingress?.length) as Service;
    const broken = { ...published, spec: { ...published.spec, ports: [{ port: 'eighty' }] } };
    const result = await reconcile({
      registry,
      target: registryTarget(configFor(registry.path)),
      list: async () => ({ ...list, items: list.items.map((s) => (s === published ? broken : s)) }),
      maxDeleteShare: 0.5,
    });
    expect(result.report).toMatchObject({ invalid: 1, deleted: 0, documentWritten: false });
    expect(result.invalid[0]?.error).toContain(
      `cannot read Service ${published.metadata.namespace}/${published.metadata.name}`,
    );
  });
});

describe('the reconcile handler', () => {
  test("reconciles on the schedule's {} and reports; a dry run writes nothing", async () => {
    const dry = await handler({ dryRun: true }, lambdaContext(60_000, 'kube-zk-sync-reconcile'));
    expect(dry).toMatchObject({ dryRun: true, written: false, listed: sim.listServices().length });
    // Where each Service stands: the same rows `kube-zk-sync status` prints.
    const rows = (
      dry as unknown as { services: Array<{ service: string; outcome: string; document?: string }> }
    ).services;
    expect(rows.map((r) => r.service)).toEqual(
      sim
        .listServices()
        .map((s) => `${s.metadata.namespace}/${s.metadata.name}`)
        .sort(),
    );
    expect(rows.filter((r) => r.outcome === 'published').length).toBe(mapped(sim.listServices()).length);
    expect(rows.filter((r) => r.outcome === 'published').every((r) => r.document === 'missing')).toBe(true);
    const registry = registryAt(envPath);
    expect((await registry.read()).version).toBe(-1);
    const real = await handler({}, lambdaContext(60_000, 'kube-zk-sync-reconcile'));
    expect(real).toMatchObject({
      dryRun: false,
      documentWritten: true,
      created: mapped(sim.listServices()).length,
    });
    expect(await entriesIn(registry)).toEqual(mapped(sim.listServices()));
  });

  test('a misspelt option is refused before anything is listed', async () => {
    const before = sim.stats().requests.list;
    await expect(handler({ dryrun: true }, lambdaContext())).rejects.toThrow(
      'unknown reconcile option "dryrun"; use {"dryRun": true}, {"force": true}, {"resetState": true} and/or {"check": true}',
    );
    expect(sim.stats().requests.list).toBe(before);
  });

  test('an apiserver that fails the list fails the invocation (the Errors alarm), writing nothing', async () => {
    const { registry, h } = handlerOnNewDocument(
      () => api,
      new Logger({ logLevel: 'SILENT' }),
      new Metrics({ namespace: 'KubeZkSyncTest', serviceName: 't' }),
    );
    sim.faults.failNext(1, { on: 'list', status: 503 });
    await expect(h({}, lambdaContext())).rejects.toThrow(/listing Services failed on page 1 \(HTTP 503/);
    expect((await registry.read()).version).toBe(-1);
  });

  test('a new cluster under the same id: the handler logs that the state started afresh and counts SyncStateRestarted', async () => {
    // The same Services in both: only the identity tells the new cluster from the old.
    const [old, rebuilt] = ['uid-old', 'uid-new'].map((clusterUid) => {
      const cluster = new ApiServerSimulator({ clusterUid });
      for (const input of generateServices(20, { seed: 31 })) cluster.createService(input);
      return cluster;
    }) as [ApiServerSimulator, ApiServerSimulator];
    await Promise.all([old.start(), rebuilt.start()]);
    let current = old;
    const apiOf = (cluster: ApiServerSimulator) => {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromString(cluster.kubeconfig());
      return kubeConfig.makeApiClient(CoreV1Api);
    };
    // Metrics that print (the module's environment switches them off), and a logger at warn.
    const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const metrics = new Metrics({ namespace: 'KubeZkSyncTest', serviceName: 't' });
    process.env.POWERTOOLS_METRICS_DISABLED = disabled;
    const { h } = handlerOnNewDocument(() => apiOf(current), new Logger({ logLevel: 'WARN' }), metrics);
    try {
      const first = await capturingOutput(() => h({}, lambdaContext()));
      expect(first.result).toMatchObject({ created: mapped(old.listServices()).length });
      expect(emfOf(first.lines)).toMatchObject({ SyncStateRestarted: 0 });

      current = rebuilt;
      const second = await capturingOutput(() => h({}, lambdaContext()));
      expect(second.result).toMatchObject({
        restarted: expect.stringMatching(/identity changed from uid-old to uid-new/),
        created: 0,
        deleted: 0,
      });
      expect(emfOf(second.lines)).toMatchObject({ SyncStateRestarted: 1 });
      const warning = second.lines
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level?: string; message?: string; why?: string })
        .find((l) => l.message === 'the sync state was started afresh');
      expect(warning).toMatchObject({ level: 'WARN', why: expect.stringMatching(/uid-old to uid-new/) });
    } finally {
      await Promise.all([old.stop(), rebuilt.stop()]);
    }
  });

  const ordinary = { dryRun: false, force: false, resetState: false, check: false };
  test.each([
    [undefined, ordinary],
    [{}, ordinary],
    [{ dryRun: true }, { ...ordinary, dryRun: true }],
    [
      { force: true, dryRun: false },
      { ...ordinary, force: true },
    ],
    [{ resetState: true }, { ...ordinary, resetState: true }],
    [{ check: true }, { ...ordinary, check: true }],
    [{ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, ordinary],
    [
      {
        source: 'kube-zk-sync.sync',
        'detail-type': 'Reconcile requested',
        detail: { reason: '2 entries damaged' },
      },
      { ...ordinary, reason: '2 entries damaged' },
    ],
  ])('request %j', (event, expected) => {
    expect(parseReconcileRequest(event)).toEqual(expected);
  });

  test.each([[[]], ['force'], [{ force: 'yes' }], [{ dry_run: true }], [{ check: 1 }], [{ reason: 7 }]])(
    'request %j is refused',
    (event) => {
      expect(() => parseReconcileRequest(event)).toThrow(ReconcileRequestError);
    },
  );
});
