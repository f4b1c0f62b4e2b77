// A cluster rebuilt under the same id: cluster A ("prod", 50 published Services) is published and reconciled, then
// replaced by cluster B (a new apiserver, another kube-system uid, resourceVersions that start over far below A's)
// with the same cluster id, a new pipeline and the same document. Some of A's Services exist again in B with other
// addresses, some are gone, some are new. Whatever identifies B (its uid in every event, or only its lower
// resourceVersions), the first reconcile after it (forced when the deletion guard holds) starts the sync state
// afresh, and the document is then exactly B's Services: no entry of a Service B lacks, no address of A's dead load
// balancers. Until then the sync reports B's events as another incarnation's and asks for that reconcile, instead
// of dropping them as stale. Real parts throughout: ZooKeeper, two apiserver simulators, the forwarder, the local
// EventBridge and queue, the sync handler, and the reconcile.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import { ApiServerSimulator, generateServices, type ServiceInput } from '../../lib/local/apiserver/index.ts';
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import type { ReconcileResult } from '../../lib/reconcile/reconcile.ts';
import { type RegistryDocument, readerView } from '../../lib/registry/document.ts';
import { parseSyncState, type SyncState } from '../../lib/registry/sync-state.ts';
import type { SyncBatchReport } from '../../lib/sync/batch.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { eventually } from '../support/cli.ts';
import { expectedEntries, ownedEntries } from './cluster-view.ts';

const CLUSTER = 'prod';
const PUBLISHED = 50;

let zk: ZooKeeperCluster;
let store: ZkStore;
beforeAll(async () => {
  zk = await ZooKeeperCluster.start();
  store = new ZkStore({ connectString: zk.connectString });
}, 60_000);
afterAll(async () => {
  store?.close();
  await zk?.destroy();
});

/** Cluster A's Services: 50 published (and some that are not), each published one updated twice since. */
const servicesOfA: ServiceInput[] = generateServices(PUBLISHED, { seed: 21 });
const publishedOfA = servicesOfA.filter((s) => s.ingress !== undefined);

/**
 * Cluster B: the first `kept` of A's published Services again, by the same names, behind new load balancers (another
 * address range than anything of A's), and 10 Services A never had.
 */
function servicesOfB(kept: number): ServiceInput[] {
  return [
    ...publishedOfA.slice(0, kept).map((s, i) => ({ ...s, ingress: [{ ip: `192.0.2.${i + 1}` }] })),
    ...Array.from({ length: 10 }, (_, i) => ({
      namespace: 'rebuilt',
      name: `fresh-${i}`,
      type: 'LoadBalancer' as const,
      ports: [{ name: 'http', port: 80 }],
      ingress: [{ ip: `192.0.2.${200 + i}` }],
    })),
  ];
}

async function simulator(uid: string, services: readonly ServiceInput[], identityReadable: boolean) {
  const sim = new ApiServerSimulator({ bookmarkIntervalMs: 300, clusterUid: uid });
  // RBAC without `get` on namespaces: neither the forwarder nor the reconcile can read the identity.
  if (!identityReadable) sim.faults.forbidNamespaces();
  for (const s of services) sim.createService(s);
  await sim.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  return { sim, kubeConfig };
}

type Seen =
  | { readonly kind: 'sync'; readonly report: SyncBatchReport }
  | { readonly kind: 'reconcile'; readonly result: ReconcileResult | Error; readonly why: string };

function startPipeline(kubeConfig: KubeConfig, path: string, seen: Seen[]): Promise<LocalPipeline> {
  return LocalPipeline.start({
    kubeConfig,
    zkConnect: zk.connectString,
    registryPath: path,
    clusterId: CLUSTER,
    queue: { windowMs: 100, batchSize: 500, concurrency: 2 },
    env: { REPAIR_INTERVAL_SECONDS: '1' },
    forwarder: { watch: { backoff: { initialMs: 50, maxMs: 400 } } },
    onSyncReport: (r) => seen.push({ kind: 'sync', report: r.report }),
    onReconcile: (result, why) => seen.push({ kind: 'reconcile', result, why }),
  });
}

const readState = async (path: string): Promise<SyncState> =>
  parseSyncState((await store.read(syncStatePath(path, CLUSTER))).data);

const endpointsOf = (document: RegistryDocument) =>
  new Set(document.entries.flatMap((e) => readerView(e).endpoints));

/**
 * Cluster A published and reconciled, then stopped; returns its document and the resourceVersion of its last list
 * (the state's floor).
 */
