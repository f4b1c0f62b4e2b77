// The registry stays true next to the writers it was built for, each one at work while the cluster churns: a Go
// service that round-trips the document through its three-field struct (dropping the ownership markers), the same
// service writing without a version (undoing whatever was written between its read and its write), and a script
// that pretty-prints the whole document. After the writer's last write the cluster's entries must be right again
// within REPAIR_BOUND_MS, with no deleted Service's entry left, and the writer's own entry as it last wrote it.
// Only the repairs built for this work here: the sync's, the reconcile it asks for, and the damage check; no
// scheduled reconcile.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import { startChurn } from '../../lib/local/apiserver/index.ts';
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import { readerView } from '../../lib/registry/document.ts';
import { eventually } from '../support/cli.ts';
import { LegacyWriter, type LegacyWriterKind } from '../support/legacy-writers.ts';
import { expectedEntries, ownedEntries, simulatedCluster } from './cluster-view.ts';

/** README, "The registry document": how soon after another writer's last write the cluster's entries are right. */
const REPAIR_BOUND_MS = 10_000;
const CLUSTER = 'legacy-e2e';
// Descriptions with what Go's encoder escapes, so that its round-trip changes bytes but not what readers see.
const MAPPING_ENV = { DESCRIPTION_TEMPLATE: 'Service {name} <{namespace}> & co' };
/** A sync asks for a reconcile at most once a second: the repairs of the test, not the deployed 30 s. */
const ENV = { ...MAPPING_ENV, REPAIR_INTERVAL_SECONDS: '1' };

let zk: ZooKeeperCluster;
beforeAll(async () => {
  zk = await ZooKeeperCluster.start();
}, 60_000);
afterAll(async () => {
  await zk?.destroy();
});

describe.each<LegacyWriterKind>(['go-round-trip', 'blind', 'reformat'])('next to a %s writer', (kind) => {
  test(`during churn; the cluster's entries are right within ${REPAIR_BOUND_MS} ms of its last write`, async () => {
    const path = `/legacy/${kind}/services`;
    const { sim, kubeConfig } = await simulatedCluster(300, 3);
    const repairs: string[] = [];
    const pipeline = await LocalPipeline.start({
      kubeConfig,
      zkConnect: zk.connectString,
      registryPath: path,
      clusterId: CLUSTER,
      env: ENV,
      queue: { windowMs: 200, batchSize: 200, concurrency: 2 },
      damageCheckEveryMs: 1_000,
      onSyncReport: (r) => r.report.repaired + r.report.unrepaired > 0 && repairs.push('sync'),
      onReconcile: (r, why) => !(r instanceof Error) && r.report.repaired > 0 && repairs.push(why),
    });
    let writer: LegacyWriter | undefined;
    try {
      await eventually('the forwarder to list', () => pipeline.forwarders.every((f) => f.ready), 30_000);
      await eventually(
        'the first entries',
        async () => ownedEntries((await pipeline.registry.read()).document, CLUSTER).length > 0,
      );
      writer = await LegacyWriter.start({
        kind,
        connectString: zk.connectString,
        path,
        name: `legacy-${kind}`,
        everyMs: 150,
        holdMs: 300,
      });
      const churn = startChurn(sim, { changesPerSecond: 40, durationSeconds: 6, seed: 8 });
      await churn.done;
      const writes = await writer.stop();
      const lastWrite = Date.now();
      expect(writes).toBeGreaterThan(3);

      const matches = async () => {
        const { document } = await pipeline.registry.read();
        const legacy = document.entries.find((e) => e.name === writer?.options.name);
        return (
          JSON.stringify(ownedEntries(document, CLUSTER)) ===
            JSON.stringify(expectedEntries(sim, MAPPING_ENV, CLUSTER)) &&
          document.entries.filter((e) => !e.owner).length === 1 &&
          legacy !== undefined &&
          JSON.stringify(readerView(legacy)) === JSON.stringify(writer?.lastEntry)
        );
      };
      // Waited for without failing, so that the comparisons below show what differs when it never matched.
      await eventually('the registry to match the cluster again', matches, REPAIR_BOUND_MS).catch(() => {});
      const took = Date.now() - lastWrite;

      const { document } = await pipeline.registry.read();
      expect(ownedEntries(document, CLUSTER)).toEqual(expectedEntries(sim, MAPPING_ENV, CLUSTER));
      // Nothing else is left: no entry of a deleted Service, with or without its marker (a writer drops them).
      expect(document.entries.filter((e) => !e.owner).map((e) => e.name)).toEqual([`legacy-${kind}`]);
      // The writer's own entry is what it last wrote, and stays its own: never marked, never changed.
      const legacy = document.entries.find((e) => e.name === `legacy-${kind}`);
      expect(legacy?.owner).toBeUndefined();
      expect(readerView(legacy as never)).toEqual(writer.lastEntry);
      expect(took).toBeLessThan(REPAIR_BOUND_MS);
      // A writer that drops markers or undoes writes does damage, and the repairs saw it; a reformat does none.
      if (kind === 'reformat') expect(repairs).toEqual([]);
      else expect(repairs.length).toBeGreaterThan(0);
      // The backstop finds nothing left to do.
      await eventually('the pipeline to settle', () => pipeline.settled, 30_000);
      const final = await pipeline.reconcileNow();
      expect(final.report).toMatchObject({ created: 0, updated: 0, deleted: 0, repaired: 0 });
    } finally {
      await writer?.stop();
      await pipeline.stop();
      await sim.stop();
    }
  }, 120_000);
});
