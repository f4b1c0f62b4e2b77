// One sync batch of 1,000 events (what the sync Lambda does with a full SQS batch) next to one bare compare-and-set
// write of the same document on the same server: how much the batch costs on top of the write it cannot avoid.
// Then the same batch when the 1,000 names are shared with a second cluster that contributes to each of them (its
// own load balancers): what sharing costs a batch, as a ratio to the unshared one of the same run.
//   node test/bench/sync.bench.ts [--quick]        (starts its own ZooKeeper unless ZK_CONNECT is set)
import { randomUUID } from 'node:crypto';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import { ApiServerSimulator, type Service } from '../../lib/local/apiserver/index.ts';
import { judgeRecord, type QueueRecord, syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import { ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { serviceRecord } from '../sync/fixtures.ts';
import { type BenchSuite, type Metric, median, round, timed } from './harness.ts';

const CLUSTER = 'bench-cluster';
const OTHER = 'bench-other-cluster';
const EVENTS = 1000;

/** A load-balanced Service with an NLB hostname and two ports, as most published Services look. */
const hostname = (i: number, round: number) =>
  `a${((i + 1) * 2654435761 + round).toString(16).padStart(10, '0')}0123456789abcdef-0123456789abcdef.elb.eu-west-1.amazonaws.com`;

export const syncSuite: BenchSuite = {
  name: 'sync',
  async run({ quick, zkConnect }): Promise<Metric[]> {
    const path = `/bench/${randomUUID()}/registry`;
    const config = parseRegistryConfig({
      ZK_CONNECT: zkConnect,
      REGISTRY_PATH: path,
      CLUSTER_ID: CLUSTER,
      ZK_OPEN_ACL: 'true',
    });
    const { store, registry } = registryFromConfig(config);
    const target = registryTarget(config);
    const sim = new ApiServerSimulator();
    try {
      const services: Service[] = Array.from({ length: EVENTS }, (_, i) =>
        sim.createService({
          namespace: `team-${i % 40}`,
          name: `service-${i}`,
          type: 'LoadBalancer',
          ports: [
            { name: 'https', port: 443 },
            { name: 'admin', port: 8443 },
          ],
          ingress: [{ hostname: hostname(i, 0) }],
        }),
      );
      const batchOf = (list: Service[], cluster = CLUSTER): QueueRecord[] =>
        list.map((s) => serviceRecord(cluster, s));
      const rounds = quick ? 3 : 10;
      let lb = 0;
      /** Publishes the Services, then times batches that move every one of them to a new load balancer. */
      const measure = async (into: typeof registry, as: typeof target, list = services) => {
        // Publish the Services first: every measured batch then updates a full document.
        await syncBatch(batchOf(list), { registry: into, target: as });
        // Each round: an event per Service, as many updated entries (or contributions), one write. The events are
        // built outside the clock; parsing and validating them is inside (the Lambda pays for it).
        const times: number[] = [];
        let last: Awaited<ReturnType<typeof syncBatch>> | undefined;
        for (let r = 0; r <= rounds; r++, lb++) {
          const records = batchOf(
            list.map((s, i) =>
              sim.updateService(s.metadata.namespace, s.metadata.name, (d) => {
                d.status.loadBalancer.ingress = [{ hostname: hostname(i, lb + 1) }];
              }),
            ),
          );
          const start = performance.now();
          last = await syncBatch(records, { registry: into, target: as });
          // Round 0 warms the JIT and the session up.
          if (r > 0) times.push(performance.now() - start);
          if (
            !last.report.documentWritten ||
            last.report.updated !== list.length ||
            last.report.casAttempts !== 1
          )
            throw new Error(
              `a measured batch did not update every entry in one write: ${JSON.stringify(last.report)}`,
            );
        }
        return { ms: median(times), documentBytes: last?.report.documentBytes ?? 0 };
      };
      const unshared = await measure(registry, target);
      const documentBytes = unshared.documentBytes;

      // Sharing, next to the same batch unshared: half the Services, since a shared entry holds both clusters'
      // endpoints twice (in the union and in each contribution), and 1,000 of them would not fit the document.
      const half = services.slice(0, EVENTS / 2);
      const baseline = await measure(new ZkRegistryStore(store, `${path}-half`), target, half);
      // The same names shared: a second cluster publishes them first, from its own load balancers.
      const sharedEnv = { ZK_CONNECT: zkConnect, ZK_OPEN_ACL: 'true', SHARED_NAMES: '*' };
      const sharedPath = `${path}-shared`;
      const sharedConfig = parseRegistryConfig({
        ...sharedEnv,
        REGISTRY_PATH: sharedPath,
        CLUSTER_ID: CLUSTER,
      });
      const otherConfig = parseRegistryConfig({ ...sharedEnv, REGISTRY_PATH: sharedPath, CLUSTER_ID: OTHER });
      const sharedRegistry = new ZkRegistryStore(store, sharedPath);
      const otherSim = new ApiServerSimulator();
      const others = half.map((s, i) =>
        otherSim.createService({
          namespace: s.metadata.namespace,
          name: s.metadata.name,
          type: 'LoadBalancer',
          ports: [{ name: 'https', port: 443 }],
          ingress: [{ hostname: hostname(i + EVENTS, 0) }],
        }),
      );
      await syncBatch(batchOf(others, OTHER), {
        registry: sharedRegistry,
        target: registryTarget(otherConfig),
      });
      const shared = await measure(sharedRegistry, registryTarget(sharedConfig), half);

      // Judging the records alone (JSON, envelope, contract): the share of the batch that is not ZooKeeper.
      const sample = batchOf(services);
      const judging = await timed(rounds, async () => {
        for (const record of sample) judgeRecord(record.body, CLUSTER);
      });

      // The bare write: one setData of the same document, conditional on the version just written.
      const bare = `${path}-bare`;
      const document = (await store.read(path)).data as Buffer;
      const other = Buffer.concat([document, Buffer.from(' ')]);
      await store.update([bare], () => ({ data: [document], result: 0 }));
      const session = await store.connected();
      let version = (await store.read(bare)).version;
      const cas = await timed(quick ? 20 : 100, (i) =>
        session.call('bare compare-and-set', (done) =>
          session.client.setData(bare, i % 2 ? document : other, version, (e, stat) => {
            if (stat) version = stat.version;
            done(e);
          }),
        ),
      );
      const batchMs = unshared.ms;
      const casMs = median(cas);
      return [
        {
          metric: 'sync_batch_ms',
          value: round(batchMs),
          unit: 'ms',
          note: `one batch of ${EVENTS} events updating ${EVENTS} entries (${Math.round(documentBytes / 1024)} KB document)`,
        },
        {
          metric: 'bare_cas_ms',
          value: round(casMs),
          unit: 'ms',
          note: 'one setData of that document with its version',
        },
        { metric: 'sync_batch_over_bare_cas', value: round(batchMs / casMs), unit: 'ratio' },
        {
          metric: 'sync_batch_500_unshared_ms',
          value: round(baseline.ms),
          unit: 'ms',
          note: `a batch of ${half.length} events updating ${half.length} entries (${Math.round(baseline.documentBytes / 1024)} KB document)`,
        },
        {
          metric: 'sync_batch_500_shared_ms',
          value: round(shared.ms),
          unit: 'ms',
          note: `the same batch when another cluster shares every name (${Math.round(shared.documentBytes / 1024)} KB document)`,
        },
        { metric: 'sync_batch_shared_over_unshared', value: round(shared.ms / baseline.ms), unit: 'ratio' },
        { metric: 'sync_events_per_s', value: Math.round(EVENTS / (batchMs / 1000)), unit: 'events/s' },
        {
          metric: 'sync_judge_records_ms',
          value: round(median(judging)),
          unit: 'ms',
          note: `parsing and validating ${EVENTS} records (part of sync_batch_ms)`,
        },
      ];
    } finally {
      store.close();
    }
  },
};

if (import.meta.filename === process.argv[1]) {
  const { runStandalone } = await import('./standalone.ts');
  await runStandalone([syncSuite]);
}
