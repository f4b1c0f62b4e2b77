// Measures of the pipeline as a whole, each next to its baseline in the same run:
// - writes_naive_over_coalesced: ZooKeeper writes when every event is its own read-modify-write (the first design)
//   over writes through the sync handler behind a batching queue, for one burst of 1,000 events over 100 Services;
// - e2e_overhead_p50_ms / _p99_ms: from a change in the simulator to the new document in ZooKeeper, minus the
//   batching window, through the forwarder, the local EventBridge, the queue and the sync handler.
// - reconcile_10k_ms / reconcile_over_list: a reconcile of 10,000 Services over the bare paged list of them.
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import { serviceListApiFor } from '../../lib/kube/connect.ts';
import { listAllServices } from '../../lib/kube/list.ts';
import { ApiServerSimulator, generateServices, type Service } from '../../lib/local/apiserver/index.ts';
import { LocalQueue } from '../../lib/local/queue.ts';
import { syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import { serviceRecord } from '../sync/fixtures.ts';
import { type BenchSuite, type Metric, median, percentile, round, timed } from './harness.ts';

const CLUSTER = 'bench';

async function writesNaiveOverCoalesced(zkConnect: string): Promise<Metric[]> {
  const sim = new ApiServerSimulator();
  const services: Service[] = generateServices(100, { seed: 3 })
    .filter((s) => s.type === 'LoadBalancer' && s.ingress)
    .slice(0, 100)
    .map((s) => sim.createService(s));
  // One burst: ten changes to each of 100 Services, 1,000 events in all, interleaved as a watch would see them.
  const burst = Array.from({ length: 1000 }, (_, i) => {
    const s = services[i % services.length] as Service;
    const updated = sim.updateService(s.metadata.namespace, s.metadata.name, (d) => {
      d.metadata.annotations = { ...d.metadata.annotations, 'kube-zk-sync.io/description': `revision ${i}` };
    });
    return serviceRecord(CLUSTER, updated);
  });
  const writes = async (deliver: (send: (records: typeof burst) => Promise<unknown>) => Promise<void>) => {
    const config = parseRegistryConfig({
      ZK_CONNECT: zkConnect,
      REGISTRY_PATH: `/bench/${randomUUID()}`,
      CLUSTER_ID: CLUSTER,
      ZK_OPEN_ACL: 'true',
    });
    const { store, registry } = registryFromConfig(config);
    const target = registryTarget(config);
    try {
      await deliver((records) => syncBatch(records, { registry, target }));
      return (await store.read(config.registryPath)).version + 1;
    } finally {
      store.close();
    }
  };
  const naive = await writes(async (send) => {
    for (const record of burst) await send([record]);
  });
  const coalesced = await writes(async (send) => {
    const queue = new LocalQueue({ batchSize: 1000, windowMs: 1000, concurrency: 2 });
    queue.start(async (records) => {
      await send(records);
      return undefined;
    });
    for (const record of burst) queue.send(record.body);
    while (!queue.idle) await new Promise((r) => setTimeout(r, 20));
    await queue.stop();
  });
  return [
    {
      metric: 'writes_naive',
      value: naive,
      unit: 'writes',
      note: '1,000 events over 100 Services, one write per event',
    },
    {
      metric: 'writes_coalesced',
      value: coalesced,
      unit: 'writes',
      note: 'same burst through a 1 s batching window',
    },
    { metric: 'writes_naive_over_coalesced', value: round(naive / coalesced, 1), unit: 'ratio' },
  ];
}

async function endToEndOverhead(zkConnect: string, quick: boolean): Promise<Metric[]> {
  const windowMs = 200;
  const sim = new ApiServerSimulator({ bookmarkIntervalMs: 5000 });
  const services = generateServices(300, { seed: 4 })
    .filter((s) => s.type === 'LoadBalancer' && s.ingress)
    .map((s) => sim.createService(s));
  await sim.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  const path = `/bench/${randomUUID()}`;
  const pipeline = await LocalPipeline.start({
    kubeConfig,
    zkConnect,
    registryPath: path,
    clusterId: CLUSTER,
    queue: { windowMs, batchSize: 1000, concurrency: 2 },
  });
  const seen = new Map<string, number>();
  const stop = pipeline.registry.watch(({ document }) => {
    const now = performance.now();
    for (const e of document?.entries ?? []) {
      const description = e.value.description;
      if (typeof description === 'string' && !seen.has(description)) seen.set(description, now);
    }
  });
  try {
    while (!pipeline.settled || (await pipeline.registry.read()).version < 0)
      await new Promise((r) => setTimeout(r, 20));
    const samples = quick ? 15 : 60;
    const overheads: number[] = [];
    for (let i = 0; i < samples; i++) {
      const s = services[i % services.length] as Service;
      const marker = `e2e probe ${i} ${randomUUID()}`;
      const start = performance.now();
      sim.updateService(s.metadata.namespace, s.metadata.name, (d) => {
        d.metadata.annotations = { ...d.metadata.annotations, 'kube-zk-sync.io/description': marker };
      });
      while (!seen.has(marker)) await new Promise((r) => setTimeout(r, 1));
      overheads.push((seen.get(marker) as number) - start - windowMs);
    }
    return [
      {
        metric: 'e2e_overhead_p50_ms',
        value: round(percentile(overheads, 50)),
        unit: 'ms',
        note: `change → document, minus the ${windowMs} ms window`,
      },
      {
        metric: 'e2e_overhead_p99_ms',
        value: round(percentile(overheads, 99)),
        unit: 'ms',
        note: `${samples} single changes`,
      },
    ];
  } finally {
    stop();
    await pipeline.stop();
    await sim.stop();
  }
}

async function reconcileTenThousand(zkConnect: string, quick: boolean): Promise<Metric[]> {
  // 10,000 Services in the cluster; one of five namespaces published, so the document stays under ZooKeeper's limit.
  const sim = new ApiServerSimulator();
  const inputs = generateServices(7693, { seed: 6 }).slice(0, 10_000);
  for (const s of inputs) sim.createService(s);
  await sim.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  const api = serviceListApiFor(kubeConfig);
  const pipeline = await LocalPipeline.start({
    kubeConfig,
    zkConnect,
    registryPath: `/bench/${randomUUID()}`,
    clusterId: CLUSTER,
    // Budgets as large as the document: this measures the reconcile of a namespace far larger than they allow.
    env: {
      NAMESPACES_ALLOW: 'payments',
      NAMESPACE_MAX_ENTRIES: '1000000',
      NAMESPACE_MAX_BYTES: '1000000',
      CLUSTER_MAX_BYTES: '1000000',
    },
    forwarders: 0,
  });
  try {
    const rounds = quick ? 3 : 7;
    const firstStart = performance.now();
    const first = await pipeline.reconcileNow();
    const firstMs = performance.now() - firstStart;
    const list = await timed(rounds, () => listAllServices(api, { pageSize: 500 }));
    const reconcile = await timed(rounds, () => pipeline.reconcileNow());
    const listMs = median(list);
    const reconcileMs = median(reconcile);
    return [
      {
        metric: 'reconcile_10k_ms',
        value: round(reconcileMs),
        unit: 'ms',
        note: `${first.report.listed} Services listed, ${first.report.created} published; steady state`,
      },
      {
        metric: 'reconcile_first_10k_ms',
        value: round(firstMs),
        unit: 'ms',
        note: `the first one, writing ${first.report.documentBytes} bytes`,
      },
      {
        metric: 'list_10k_ms',
        value: round(listMs),
        unit: 'ms',
        note: 'bare paged list, 500 a page (baseline)',
      },
      { metric: 'reconcile_over_list', value: round(reconcileMs / listMs), unit: 'ratio' },
    ];
  } finally {
    await pipeline.stop();
    await sim.stop();
  }
}

export const pipelineSuite: BenchSuite = {
  name: 'pipeline',
  async run({ quick, zkConnect }) {
    return [
      ...(await writesNaiveOverCoalesced(zkConnect)),
      ...(await endToEndOverhead(zkConnect, quick)),
      ...(await reconcileTenThousand(zkConnect, quick)),
    ];
  },
};
