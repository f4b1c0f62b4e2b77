// README's guarantee 1 as a property, on the real ZooKeeper: whatever the queue does to an event sequence
// (duplicates, reorders, batches) and whatever reconciles run in between (from lists of any age), the document ends
// as the final cluster state maps, an older event never overwrites a newer state, and a deleted Service never
// comes back from a late event. Services and resourceVersions come from the apiserver simulator's store.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import { compareResourceVersions } from '../../lib/events/resource-version.ts';
import { defaultMappingConfig, mapService } from '../../lib/kube/mapping.ts';
import { trimService } from '../../lib/kube/trim.ts';
import type { Service } from '../../lib/local/apiserver/index.ts';
import { reconcile } from '../../lib/reconcile/reconcile.ts';
import { handEntry, type RegistryEntry, readerView } from '../../lib/registry/document.ts';
import { knownVersion, parseSyncState } from '../../lib/registry/sync-state.ts';
import { syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import { syncStatePath, ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { serviceRecord } from './fixtures.ts';
import { deliveredBatches, deliveryArb, opArb, play, type Snapshot } from './history.ts';

const CLUSTER = 'prop-cluster';
const NAMESPACE = 'prop';
const NAMES = ['alpha', 'beta', 'gamma', 'delta'];
const HAND: RegistryEntry = {
  name: 'zookeeper-hand',
  description: 'by hand',
  endpoints: ['zk.internal:2181'],
};

const entryOf = (service: Service): RegistryEntry | undefined => {
  const m = mapService(trimService(service), defaultMappingConfig, CLUSTER);
  return m.kind === 'entry' ? m.entry : undefined;
};
const byName = (a: RegistryEntry, b: RegistryEntry) => (a.name < b.name ? -1 : 1);

/** A history, and what the queue and the schedule make of it. */
const scenarioArb = fc
  .array(opArb(NAMES, 3), { minLength: 1, maxLength: 24 })
  .map((ops) => play(ops, NAMESPACE))
  .chain((h) => {
    return fc.record({
      history: fc.constant(h),
      delivery: deliveryArb(h.changes.length, 8, 10),
      // Reconciles after some batch, from a list taken at any point of the history.
      reconciles: fc.array(fc.record({ afterBatch: fc.nat(), snapshot: fc.nat() }), { maxLength: 3 }),
    });
  });

describe('sync and reconcile, whatever the delivery', () => {
  const config = parseRegistryConfig({
    ZK_CONNECT: inject('zkConnect'),
    REGISTRY_PATH: '/property/unused',
    CLUSTER_ID: CLUSTER,
    ZK_OPEN_ACL: 'true',
  });
  const { store } = registryFromConfig(config);
  const target = registryTarget(config);
  afterAll(() => store.close());

  test('end in the final state; never older than applied; deleted stays deleted', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ history, delivery, reconciles }) => {
        const path = `/property/${randomUUID()}/registry`;
        const registry = new ZkRegistryStore(store, path);
        await registry.modify(() => ({ document: { entries: [handEntry(HAND)] }, result: undefined }));
        const handText = (await registry.read()).document.entries[0]?.text;

        const batches = deliveredBatches(history.changes, delivery);

        const known = new Map<string, string>();
        const check = async () => {
          const stateData = (await store.read(syncStatePath(path, CLUSTER))).data;
          const state = parseSyncState(stateData);
          const { document } = await registry.read();
          expect(document.entries.find((e) => !e.owner)?.text).toBe(handText);
          for (const name of NAMES) {
            const key = `${NAMESPACE}/${name}`;
            const rv = knownVersion(state, key);
            const previous = known.get(key);
            if (rv === undefined) {
              expect(previous).toBeUndefined();
              continue;
            }
            // An older observation never replaces a newer one.
            if (previous !== undefined)
              expect(compareResourceVersions(rv, previous)).toBeGreaterThanOrEqual(0);
            known.set(key, rv);
            // A version at or below the floor is dropped from the state: the reconcile's list decided that entry.
            if (state.services[key] === undefined && state.tombstones[key] === undefined) continue;
            // The entry is exactly what the Service looked like at the version the state records (none when gone).
            const at = state.services[key] === undefined ? undefined : history.versions.get(key)?.get(rv);
            if (state.services[key] !== undefined) expect(at).toBeDefined();
            const want = at ? entryOf(at) : undefined;
            const have = document.entries.find((e) => e.owner?.service === key);
            expect(have ? readerView(have) : undefined).toEqual(want);
          }
        };

        let lastSnapshot = 0;
        for (const [b, batch] of batches.entries()) {
          const result = await syncBatch(
            batch.map((c) => serviceRecord(CLUSTER, c.service, c.deleted ? 'deleted' : 'watch')),
            { registry, target },
          );
          expect(result.batchItemFailures).toEqual([]);
          await check();
          for (const r of reconciles.filter((x) => x.afterBatch % batches.length === b)) {
            // Lists of one cluster that do not overlap in time come in order: an older list taken after a newer
            // one was applied means the cluster's etcd went back, which starts the state afresh (a test of its own).
            lastSnapshot = Math.max(lastSnapshot, r.snapshot % history.snapshots.length);
            const snapshot = history.snapshots[lastSnapshot] as Snapshot;
            await reconcile({ registry, target, list: async () => snapshot, maxDeleteShare: 0.5 });
            await check();
          }
        }

        const expected = [...history.final.flatMap((s) => entryOf(s) ?? []), HAND].sort(byName);
        const { document } = await registry.read();
        expect(document.entries.map(readerView).sort(byName)).toEqual(expected);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
    );
  });
});
