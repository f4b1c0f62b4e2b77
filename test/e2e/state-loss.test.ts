// The sync state corrupted or deleted while the cluster churns: the syncs refuse to guess (their records wait in
// the queue) and ask for a reconcile, which rebuilds the state from a complete list; then every event ever sent is
// delivered again, late, and none brings a deleted Service back. No person, no scheduled reconcile.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import { startChurn } from '../../lib/local/apiserver/index.ts';
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { ContentionError, ZkStore } from '../../lib/zk/store.ts';
import { eventually } from '../support/cli.ts';
import { expectedEntries, ownedEntries, simulatedCluster } from './cluster-view.ts';

const CLUSTER = 'state-e2e';

let zk: ZooKeeperCluster;
let store: ZkStore;
beforeAll(async () => {
  zk = await ZooKeeperCluster.start();
  store = new ZkStore({ openAcl: true, connectString: zk.connectString });
}, 60_000);
afterAll(async () => {
  store?.close();
  await zk?.destroy();
});

const damages: Record<string, (store: ZkStore, path: string) => Promise<unknown>> = {
  corrupted: (s, path) => s.update([path], () => ({ data: [Buffer.from('{"v":2,"owned":')], result: 0 })),
  // A person deleting the znode by hand, again if a sync wrote it between their read and their delete.
  deleted: async (s, path) => {
    for (;;) {
      try {
        return await s.remove(path, (await s.read(path)).version);
      } catch (error) {
        if (!(error instanceof ContentionError)) throw error;
      }
    }
  },
};

describe.each(Object.keys(damages))('a sync state %s during churn', (how) => {
  test('is rebuilt without a person; replayed events bring nothing deleted back', async () => {
    const path = `/state-loss/${how}/services`;
    const { sim, kubeConfig } = await simulatedCluster(200, 4);
    const refusedBatches: string[] = [];
    const restarts: string[] = [];
    const pipeline = await LocalPipeline.start({
      kubeConfig,
      zkConnect: zk.connectString,
      registryPath: path,
      clusterId: CLUSTER,
      // The records of refused batches come back after the visibility timeout, many times if need be.
      queue: { windowMs: 200, batchSize: 200, visibilityTimeoutMs: 300, maxReceiveCount: 1000 },
      env: { REPAIR_INTERVAL_SECONDS: '1' },
      onSyncReport: (r) => r.report.refused === 'SyncStateError' && refusedBatches.push(r.report.error ?? ''),
      onReconcile: (r) => !(r instanceof Error) && r.report.restarted && restarts.push(r.report.restarted),
    });
    try {
      await eventually('the forwarder to list', () => pipeline.forwarders.every((f) => f.ready), 30_000);
      await eventually(
        'the first reconcile-free sync',
        async () => (await store.read(syncStatePath(path, CLUSTER))).version >= 0,
      );
      const churn = startChurn(sim, { changesPerSecond: 40, durationSeconds: 6, seed: 6 });
      await eventually('some churn', () => churn.counts.deleted > 3);
      await damages[how]?.(store, syncStatePath(path, CLUSTER));
      await churn.done;
      await eventually('the pipeline to settle', () => pipeline.settled, 60_000);

      expect(refusedBatches.length).toBeGreaterThan(0);
      expect(refusedBatches[0]).toMatch(/sync state .*kube-zk-sync\.state-e2e .*reconcile --reset-state/);
      expect(restarts.length).toBeGreaterThan(0);
      expect(pipeline.queue.deadLetters).toEqual([]);
      const expected = expectedEntries(sim, {}, CLUSTER);
      expect(ownedEntries((await pipeline.registry.read()).document, CLUSTER)).toEqual(expected);

      // Every event ever routed, delivered again: late, duplicated, in the order first sent.
      const replayed = pipeline.eventBridge.deliveries.filter((d) => d.rule === 'ServiceEventsRule');
      expect(replayed.length).toBeGreaterThan(300);
      for (const d of replayed) pipeline.queue.send(JSON.stringify(d.event));
      await eventually('the replay to drain', () => pipeline.settled, 60_000);
      expect(ownedEntries((await pipeline.registry.read()).document, CLUSTER)).toEqual(expected);
      expect(pipeline.queue.deadLetters).toEqual([]);
    } finally {
      await pipeline.stop();
      await sim.stop();
    }
  }, 120_000);
});