async function publishClusterA(path: string, identityReadable: boolean) {
  const { sim, kubeConfig } = await simulator('uid-of-a', servicesOfA, identityReadable);
  // Two updates of each published Service: A's history runs well past anything B will have.
  for (const round of [1, 2]) {
    for (const s of publishedOfA) {
      sim.updateService(s.namespace, s.name, (draft) => {
        draft.metadata.labels = { ...draft.metadata.labels, round: String(round) };
      });
    }
  }
  const seen: Seen[] = [];
  const pipeline = await startPipeline(kubeConfig, path, seen);
  try {
    const matches = async () =>
      JSON.stringify(ownedEntries((await pipeline.registry.read()).document, CLUSTER)) ===
      JSON.stringify(expectedEntries(sim, {}, CLUSTER));
    await eventually('cluster A to be published', async () => pipeline.settled && (await matches()));
    const { report } = await pipeline.reconcileNow();
    expect(report).toMatchObject({ created: 0, updated: 0, deleted: 0, listVersion: sim.resourceVersion });
    expect(report.restarted).toBeUndefined();
    const { document } = await pipeline.registry.read();
    expect(ownedEntries(document, CLUSTER)).toHaveLength(PUBLISHED);
    const state = await readState(path);
    expect(state.floor).toBe(sim.resourceVersion);
    expect(state.identity).toBe(identityReadable ? 'uid-of-a' : undefined);
    return { document, floor: Number(sim.resourceVersion) };
  } finally {
    await pipeline.stop();
    await sim.stop();
  }
}

