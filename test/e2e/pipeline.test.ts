// The whole pipeline with every fault at once: churning Services, dropped and stalled watches, 410 Gone,
// EventBridge throttling and failed entries, duplicated and reordered queue deliveries, sync invocations that die
// mid-batch, the ZooKeeper leader killed, and a person registering entries meanwhile. After the churn stops and one
// reconcile runs, the document must be the cluster's state mapped, with the hand-made entries untouched.
// E2E_SOAK=1 runs the same with about 100,000 events (not in CI).
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import {
  ApiServerSimulator,
  type Churn,
  generateServices,
  startChurn,
} from '../../lib/local/apiserver/index.ts';
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { eventually, runCli } from '../support/cli.ts';
import { expectedEntries, ownedEntries } from './cluster-view.ts';

const SOAK = process.env.E2E_SOAK === '1';
const SERVICES = 1000;
const CHURN_PER_SECOND = SOAK ? 400 : 60;
const CHURN_SECONDS = SOAK ? 250 : 12;
const PATH = '/registry/services';
// The churn creates more than it deletes: over a soak the cluster grows to several thousand Services, more than one
// document holds, so the soak publishes one namespace (the others still flow through every part as skipped).
const MAPPING_ENV: Record<string, string> = SOAK ? { NAMESPACES_ALLOW: 'payments' } : {};
const CLUSTER = 'e2e';

// Hand-made entries written before the pipeline starts, with odd formatting and fields nobody else knows.
const HAND_MADE = [
  '{ "name": "cassandra", "description": "Cassandra ring",\n    "endpoints": ["c1.db:9042", "c2.db:9042"], "dc": {"name": "eu-1"} }',
  '{"endpoints":["kafka-1.queue:9092"],"name":"kafka","description":"Kafka","owner_team":"data" , "weight": 1.50}',
];

let zk: ZooKeeperCluster;
let sim: ApiServerSimulator;
let pipeline: LocalPipeline;
let churn: Churn | undefined;
let store: ZkStore;

beforeAll(async () => {
  zk = await ZooKeeperCluster.start({ nodes: 3 });
  store = new ZkStore({ openAcl: true, connectString: zk.connectString });
  await store.update([PATH], () => ({ data: [Buffer.from(`[${HAND_MADE.join(',\n')}]`)], result: 0 }));
  sim = new ApiServerSimulator({ bookmarkIntervalMs: 300, seed: 5 });
  for (const s of generateServices(SERVICES, { seed: 5 })) sim.createService(s);
  await sim.start();
}, 120_000);

afterAll(async () => {
  await churn?.stop();
  await pipeline?.stop();
  await sim?.stop();
  store?.close();
  await zk?.destroy();
});

