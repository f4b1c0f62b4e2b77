// Two clusters behind one name, end to end on one ZooKeeper: two pipelines (two cluster ids, two simulated
// clusters, each with its forwarder, bus, queue, sync and reconcile) publish the same names shared. Every version a
// reader sees holds each shared entry as the union of its contributions, during churn in both clusters and next to a
// writer that drops unknown fields; at rest the document is the union of both clusters; a Service deleted in one
// cluster takes only that cluster's endpoints away; a reconcile or a restart of either pipeline changes nothing; a
// name one cluster publishes unshared is reported there, never merged.

import { randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, inject, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import type { ApiServerSimulator } from '../../lib/local/apiserver/index.ts';
import { startChurn } from '../../lib/local/apiserver/index.ts';
import { type RegistryDocument, type RegistryEntry, readerView } from '../../lib/registry/document.ts';
import { sharedView } from '../../lib/registry/shared.ts';
import { eventually } from '../support/cli.ts';
import { LegacyWriter } from '../support/legacy-writers.ts';
import { expectedEntries, simulatedCluster } from './cluster-view.ts';

const PATH = `/shared-e2e/${randomUUID()}/services`;
// Every name is shared in both clusters; the Service `shop/solo` in the new cluster says otherwise.
const MAPPING_ENV = { SHARED_NAMES: '*' };
const ENV = { ...MAPPING_ENV, REPAIR_INTERVAL_SECONDS: '1' };
const OLD = 'old-cluster';
const NEW = 'new-cluster';

/** What the document shows of an entry: what readers see, and each cluster's part. */
type Shown = RegistryEntry & { readonly parts: readonly string[] };
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
const partOf = (c: { cluster: string; endpoints: readonly string[] }) =>
  `${c.cluster} ${c.endpoints.join(',')}`;

/** The document both clusters should make: each name's endpoints unioned, the description of the first cluster. */
function union(clusters: ReadonlyArray<readonly [string, readonly RegistryEntry[]]>): Shown[] {
  const names = new Map<string, Array<{ cluster: string; entry: RegistryEntry }>>();
  for (const [cluster, entries] of clusters)
    for (const entry of entries)
      names.set(entry.name, [...(names.get(entry.name) ?? []), { cluster, entry }]);
  return [...names]
    .map(([name, parts]) => {
      const contributions = parts
        .map(({ cluster, entry }) => ({ cluster, service: '', ...entry }))
        .sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
      return { ...sharedView(name, { contributions }), parts: contributions.map(partOf) };
    })
    .sort(byName);
}

const shown = (document: RegistryDocument, except: readonly string[] = []): Shown[] =>
  document.entries
    .filter((e) => !except.includes(e.name))
    .map((e) => ({ ...readerView(e), parts: (e.shared?.contributions ?? []).map(partOf) }))
    .sort(byName);

const expected = (old: ApiServerSimulator, young: ApiServerSimulator, drop: readonly string[] = []) =>
  union([
    [OLD, expectedEntries(old, MAPPING_ENV, OLD).map(({ service: _s, ...e }) => e)],
    [NEW, expectedEntries(young, MAPPING_ENV, NEW).map(({ service: _s, ...e }) => e)],
  ]).filter((e) => !drop.includes(e.name));

describe('a name shared by two clusters', () => {
  test('union at every version during churn, deletion in one cluster, restarts, reconciles, a legacy writer, a mixed name', async () => {
    const old = await simulatedCluster(40, 5);
    const young = await simulatedCluster(40, 5);
    const problems: string[] = [];
    const start = (cluster: string, kubeConfig: KubeConfig) =>
      LocalPipeline.start({
        kubeConfig,
        zkConnect: inject('zkConnect'),
        registryPath: PATH,
        clusterId: cluster,
        env: ENV,
        queue: { windowMs: 150, batchSize: 100, concurrency: 2 },
        damageCheckEveryMs: 1_000,
        // The scheduled reconcile (15 minutes deployed): the backstop for a Service that asked for a shared name
        // while a writer had dropped the entry's marker and before its clusters wrote it back (README, "Shared
        // entries"); its contribution waits for it.
        reconcileEveryMs: 3_000,
        onSyncReport: (r) => {
          for (const p of r.problems) problems.push(`${cluster}: ${p.problem}`);
        },
      });
    let a = await start(OLD, old.kubeConfig);
    let b = await start(NEW, young.kubeConfig);
    // A reader: every version it sees must show each shared entry as its marker's union, and no hand-made entry
    // but the legacy writer's.
    const seen: string[] = [];
    let versions = 0;
    const stopWatch = a.registry.watch(({ document, version }) => {
      if (!document) return;
      versions++;
      for (const e of document.entries) {
        if (e.name === 'legacy-go') continue;
        // A writer that drops the marker makes a version without it: what readers see is unchanged, which the
        // marker's union of the version before already checked.
        if (!e.shared) {
          if (!e.owner) continue;
          seen.push(`version ${version}: ${e.name} is not shared`);
          continue;
        }
        const view = readerView(e);
        if (JSON.stringify(view) !== JSON.stringify(sharedView(e.name, e.shared)))
          seen.push(`version ${version}: ${e.name} is ${JSON.stringify(view)}, not its contributions' union`);
      }
    });
    let writer: LegacyWriter | undefined;
    try {
      await eventually(
        'both forwarders to list',
        () => [a, b].every((p) => p.forwarders.every((f) => f.ready)),
        30_000,
      );
      const settled = async (drop: readonly string[] = []) => {
        const matches = async () =>
          JSON.stringify(shown((await a.registry.read()).document, ['legacy-go', ...drop])) ===
          JSON.stringify(expected(old.sim, young.sim, drop));
        await eventually('the registry to be the union of both clusters', matches, 30_000).catch(() => {});
        expect(
          shown((await a.registry.read()).document, ['legacy-go', ...drop]),
          `problems reported: ${problems.join('; ')}`,
        ).toEqual(expected(old.sim, young.sim, drop));
      };
      await settled();
      const first = (await a.registry.read()).document;
      // Both clusters contribute to every name (the same generated Services in both).
      expect(first.entries.length).toBeGreaterThan(10);
      expect(first.entries.every((e) => e.shared?.contributions.length === 2)).toBe(true);

      // Churn in both clusters at once, next to a writer that round-trips the document through Go's struct.
      writer = await LegacyWriter.start({
        kind: 'go-round-trip',
        connectString: inject('zkConnect'),
        path: PATH,
        name: 'legacy-go',
        everyMs: 200,
        holdMs: 300,
      });
      const churns = [
        startChurn(old.sim, { changesPerSecond: 20, durationSeconds: 5, seed: 11 }),
        startChurn(young.sim, { changesPerSecond: 20, durationSeconds: 5, seed: 12 }),
      ];
      await Promise.all(churns.map((c) => c.done));
      await writer.stop();
      await settled();
      expect(versions).toBeGreaterThan(5);

      // A Service deleted in one cluster takes only that cluster's endpoints away.
      const both = (await a.registry.read()).document.entries.find(
        (e) => e.shared?.contributions.length === 2,
      );
      expect(both).toBeDefined();
      const oldPart = both?.shared?.contributions.find((c) => c.cluster === OLD);
      const [namespace, name] = (oldPart?.service ?? '/').split('/') as [string, string];
      old.sim.deleteService(namespace, name);
      await settled();
      const after = (await a.registry.read()).document.entries.find((e) => e.name === both?.name);
      expect(after?.shared?.contributions.map((c) => c.cluster)).toEqual([NEW]);
      expect(readerView(after as never).endpoints).toEqual(
        after?.shared?.contributions[0]?.endpoints.slice().sort(),
      );

      // A name the new cluster publishes unshared, while the old one shares it: reported, never merged.
      const solo = { namespace: 'shop', name: 'solo', type: 'LoadBalancer' as const, ports: [{ port: 443 }] };
      old.sim.createService({ ...solo, ingress: [{ hostname: 'old-solo.elb.example' }] });
      await eventually(
        'the old cluster to share solo.shop',
        async () => (await a.registry.read()).document.entries.some((e) => e.name === 'solo.shop'),
        30_000,
      );
      young.sim.createService({
        ...solo,
        annotations: { 'kube-zk-sync.io/shared': 'false' },
        ingress: [{ hostname: 'new-solo.elb.example' }],
      });
      await eventually(
        'the unshared name to be reported',
        () => problems.some((p) => p.startsWith(`${NEW}: Service shop/solo wants the name "solo.shop"`)),
        30_000,
      ).catch(() => {});
      expect([...new Set(problems.filter((p) => p.includes('shop/solo')))]).toEqual([
        expect.stringMatching(
          /^new-cluster: Service shop\/solo wants the name "solo.shop", held by a shared entry/,
        ),
      ]);
      const soloEntry = (await a.registry.read()).document.entries.find((e) => e.name === 'solo.shop');
      expect(readerView(soloEntry as never).endpoints).toEqual(['old-solo.elb.example:443']);
      expect(problems.find((p) => p.includes('shop/solo'))).toMatch(/never merges an unshared entry/);

      // A restart of either pipeline, then a reconcile of each: nothing changes that should stay.
      await eventually('both pipelines to settle', () => a.settled && b.settled, 30_000);
      const before = (await a.registry.read()).document;
      stopWatch();
      await a.stop();
      a = await start(OLD, old.kubeConfig);
      await b.stop();
      b = await start(NEW, young.kubeConfig);
      await eventually(
        'both forwarders to list again',
        () => [a, b].every((p) => p.forwarders.every((f) => f.ready)),
        30_000,
      );
      await eventually('both pipelines to settle again', () => a.settled && b.settled, 30_000);
      for (const pipeline of [a, b]) {
        const result = await pipeline.reconcileNow();
        expect(result.report).toMatchObject({ created: 0, updated: 0, deleted: 0 });
      }
      const now = (await a.registry.read()).document;
      expect(shown(now)).toEqual(shown(before));
      expect(seen).toEqual([]);
    } finally {
      stopWatch();
      await writer?.stop();
      await a.stop();
      await b.stop();
      await old.sim.stop();
      await young.sim.stop();
    }
  }, 240_000);
});