/** The document holds exactly B's Services, nothing of A's that B lacks, and none of A's addresses. */
async function expectClusterB(
  pipeline: LocalPipeline,
  sim: ApiServerSimulator,
  documentOfA: RegistryDocument,
) {
  const { document } = await pipeline.registry.read();
  expect(ownedEntries(document, CLUSTER)).toEqual(expectedEntries(sim, {}, CLUSTER));
  const names = new Set(document.entries.map((e) => e.name));
  const live = new Set(sim.listServices().map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  const gone = documentOfA.entries.filter((e) => !live.has(e.owner?.service ?? ''));
  expect(gone.length).toBeGreaterThan(0);
  expect(gone.filter((e) => names.has(e.name))).toEqual([]);
  const dead = [...endpointsOf(documentOfA)].filter((endpoint) => endpointsOf(document).has(endpoint));
  expect(dead).toEqual([]);
}

/** After the restart the sync takes B's events as usual: a change of each kind reaches the document. */
async function expectSyncFollowsB(pipeline: LocalPipeline, sim: ApiServerSimulator) {
  const [moved, removed] = sim.listServices().filter((s) => s.status.loadBalancer.ingress?.length);
  if (!moved || !removed) throw new Error('cluster B has too few published Services');
  sim.updateService(moved.metadata.namespace, moved.metadata.name, (s) => {
    s.status.loadBalancer.ingress = [{ ip: '192.0.2.250' }];
  });
  sim.deleteService(removed.metadata.namespace, removed.metadata.name);
  sim.createService({
    namespace: 'rebuilt',
    name: 'late',
    type: 'LoadBalancer',
    ports: [{ name: 'http', port: 80 }],
    ingress: [{ ip: '192.0.2.251' }],
  });
  await eventually(
    "B's later changes in the document",
    async () =>
      JSON.stringify(ownedEntries((await pipeline.registry.read()).document, CLUSTER)) ===
      JSON.stringify(expectedEntries(sim, {}, CLUSTER)),
    10_000,
  ).catch(() => {});
  expect(ownedEntries((await pipeline.registry.read()).document, CLUSTER)).toEqual(
    expectedEntries(sim, {}, CLUSTER),
  );
  await eventually('the pipeline to settle', () => pipeline.settled);
  const final = await pipeline.reconcileNow();
  expect(final.report).toMatchObject({ created: 0, updated: 0, deleted: 0, stale: 0 });
  expect(final.report.restarted).toBeUndefined();
}

const syncReports = (seen: readonly Seen[]) =>
  seen.flatMap((s) => (s.kind === 'sync' && s.report.received > 0 ? [s.report] : []));
const reconciles = (seen: readonly Seen[]) =>
  seen.flatMap((s) => (s.kind === 'reconcile' ? [{ why: s.why, result: s.result }] : []));
const reportOf = (result: ReconcileResult | Error) => {
  if (result instanceof Error) throw result;
  return result.report;
};

describe('a cluster rebuilt under the same id, with its identity in every event', () => {
  test('the sync reports the mismatch and asks for a reconcile, which starts the state afresh: B, and nothing of A', async () => {
    const path = '/rebuilt/identity/services';
    const a = await publishClusterA(path, true);
    const { sim, kubeConfig } = await simulator('uid-of-b', servicesOfB(35), true);
    expect(Number(sim.resourceVersion)).toBeLessThan(a.floor / 2);
    const seen: Seen[] = [];
    const pipeline = await startPipeline(kubeConfig, path, seen);
    try {
      // No person: the sync's request is the reconcile that converges.
      await eventually('the reconcile the sync asked for', () => reconciles(seen).length > 0);
      const [first] = reconciles(seen);
      expect(first?.why).toMatch(/^a sync asked: \d+ events come from another incarnation of cluster prod$/);
      const report = reportOf(first?.result as ReconcileResult);
      expect(report.restarted).toMatch(/identity changed from uid-of-a to uid-of-b/);
      expect(report.refused).toBeUndefined();
      // The first batch of B's events, before any reconcile: set aside as another incarnation's, none as stale,
      // none applied, and a reconcile requested.
      const [batch] = syncReports(seen);
      expect(batch).toMatchObject({ applied: 0, stale: 0, created: 0, updated: 0, deleted: 0 });
      expect(batch?.identityMismatch).toBe(batch?.received);
      expect(batch?.reconcileRequested).toBe(true);
      await eventually('the pipeline to settle', () => pipeline.settled);
      await expectClusterB(pipeline, sim, a.document);
      expect((await readState(path)).identity).toBe('uid-of-b');
      await expectSyncFollowsB(pipeline, sim);
    } finally {
      await pipeline.stop();
      await sim.stop();
    }
  }, 30_000);

  test('when the deletion guard holds, the registry stays as it was until --force; then B, and nothing of A', async () => {
    const path = '/rebuilt/guard/services';
    const a = await publishClusterA(path, true);
    // B has only 15 of A's 50 published Services: starting afresh deletes 70% of the cluster's entries.
    const { sim, kubeConfig } = await simulator('uid-of-b', servicesOfB(15), true);
    expect(Number(sim.resourceVersion)).toBeLessThan(a.floor / 2);
    const seen: Seen[] = [];
    const pipeline = await startPipeline(kubeConfig, path, seen);
    try {
      await eventually('the reconcile the sync asked for', () => reconciles(seen).length > 0);
      const refused = reportOf(reconciles(seen)[0]?.result as ReconcileResult);
      expect(refused.refused).toMatch(/^refusing to delete 35 of this cluster's entries \(70%/);
      expect(refused.written).toBe(false);
      await eventually('the pipeline to settle', () => pipeline.settled);
      // Every event of B was reported as another incarnation's, none dropped as stale, none applied.
      const reports = syncReports(seen);
      const sum = (field: 'received' | 'identityMismatch' | 'stale' | 'applied') =>
        reports.reduce((n, r) => n + r[field], 0);
      expect(sum('identityMismatch')).toBe(sum('received'));
      expect(sum('identityMismatch')).toBeGreaterThanOrEqual(sim.listServices().length);
      expect(sum('stale') + sum('applied')).toBe(0);
      const { document } = await pipeline.registry.read();
      expect(document).toEqual(a.document);

      const forced = await pipeline.reconcileNow({ force: true }, 'a person (--force)');
      expect(forced.report.restarted).toMatch(/identity changed from uid-of-a to uid-of-b/);
      expect(forced.report).toMatchObject({ deleted: 35, written: true });
      await expectClusterB(pipeline, sim, a.document);
      await expectSyncFollowsB(pipeline, sim);
    } finally {
      await pipeline.stop();
      await sim.stop();
    }
  }, 30_000);
});

describe('a cluster rebuilt under the same id, without permission to read its identity', () => {
  test("B's events are older than the floor; the first reconcile's list, older still, starts the state afresh", async () => {
    const path = '/rebuilt/no-identity/services';
    const a = await publishClusterA(path, false);
    const { sim, kubeConfig } = await simulator('uid-of-b', servicesOfB(35), false);
    expect(Number(sim.resourceVersion)).toBeLessThan(a.floor / 2);
    const seen: Seen[] = [];
    const pipeline = await startPipeline(kubeConfig, path, seen);
    try {
      await eventually('the pipeline to settle', () => pipeline.settled);
      // Without an identity nothing tells B's events from late ones of A: they are stale against the floor, and
      // the document is A's until the reconcile.
      const reports = syncReports(seen);
      expect(reports.reduce((n, r) => n + r.identityMismatch + r.applied, 0)).toBe(0);
      expect(reports.reduce((n, r) => n + r.stale, 0)).toBeGreaterThanOrEqual(sim.listServices().length);
      expect((await pipeline.registry.read()).document).toEqual(a.document);
      expect(sim.stats().faults.forbidden).toBeGreaterThan(0);

      // The list is taken at the cluster's version now: the Events the reconcile then writes on B's Services move
      // the cluster's version on, as any write does.
      const listVersion = sim.resourceVersion;
      const { report } = await pipeline.reconcileNow();
      expect(report.restarted).toMatch(
        new RegExp(`resourceVersion went back from ${a.floor} to ${listVersion}`),
      );
      expect(report.refused).toBeUndefined();
      await expectClusterB(pipeline, sim, a.document);
      const state = await readState(path);
      expect(state.floor).toBe(report.listVersion);
      expect(state.identity).toBeUndefined();
      await expectSyncFollowsB(pipeline, sim);
    } finally {
      await pipeline.stop();
      await sim.stop();
    }
  }, 30_000);
});