test(
  `every fault at once: ${SERVICES} Services, ${CHURN_PER_SECOND * CHURN_SECONDS} changes; the document ends equal to the cluster`,
  async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(sim.kubeconfig());
    let invocations = 0;
    let died = 0;
    let killedLeader: number | undefined;
    pipeline = await LocalPipeline.start({
      kubeConfig,
      zkConnect: zk.connectString,
      registryPath: PATH,
      clusterId: CLUSTER,
      env: { ZK_OPERATION_TIMEOUT_MS: '4000', ZK_CONNECT_TIMEOUT_MS: '8000', ...MAPPING_ENV },
      queue: {
        batchSize: 500,
        windowMs: 200,
        visibilityTimeoutMs: 500,
        maxReceiveCount: 1000,
        concurrency: 3,
        duplicateRate: 0.2,
        shuffle: true,
        seed: 9,
      },
      forwarders: 2,
      forwarder: {
        watch: {
          stallMs: 1500,
          timeoutSeconds: 20,
          pageSize: 200,
          backoff: { initialMs: 50, maxMs: 500 },
          minWatchMs: 200,
        },
        send: { backoff: { initialMs: 20, maxMs: 300 }, callTimeoutMs: 3000 },
      },
      eventBridgeSeed: 11,
      // Every seventh invocation dies: half of them before the write, half after it (the batch comes back whole).
      wrapSync: (invoke) => async (records) => {
        const n = ++invocations;
        if (n % 7 === 0 && n % 2 === 0) {
          died++;
          throw new Error('the invocation died before writing');
        }
        const result = await invoke(records);
        if (n % 7 === 0) {
          died++;
          throw new Error('the invocation died after writing');
        }
        return result;
      },
    });
    pipeline.eventBridge.setFaults({
      throttleRate: 0.1,
      entryFailureRate: 0.2,
      entryErrorCode: 'ThrottlingException',
    });
    await eventually('the forwarders to list', () => pipeline.forwarders.every((f) => f.ready), 30_000);

    churn = startChurn(sim, {
      changesPerSecond: CHURN_PER_SECOND,
      durationSeconds: CHURN_SECONDS,
      seed: 21,
    });
    const people: string[] = [];
    const faults = (async () => {
      const second = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
      for (let t = 0; t < CHURN_SECONDS; t++) {
        await second(1);
        if (t % 3 === 0) sim.faults.dropWatches();
        if (t === 2) sim.faults.stallWatches();
        if (t === 4) {
          sim.compact();
          sim.faults.goneOnNextWatch(1, { shape: 'stream' });
        }
        if (t === 6) sim.faults.goneOnNextWatch(1, { shape: 'http' });
        if (t === 5) {
          killedLeader = await zk.leader();
          if (killedLeader !== undefined) await zk.stopNode(killedLeader, true);
        }
        if (t % 2 === 1) {
          const name = `db-${t}`;
          const r = await runCli(
            [
              'registry',
              'register',
              '--name',
              name,
              '--endpoint',
              `${name}.internal:5432`,
              '--description',
              `Postgres ${t}`,
            ],
            { ZK_CONNECT: zk.connectString, REGISTRY_PATH: PATH, ZK_OPEN_ACL: 'true' },
          );
          // During the leader election a person's command may fail, with a clear reason; what it acknowledged stays.
          if (r.code === 0) people.push(name);
          else
            expect(r.stderr).toMatch(/^kube-zk-sync: could not connect to ZooKeeper at .* within \d+ ms\n$/);
        }
      }
    })();
    await Promise.all([churn.done, faults]);
    sim.faults.clear();
    pipeline.eventBridge.setFaults({});

    await eventually('the pipeline to settle', () => pipeline.settled, 120_000);
    const result = await pipeline.reconcileNow();
    expect(result.report.refused).toBeUndefined();
    // The stream alone kept the document true: the reconcile, the backstop, finds nothing to change.
    expect(result.report).toMatchObject({ created: 0, updated: 0, deleted: 0, documentWritten: false });

    // The document is the simulator's state mapped, and nothing else of this cluster's.
    const { document, version } = await pipeline.registry.read();
    const owned = ownedEntries(document, CLUSTER);
    expect(owned).toEqual(expectedEntries(sim, MAPPING_ENV, CLUSTER));
    expect(owned.length).toBeGreaterThan(SOAK ? 100 : SERVICES * 0.8);

    // Hand-made entries: the ones from before, byte for byte, and every one a person registered meanwhile.
    const hand = document.entries.filter((e) => !e.owner);
    for (const text of HAND_MADE) expect(hand.map((e) => e.text)).toContain(text);
    expect(people.length).toBeGreaterThan(0);
    expect(hand.map((e) => e.name).sort()).toEqual(['cassandra', 'kafka', ...people].sort());
    for (const name of people) {
      expect(hand.find((e) => e.name === name)?.text).toBe(
        JSON.stringify({
          name,
          description: `Postgres ${name.slice(3)}`,
          endpoints: [`${name}.internal:5432`],
        }),
      );
    }

    // While nothing changes, nothing is written: not by another reconcile, and not by anything still in flight.
    // Absence can only be watched for a while: ten batching windows, through a watch on the document.
    const versions: number[] = [];
    const stopWatching = pipeline.registry.watch((read) => versions.push(read.version));
    const again = await pipeline.reconcileNow();
    expect(again.report.documentWritten).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10 * 200));
    stopWatching();
    expect(pipeline.settled).toBe(true);
    expect(versions).toEqual([version]);

    // The faults really happened.
    expect(died).toBeGreaterThan(0);
    expect(sim.stats().faults.dropped).toBeGreaterThan(0);
    expect(sim.stats().faults.gone).toBeGreaterThan(0);
    expect(sim.stats().faults.stalled).toBeGreaterThan(0);
    expect(pipeline.eventBridge.calls.some((c) => c.error === 'ThrottlingException')).toBe(true);
    expect(
      pipeline.eventBridge.calls.some((c) =>
        c.results?.some((r) => 'ErrorCode' in r && r.ErrorCode === 'ThrottlingException'),
      ),
    ).toBe(true);
    expect(pipeline.queue.stats.delivered).toBeGreaterThan(pipeline.queue.stats.sent);
    expect(pipeline.queue.deadLetters).toEqual([]);
    expect(killedLeader).toBeDefined();
    expect(await zk.leader()).not.toBe(killedLeader);
  },
  SOAK ? 1_800_000 : 300_000,
);
