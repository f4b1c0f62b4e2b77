// Shared entries as a property, on the real ZooKeeper: two or three clusters publish the same names shared, each
// from its own simulated cluster (its own resourceVersions), through the real sync. Their events are duplicated and
// reordered, their batches interleaved and written at the same time, and a writer that drops unknown fields
// strikes in between. At every version a reader sees, each shared entry's endpoints are the union of what each
// cluster last observed (its sync state's version of each Service), and a reconcile of each cluster at the end
// leaves exactly the union of the clusters' final Services.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import { mapService } from '../../lib/kube/mapping.ts';
import { trimService } from '../../lib/kube/trim.ts';
import { reconcile } from '../../lib/reconcile/reconcile.ts';
import { handEntry, type RegistryEntry, readerView } from '../../lib/registry/document.ts';
import { knownVersion, parseSyncState } from '../../lib/registry/sync-state.ts';
import { syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget, stepRules } from '../../lib/sync/target.ts';
import { syncStatePath, ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { serviceRecord } from './fixtures.ts';
import { deliveredBatches, deliveryArb, type History, opArb, play } from './history.ts';

const CLUSTERS = ['east', 'north', 'west'];
const NAMESPACE = 'shop';
const NAMES = ['web', 'api'];
const HAND: RegistryEntry = { name: 'kafka', description: 'by hand', endpoints: ['k1.internal:9092'] };

// Addresses overlap between clusters (1 to 4 in each): the union has each once.
/** One cluster: its history, and the batches the queue makes of its (duplicated, reordered) events. */
const clusterArb = fc
  .array(opArb(NAMES, 4), { minLength: 1, maxLength: 12 })
  .map((ops) => play(ops, NAMESPACE, { 'kube-zk-sync.io/shared': 'true' }))
  .chain((history) =>
    fc.record({ history: fc.constant(history), delivery: deliveryArb(history.changes.length, 5, 6) }),
  );

const scenarioArb = fc.integer({ min: 2, max: 3 }).chain((count) =>
  fc.record({
    clusters: fc.array(clusterArb, { minLength: count, maxLength: count }),
    // Each round, which clusters write their next batch (at the same time).
    rounds: fc.array(fc.array(fc.boolean(), { minLength: count, maxLength: count }), { maxLength: 40 }),
    // Rounds after which a writer round-trips the document through the three-field struct.
    legacyAfter: fc.array(fc.nat({ max: 40 }), { maxLength: 3 }),
  }),
);

/** The shared entries the clusters' contributions make: endpoints unioned, the first cluster's description. */
function union(contributions: ReadonlyArray<readonly [string, RegistryEntry]>): RegistryEntry[] {
  const byName = new Map<string, Array<readonly [string, RegistryEntry]>>();
  for (const c of contributions) byName.set(c[1].name, [...(byName.get(c[1].name) ?? []), c]);
  return [...byName].map(([name, parts]) => {
    const first = [...parts].sort(([a], [b]) => (a < b ? -1 : 1))[0] as readonly [string, RegistryEntry];
    return {
      name,
      description: first[1].description,
      endpoints: [...new Set(parts.flatMap(([, e]) => e.endpoints))].sort(),
    };
  });
}

describe('shared entries, whatever the clusters and the delivery', () => {
  const configs = CLUSTERS.map((cluster) =>
    parseRegistryConfig({
      ZK_CONNECT: inject('zkConnect'),
      REGISTRY_PATH: '/shared-property/unused',
      CLUSTER_ID: cluster,
      ZK_OPEN_ACL: 'true',
    }),
  );
  const { store } = registryFromConfig(configs[0] as (typeof configs)[number]);
  const targets = configs.map((config) => registryTarget(config));
  afterAll(() => store.close());

  test('every version is the union of what each cluster last observed', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ clusters, rounds, legacyAfter }) => {
        const path = `/shared-property/${randomUUID()}/registry`;
        const registry = new ZkRegistryStore(store, path);
        await registry.modify(() => ({ document: { entries: [handEntry(HAND)] }, result: undefined }));
        const handText = (await registry.read()).document.entries[0]?.text;
        const ids = CLUSTERS.slice(0, clusters.length);
        const entryOf = (i: number, key: string, rv: string | undefined) => {
          const service = rv === undefined ? undefined : clusters[i]?.history.versions.get(key)?.get(rv);
          const mapped = service && mapService(trimService(service), configs[i]?.mapping as never, ids[i]);
          return mapped?.kind === 'entry' ? mapped.entry : undefined;
        };

        /** What each cluster last observed, from its sync state, as the document must show it. */
        const expected = async () => {
          const parts: Array<readonly [string, RegistryEntry]> = [];
          for (const [i, cluster] of ids.entries()) {
            const state = parseSyncState((await store.read(syncStatePath(path, cluster))).data);
            for (const name of NAMES) {
              const key = `${NAMESPACE}/${name}`;
              const rv = state.services[key] === undefined ? undefined : knownVersion(state, key);
              const entry = entryOf(i, key, rv);
              if (entry) parts.push([cluster, entry]);
            }
          }
          return union(parts);
        };
        const check = async () => {
          const { document } = await registry.read();
          expect(document.entries.find((e) => e.name === HAND.name)?.text).toBe(handText);
          const want = await expected();
          const have = document.entries.filter((e) => e.name !== HAND.name);
          expect(have.map((e) => e.name).sort()).toEqual(want.map((e) => e.name).sort());
          for (const w of want) {
            const entry = have.find((e) => e.name === w.name);
            expect(entry && readerView(entry).endpoints).toEqual(w.endpoints);
            // The description rule holds once every contributor is known again after a writer dropped the marker.
            if (entry?.shared && !entry.shared.unattributed)
              expect(readerView(entry).description).toBe(w.description);
          }
        };
        const legacyRoundTrip = () =>
          registry.modify((doc) => ({
            document: { entries: doc.entries.map((e) => handEntry(readerView(e))) },
            result: undefined,
          }));
        // A write of each cluster with nothing new (what its next batch or damage check does), one at a time so
        // that every version between is checked.
        const heal = async () => {
          for (const target of targets.slice(0, ids.length)) {
            await registry.applyObservations(target.cluster, [], {
              ...stepRules(target),
              toEntry: target.toEntry,
            });
            await check();
          }
        };

        const queues = clusters.map((c) => deliveredBatches(c.history.changes, c.delivery));
        const sync = async (i: number) => {
          const batch = queues[i]?.shift();
          if (!batch) return;
          const result = await syncBatch(
            batch.map((c) => serviceRecord(ids[i] as string, c.service, c.deleted ? 'deleted' : 'watch')),
            { registry, target: targets[i] as (typeof targets)[number] },
          );
          expect(result.batchItemFailures).toEqual([]);
        };
        for (const [r, round] of rounds.entries()) {
          await Promise.all(round.map((go, i) => (go ? sync(i) : undefined)));
          await check();
          if (legacyAfter.includes(r)) {
            await legacyRoundTrip();
            await check();
            // Each cluster writes its own contribution back before anything else changes (the damage check's
            // job deployed); until then an endpoint served by two clusters is known as one's only.
            await heal();
          }
        }
        // Whatever is left in the queues, then a reconcile of each cluster from its final list.
        for (const [i] of ids.entries()) while ((queues[i]?.length ?? 0) > 0) await sync(i);
        await check();
        for (const [i] of ids.entries()) {
          const sim = clusters[i]?.history as History;
          const snapshot = {
            items: sim.final,
            resourceVersion: sim.snapshots.at(-1)?.resourceVersion ?? '1',
          };
          await reconcile({
            registry,
            target: targets[i] as (typeof targets)[number],
            list: async () => snapshot,
            maxDeleteShare: 1,
          });
        }
        const finals = ids.flatMap((cluster, i) =>
          (clusters[i]?.history.final ?? []).flatMap((s) => {
            const key = `${s.metadata.namespace}/${s.metadata.name}`;
            const entry = entryOf(i, key, s.metadata.resourceVersion);
            return entry ? [[cluster, entry] as const] : [];
          }),
        );
        const { document } = await registry.read();
        const shown = document.entries.filter((e) => e.name !== HAND.name).map(readerView);
        expect(shown.sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual(
          union(finals).sort((a, b) => (a.name < b.name ? -1 : 1)),
        );
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 30) },
    );
  });
});
