// The mirror's cost, on real ZooKeeper and the simulator over HTTP (the real client):
// - mirror_initial_s: 2,000 hand-made entries (three quarters IP addresses: a Service and a slice each; a quarter
//   host names: an ExternalName Service) mirrored from scratch, from the start of the process to the last object;
//   baseline: the same objects applied straight through the same client and concurrency, no planning, no election;
// - mirror_change_ms: one entry's address changed in the document (a compare-and-set write) until its EndpointSlice
//   shows it; baseline: that ZooKeeper write plus one apply of the slice, the two steps no mirror can skip.
// Run alone with `node test/bench/mirror.bench.ts [--quick]`, or as the `mirror` suite of `npm run bench`.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiServerSimulator } from '../../lib/local/apiserver/index.ts';
import { parseMirrorConfig } from '../../lib/mirror/config.ts';
import { desiredObjects } from '../../lib/mirror/desired.ts';
import { mirrorKubeApi } from '../../lib/mirror/kube.ts';
import { startMirrorProcess } from '../../lib/mirror/process.ts';
import { handEntry, type RegistryEntry, serializeDocument } from '../../lib/registry/document.ts';
import { ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { type BenchSuite, type Metric, median, round } from './harness.ts';

const NS = 'registry';
const SLICES = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', namespace: NS };

const entry = (i: number, generation = 0): RegistryEntry =>
  i % 4 === 3
    ? { name: `queue-${i}`, description: 'bench', endpoints: [`queue-${i}.internal:5672`] }
    : {
        name: `db-${i}`,
        description: 'bench',
        endpoints: [
          `10.${(i >> 8) & 255}.${i & 255}.${1 + generation}:5432`,
          `10.${(i >> 8) & 255}.${i & 255}.100:5432`,
        ],
      };

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function run(quick: boolean, zkConnect: string): Promise<Metric[]> {
  const entries = quick ? 500 : 2_000;
  const changes = quick ? 5 : 20;
  const dir = await mkdtemp(join(tmpdir(), 'mirror-bench-'));
  const sims: ApiServerSimulator[] = [];
  const stores: ZkStore[] = [];
  const started = async () => {
    const sim = new ApiServerSimulator();
    sims.push(sim);
    await sim.start();
    const file = join(dir, `kubeconfig-${sims.length}`);
    await sim.writeKubeconfig(file);
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    return { sim, kc };
  };
  try {
    const zk = new ZkStore({ connectString: zkConnect, openAcl: true });
    stores.push(zk);
    const path = `/bench-mirror/${randomUUID()}`;
    const registry = new ZkRegistryStore(zk, path);
    const all = Array.from({ length: entries }, (_, i) => handEntry(entry(i)));
    await registry.modify(() => ({ document: { entries: all }, result: undefined }));
    const config = parseMirrorConfig({ clusterId: 'bench', namespace: NS }, {}, 'bench');
    const desired = desiredObjects({ entries: all }, config);
    const objects = desired.mirrored.flatMap((m) => [m.service, ...m.slices]);

    // Baseline: the same objects, applied straight, with the mirror's concurrency; after a warm-up of the same code
    // paths (the simulator shares this process), so neither side pays the JIT alone.
    const applyAll = async (api: ReturnType<typeof mirrorKubeApi>, list: typeof objects) => {
      for (const phase of [
        list.filter((o) => o.kind === 'Service'),
        list.filter((o) => o.kind !== 'Service'),
      ]) {
        let next = 0;
        await Promise.all(
          Array.from({ length: config.concurrency }, async () => {
            while (next < phase.length) await api.apply(phase[next++] as (typeof phase)[number]);
          }),
        );
      }
    };
    await applyAll(mirrorKubeApi((await started()).kc, NS, 30_000), objects.slice(0, 400));
    const bareRun = async () => {
      const api = mirrorKubeApi((await started()).kc, NS, 30_000);
      const start = performance.now();
      await applyAll(api, objects);
      return { api, s: (performance.now() - start) / 1000 };
    };
    const { api, s: bareBefore } = await bareRun();

    // The mirror, from scratch.
    const { sim, kc } = await started();
    const source = new ZkRegistryStore(new ZkStore({ connectString: zkConnect }), path);
    const initialStart = performance.now();
    const mirror = await startMirrorProcess({ config: { ...config, port: null }, source, kubeConfig: kc });
    await until('the initial sync', () => mirror.mirror.syncedVersion !== undefined, 600_000);
    const initialS = (performance.now() - initialStart) / 1000;
    const count = sim.list('v1', 'Service').length + sim.list(SLICES.apiVersion, SLICES.kind).length;
    if (count !== objects.length) throw new Error(`mirrored ${count} objects, expected ${objects.length}`);
    // The baseline again, after the mirror: the faster of the two, so the order of the runs favours neither side.
    const bareS = Math.min(bareBefore, (await bareRun()).s);

    // One change at a time: document write → slice updated.
    const changeMs: number[] = [];
    const baselineMs: number[] = [];
    for (let c = 0; c < changes; c++) {
      const i = (c * 4) % entries; // an IP entry
      const changed = entry(i, c + 1);
      const wanted = changed.endpoints[0]?.split(':')[0] as string;
      const t0 = performance.now();
      await registry.modify((doc) => ({
        document: { entries: doc.entries.map((e) => (e.name === changed.name ? handEntry(changed) : e)) },
        result: undefined,
      }));
      const sliceName = `db-${i}-ipv4`;
      await until(
        `slice ${sliceName}`,
        () =>
          (
            sim.get({ ...SLICES, name: sliceName })?.endpoints as Array<{ addresses: string[] }> | undefined
          )?.some((e) => e.addresses[0] === wanted) === true,
        30_000,
      );
      changeMs.push(performance.now() - t0);
      // Baseline: the same write of the document and one apply of the slice.
      const b0 = performance.now();
      await zk.update([`${path}-baseline`], () => ({
        data: [Buffer.from(serializeDocument({ entries: [handEntry(changed)] }))],
        result: undefined,
      }));
      const slice = desiredObjects({ entries: [handEntry(changed)] }, config).mirrored[0]?.slices[0];
      if (slice) await api.apply(slice);
      baselineMs.push(performance.now() - b0);
    }
    await mirror.stop();
    source.close();
    const change = median(changeMs);
    const baseline = median(baselineMs);
    return [
      {
        metric: 'mirror_initial_s',
        value: round(initialS),
        unit: 's',
        note: `${entries} hand-made entries → ${objects.length} objects, from scratch`,
      },
      {
        metric: 'bare_apply_s',
        value: round(bareS),
        unit: 's',
        note: 'the same objects applied straight, the faster of a run before and after (baseline)',
      },
      { metric: 'mirror_initial_over_bare_apply', value: round(initialS / bareS), unit: 'ratio' },
      {
        metric: 'mirror_change_ms',
        value: round(change),
        unit: 'ms',
        note: `document write → EndpointSlice updated, median of ${changes}`,
      },
      {
        metric: 'bare_change_ms',
        value: round(baseline),
        unit: 'ms',
        note: 'one compare-and-set of a document + one apply of the slice (baseline)',
      },
      { metric: 'mirror_change_over_bare', value: round(change / baseline), unit: 'ratio' },
    ];
  } finally {
    for (const s of stores) s.close();
    for (const s of sims) await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export const mirrorSuite: BenchSuite = {
  name: 'mirror',
  run: ({ quick, zkConnect }) => run(quick, zkConnect),
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { ZooKeeperCluster } = await import('../../lib/local/zookeeper.ts');
  const cluster = await ZooKeeperCluster.start();
  try {
    for (const m of await run(process.argv.includes('--quick'), cluster.connectString))
      process.stdout.write(`${JSON.stringify(m)}\n`);
  } finally {
    await cluster.destroy();
  }
}
