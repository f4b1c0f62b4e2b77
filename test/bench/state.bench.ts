// The sync state next to the document it shares one ZooKeeper request with, on a cluster of 50,000 Services of which
// 1,000 are published (LoadBalancers with an address in the edge-* namespaces, 49,000 ClusterIP Services in others),
// under the default MAX_DOCUMENT_BYTES, through ZkRegistryStore, syncBatch and reconcile on a real ZooKeeper:
// - state_bytes_per_service: the state's bytes over the cluster's Services, right after a reconcile and after a
//   sync batch of churn, next to the first layout (a version for every Service, tombstones, no floor) built from the
//   same list and churn;
// - state_share_of_request_at_50k: the state's share of the compare-and-set request (document + state), and how
//   many Services may change between two reconciles before that request is full;
// - sync_batch_50k_ms and reconcile_50k_ms: that cluster syncs a batch and reconciles, each next to its baseline (one
//   bare multi-write of the same bytes; the bare list). The reconcile lists the simulator's Services in process,
//   paged as the apiserver pages them: the simulator's HTTP list sorts the whole cluster for every page, which at
//   this size is most of the time (the full mode runs one reconcile over HTTP too, with the real client);
// - the same cluster published through NAMESPACES_ALLOW instead of the type filter;
// - what gzip of the state would give: bytes, CPU per write and per read, and the headroom between reconciles.
//   node test/bench/state.bench.ts [--quick]        (starts its own ZooKeeper unless ZK_CONNECT is set)
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { KubeConfig } from '@kubernetes/client-node';
import { parseRegistryConfig, type RegistryConfig } from '../../lib/config/config.ts';
import { serviceListApiFor } from '../../lib/kube/connect.ts';
import type { ServiceListApi } from '../../lib/kube/list.ts';
import { ApiServerSimulator, type Service } from '../../lib/local/apiserver/index.ts';
import { reconcile } from '../../lib/reconcile/reconcile.ts';
import { clusterList } from '../../lib/reconcile/request.ts';
import {
  admitObservations,
  type Observation,
  parseSyncState,
  type SyncState,
  serializeSyncState,
} from '../../lib/registry/sync-state.ts';
import { type QueueRecord, syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import { LIST_PAGE_SIZE, ZK_MAX_DATA_BYTES } from '../../lib/util/defaults.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { serviceRecord } from '../sync/fixtures.ts';
import { type BenchSuite, type Metric, median, round, timed } from './harness.ts';

const SERVICES = 50_000;
const PUBLISHED = 1_000;
const EDGE_NAMESPACES = 10;
const TEAM_NAMESPACES = 200;

/** One sync batch of churn: 1,000 events, as a full SQS batch brings them. */
const CHURN = {
  publishedUpdated: 300,
  publishedDeleted: 10,
  publishedCreated: 10,
  internalUpdated: 640,
  internalDeleted: 20,
  internalCreated: 20,
} as const;
const CHURN_EVENTS = Object.values(CHURN).reduce((a, b) => a + b, 0);

const hostname = (i: number, round: number) =>
  `a${((i + 1) * 2654435761 + round).toString(16).padStart(10, '0')}0123456789abcdef-0123456789abcdef.elb.eu-west-1.amazonaws.com`;

const published = (i: number, round = 0) => ({
  namespace: `edge-${i % EDGE_NAMESPACES}`,
  name: `gateway-${i}`,
  type: 'LoadBalancer' as const,
  ports: [
    { name: 'https', port: 443 },
    { name: 'admin', port: 8443 },
  ],
  ingress: [{ hostname: hostname(i, round) }],
});

const internal = (i: number) => ({
  namespace: `team-${i % TEAM_NAMESPACES}`,
  name: `service-${i}`,
  type: 'ClusterIP' as const,
  ports: [{ name: 'http', port: 80 }],
  labels: { app: `service-${i}`, revision: '0' },
});

/** A change the forwarder sends: the Service as it is now, or as it was when deleted. */
interface Change {
  readonly service: Service;
  readonly deleted: boolean;
}

/** The cluster, and the churn that changes it. */
class Cluster {
  readonly sim = new ApiServerSimulator();
  private nextPublished = PUBLISHED;
  private nextInternal = SERVICES - PUBLISHED;
  private round = 0;

  constructor() {
    for (let i = 0; i < PUBLISHED; i++) this.sim.createService(published(i));
    for (let i = 0; i < SERVICES - PUBLISHED; i++) this.sim.createService(internal(i));
  }

  /** One batch of churn, applied to the simulator: the Services as the forwarder would send them. */
  churn(): Change[] {
    const r = this.round++;
    const changes: Change[] = [];
    const all = this.sim.listServices();
    // Services spread over the cluster rather than in key order, as churn comes; a new spread each round.
    const pick = (prefix: string, count: number) => {
      const from = all.filter((s) => s.metadata.name.startsWith(prefix));
      const chosen = new Set<Service>();
      for (let k = r * 7919; chosen.size < count; k += 37) {
        if (k > r * 7919 + 37 * 2 * from.length) throw new Error(`cannot pick ${count} of ${from.length}`);
        chosen.add(from[k % from.length] as Service);
      }
      return [...chosen];
    };
    const update = (s: Service, mutate: (d: Service) => void) =>
      changes.push({
        service: this.sim.updateService(s.metadata.namespace, s.metadata.name, mutate),
        deleted: false,
      });
    const remove = (s: Service) =>
      changes.push({ service: this.sim.deleteService(s.metadata.namespace, s.metadata.name), deleted: true });

    const gateways = pick('gateway-', CHURN.publishedUpdated + CHURN.publishedDeleted);
    for (const s of gateways.slice(0, CHURN.publishedUpdated)) {
      const i = Number(s.metadata.name.slice('gateway-'.length));
      update(s, (d) => {
        d.status.loadBalancer.ingress = [{ hostname: hostname(i, r + 1) }];
      });
    }
    for (const s of gateways.slice(CHURN.publishedUpdated)) remove(s);
    for (let k = 0; k < CHURN.publishedCreated; k++)
      changes.push({ service: this.sim.createService(published(this.nextPublished++)), deleted: false });

    const internals = pick('service-', CHURN.internalUpdated + CHURN.internalDeleted);
    for (const s of internals.slice(0, CHURN.internalUpdated)) {
      update(s, (d) => {
        d.metadata.labels = { ...d.metadata.labels, revision: String(r + 1) };
      });
    }
    for (const s of internals.slice(CHURN.internalUpdated)) remove(s);
    for (let k = 0; k < CHURN.internalCreated; k++)
      changes.push({ service: this.sim.createService(internal(this.nextInternal++)), deleted: false });
    return changes;
  }
}

/** One cluster id publishing the cluster under one configuration, on its own document. */
class Publisher {
  readonly config: RegistryConfig;
  readonly stores: ReturnType<typeof registryFromConfig>;
  readonly target: ReturnType<typeof registryTarget>;
  readonly statePath: string;

  constructor(zkConnect: string, id: string, env: Record<string, string> = {}) {
    this.config = parseRegistryConfig({
      ZK_CONNECT: zkConnect,
      REGISTRY_PATH: `/bench/${randomUUID()}/registry`,
      CLUSTER_ID: id,
      // A throwaway local ZooKeeper nobody else reaches.
      ZK_OPEN_ACL: 'true',
      ...env,
    });
    // The figures hold for the default limit, not a raised one.
    if (this.config.zk.maxDataBytes !== ZK_MAX_DATA_BYTES)
      throw new Error(`MAX_DOCUMENT_BYTES is ${this.config.zk.maxDataBytes}, not the default`);
    this.stores = registryFromConfig(this.config);
    this.target = registryTarget(this.config);
    this.statePath = syncStatePath(this.config.registryPath, id);
  }

  reconcile(list: ReturnType<typeof clusterList>) {
    return reconcile({
      registry: this.stores.registry,
      target: this.target,
      list,
      maxDeleteShare: this.config.maxDeleteShare,
    });
  }

  sync(records: readonly QueueRecord[]) {
    return syncBatch(records, { registry: this.stores.registry, target: this.target });
  }

  records(changes: readonly Change[]): QueueRecord[] {
    return changes.map((c) =>
      serviceRecord(this.config.clusterId, c.service, c.deleted ? 'deleted' : undefined),
    );
  }

  /** The bytes of the document and of the state as they are in ZooKeeper. */
  async sizes(): Promise<Sizes> {
    const [document, state] = await Promise.all([
      this.stores.store.read(this.config.registryPath),
      this.stores.store.read(this.statePath),
    ]);
    if (!document.data || !state.data) throw new Error('the document or the sync state is missing');
    return { document: document.data, state: state.data };
  }

  /** Bytes of the one request that writes both: data and paths, as ZooKeeper's limit counts them. */
  requestBytes(document: number, state: number): number {
    return document + state + Buffer.byteLength(this.config.registryPath) + Buffer.byteLength(this.statePath);
  }

  close(): void {
    this.stores.store.close();
  }
}

/**
 * The first layout of the state, as the sync kept it before the floor: a version for every Service the cluster
 * ever listed or sent, and tombstones, in `{"services", "tombstones"}`. Built by the same admission from the same
 * list and churn, and read back by the parser's first-layout reader, so it is the layout and not a guess at it.
 */
function firstLayout(
  listed: ReadonlyArray<{ key: string; resourceVersion: string }>,
  churn: readonly Observation<unknown>[],
  now: number,
): { afterReconcile: Buffer; afterChurn: Buffer } {
  const serialize = (state: SyncState) => {
    const sorted = <V>(r: Readonly<Record<string, V>>) =>
      Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const bytes = Buffer.from(
      `${JSON.stringify({ services: sorted(state.services), tombstones: sorted(state.tombstones) })}\n`,
    );
    const read = parseSyncState(bytes);
    if (read.floor !== undefined || Object.keys(read.services).length !== Object.keys(state.services).length)
      throw new Error('the first layout did not read back as the first layout');
    return bytes;
  };
  const reconciled = admitObservations(
    { services: {}, tombstones: {} },
    listed.map((l) => ({ key: l.key, resourceVersion: l.resourceVersion, value: {} })),
    now,
  ).next;
  return {
    afterReconcile: serialize(reconciled),
    afterChurn: serialize(admitObservations(reconciled, churn, now).next),
  };
}

/**
 * How many Services may change between two reconciles before document + state exceed the limit: each changed
 * Service adds its version to the state until the next reconcile raises the floor. Exact: each candidate is the
 * state the admission would write, measured by `size` (its bytes, or its gzipped bytes) against `budget`.
 */
function changedUntilFull(
  base: SyncState,
  keys: readonly string[],
  size: (state: Buffer) => number,
  budget: number,
  now: number,
): { changed: number; state: Buffer } {
  const floor = Number(base.floor ?? 0);
  const measure = (n: number) => {
    const observations = keys.slice(0, n).map((key, k) => ({
      key,
      resourceVersion: String(floor + 1 + k),
      value: {},
    }));
    const state = Buffer.from(serializeSyncState(admitObservations(base, observations, now).next));
    return { n, state, bytes: size(state) };
  };
  let low = measure(0);
  let high = measure(keys.length);
  if (high.bytes <= budget) return { changed: high.n, state: high.state };
  if (low.bytes > budget) return { changed: 0, state: low.state };
  // The size grows almost linearly with n: interpolating finds the edge in a few steps; halving every other step
  // keeps the search bounded where it does not.
  for (let step = 0; high.n - low.n > 1; step++) {
    const guess =
      step % 2 === 0
        ? low.n + Math.round(((budget - low.bytes) / (high.bytes - low.bytes)) * (high.n - low.n))
        : Math.floor((low.n + high.n) / 2);
    const probe = measure(Math.min(high.n - 1, Math.max(low.n + 1, guess)));
    if (probe.bytes <= budget) low = probe;
    else high = probe;
  }
  return { changed: low.n, state: low.state };
}

/**
 * The simulator's Services listed in process, paged as the apiserver pages them (500 a page, every page from the
 * snapshot of the first, the kube-system uid as identity). The simulator's HTTP list sorts the whole cluster again
 * for every page, which at 50,000 Services costs seconds that a real apiserver does not spend.
 */
function inProcessList(sim: ApiServerSimulator): ServiceListApi {
  const snapshots = new Map<string, readonly Service[]>();
  return {
    async listServiceForAllNamespaces({ limit = LIST_PAGE_SIZE, _continue }) {
      const [rv, offset] = _continue ? (JSON.parse(_continue) as [string, number]) : [sim.resourceVersion, 0];
      if (!_continue) snapshots.set(rv, sim.listServices());
      const items = snapshots.get(rv);
      if (!items) throw new Error(`continue token ${_continue} names no list in progress`);
      const next = offset + limit;
      if (next >= items.length) snapshots.delete(rv);
      return {
        metadata: {
          resourceVersion: rv,
          ...(next < items.length ? { _continue: JSON.stringify([rv, next]) } : {}),
        },
        items: items.slice(offset, next),
      };
    },
    async readNamespace() {
      return { metadata: { uid: sim.clusterUid } };
    },
  };
}

const perService = (bytes: number) => round(bytes / SERVICES, 2);

interface Sizes {
  readonly document: Buffer;
  readonly state: Buffer;
}

const share = (sizes: Sizes) => round(sizes.state.length / (sizes.state.length + sizes.document.length), 3);

export const stateSuite: BenchSuite = {
  name: 'state',
  async run({ quick, zkConnect }): Promise<Metric[]> {
    const cluster = new Cluster();
    const list = clusterList(inProcessList(cluster.sim), LIST_PAGE_SIZE);
    const byType = new Publisher(zkConnect, 'bench-50k');
    const byNamespace = new Publisher(zkConnect, 'bench-50k-ns', { NAMESPACES_ALLOW: 'edge-*' });
    try {
      // The first reconcile publishes the 1,000; the state then holds only what ownership needs.
      const firstStart = performance.now();
      const first = await byType.reconcile(list);
      const firstMs = performance.now() - firstStart;
      if (first.report.created !== PUBLISHED || !first.report.written || first.report.listed !== SERVICES)
        throw new Error(`the first reconcile did not publish ${PUBLISHED}: ${JSON.stringify(first.report)}`);
      const reconciled = await byType.sizes();
      await byNamespace.reconcile(list);
      const reconciledNs = await byNamespace.sizes();

      // Round 0 is measured for size only; its times warm the JIT up, as in the sync suite.
      const rounds = quick ? 2 : 6;
      const syncTimes: number[] = [];
      const reconcileTimes: number[] = [];
      let measured: { changes: Change[]; churned: Sizes; churnedNs: Sizes } | undefined;
      for (let r = 0; r < rounds; r++) {
        const changes = cluster.churn();
        const records = byType.records(changes);
        const start = performance.now();
        const { report } = await byType.sync(records);
        if (r > 0) syncTimes.push(performance.now() - start);
        if (
          !report.documentWritten ||
          report.failed > 0 ||
          report.applied !== CHURN_EVENTS ||
          report.created !== CHURN.publishedCreated ||
          report.deleted !== CHURN.publishedDeleted ||
          report.updated !== CHURN.publishedUpdated
        )
          throw new Error(`a churn batch was not applied whole: ${JSON.stringify(report)}`);
        if (!measured) {
          const churned = await byType.sizes();
          await byNamespace.sync(byNamespace.records(changes));
          measured = { changes, churned, churnedNs: await byNamespace.sizes() };
        }
        const reconcileStart = performance.now();
        const again = await byType.reconcile(list);
        if (r > 0) reconcileTimes.push(performance.now() - reconcileStart);
        // The batch left the document right: the reconcile after it has nothing to change.
        const { created, updated, deleted, conflicts, listed } = again.report;
        if (created + updated + deleted + conflicts > 0 || listed !== SERVICES)
          throw new Error(`the reconcile after a batch found work left: ${JSON.stringify(again.report)}`);
      }
      if (!measured) throw new Error('no churn round ran');
      const { churned, churnedNs } = measured;

      // Baselines of the two times, on the same server: the bare list, and one bare multi-write of document + state.
      const listTimes = await timed(rounds - 1, () => list());
      const multiMs = median(await bareMultiWrites(byType, churned, quick ? 20 : 100));

      // The real client against the simulator over HTTP, once: the same reconcile through the wire (full mode only:
      // the simulator sorts the whole cluster again for every page, so its list takes most of this).
      let httpMs: number | undefined;
      if (!quick) {
        await cluster.sim.start();
        const kubeConfig = new KubeConfig();
        kubeConfig.loadFromString(cluster.sim.kubeconfig());
        const overHttp = clusterList(serviceListApiFor(kubeConfig), LIST_PAGE_SIZE);
        [httpMs] = await timed(1, async () => {
          const { report } = await byType.reconcile(overHttp);
          if (report.listed !== SERVICES || report.created + report.updated + report.deleted > 0)
            throw new Error(`the reconcile over HTTP did not match: ${JSON.stringify(report)}`);
        });
      }

      // The first layout on the same list and churn.
      const now = Date.now();
      const listed = (await list()).items.map((item) => {
        const { namespace, name, resourceVersion } = (item as Service).metadata;
        return { key: `${namespace}/${name}`, resourceVersion };
      });
      const old = firstLayout(
        listed,
        measured.changes.map(({ service, deleted }) => ({
          key: `${service.metadata.namespace}/${service.metadata.name}`,
          resourceVersion: service.metadata.resourceVersion,
          value: deleted ? null : {},
        })),
        now,
      );

      // Headroom: Services that may change between two reconciles, from the state a reconcile leaves.
      const reconciledState = parseSyncState(reconciled.state);
      const internalKeys = listed.map((l) => l.key).filter((k) => k.startsWith('team-'));
      const spread = internalKeys.map((_, k) => internalKeys[(k * 7919) % internalKeys.length] as string);
      const budget = ZK_MAX_DATA_BYTES - byType.requestBytes(churned.document.length, 0);
      const headroom = changedUntilFull(reconciledState, spread, (state) => state.length, budget, now);
      const headroomGzip = changedUntilFull(
        reconciledState,
        spread,
        (state) => gzipSync(state).length,
        budget,
        now,
      );

      // gzip of the state the churn batch wrote: what each write would pay, and each read (every step reads it); and
      // of the largest state that fits unzipped, the worst case of a write.
      const samples = quick ? 10 : 50;
      const gzipped = gzipSync(churned.state);
      const gzipMs = median(await timed(samples, async () => gzipSync(churned.state)));
      const gunzipMs = median(await timed(samples, async () => gunzipSync(gzipped)));
      const gzipLargestMs = median(await timed(samples, async () => gzipSync(headroom.state)));
      const stepMs = median(
        await timed(samples, async () => serializeSyncState(parseSyncState(churned.state))),
      );

      const syncMs = median(syncTimes);
      const reconcileMs = median(reconcileTimes);
      const listMs = median(listTimes);
      const oldRequest = byType.requestBytes(churned.document.length, old.afterChurn.length);
      return [
        {
          metric: 'state_bytes_per_service',
          value: perService(reconciled.state.length),
          unit: 'bytes',
          note: `${reconciled.state.length} B, ${SERVICES} Services (${PUBLISHED} published), after a reconcile`,
        },
        {
          metric: 'state_bytes_per_service_after_churn',
          value: perService(churned.state.length),
          unit: 'bytes',
          note: `after a sync batch of ${CHURN_EVENTS} events (${churned.state.length} B)`,
        },
        {
          metric: 'state_bytes_per_service_first_layout',
          value: perService(old.afterChurn.length),
          unit: 'bytes',
          note: `first layout, same cluster and batch (baseline; gzipped: ${perService(gzipSync(old.afterChurn).length)})`,
        },
        {
          metric: 'first_layout_over_state',
          value: round(old.afterChurn.length / churned.state.length, 1),
          unit: 'ratio',
          note: `the first layout's request: ${oldRequest} B, refused`,
        },
        {
          metric: 'state_bytes_per_service_namespaces_allow',
          value: perService(churnedNs.state.length),
          unit: 'bytes',
          note: `the same 1000 through NAMESPACES_ALLOW, same batch (${perService(reconciledNs.state.length)} after its reconcile)`,
        },
        {
          metric: 'state_share_of_request_at_50k',
          value: share(churned),
          unit: 'share',
          note: `of document + state after the batch (${share(reconciled)} after a reconcile)`,
        },
        {
          metric: 'changed_services_until_full_at_50k',
          value: headroom.changed,
          unit: 'services',
          note: `changed between two reconciles before the request exceeds ${ZK_MAX_DATA_BYTES} B`,
        },
        {
          metric: 'sync_batch_50k_ms',
          value: round(syncMs),
          unit: 'ms',
          note: `${CHURN_EVENTS} events, ${CHURN.publishedUpdated + CHURN.publishedCreated + CHURN.publishedDeleted} entries changed, ${churned.document.length} B document`,
        },
        {
          metric: 'bare_multi_50k_ms',
          value: round(multiMs),
          unit: 'ms',
          note: 'one multi-write of that document and state (baseline)',
        },
        { metric: 'sync_batch_50k_over_bare_multi', value: round(syncMs / multiMs), unit: 'ratio' },
        {
          metric: 'reconcile_50k_ms',
          value: round(reconcileMs),
          unit: 'ms',
          note: `after a batch, list in process (the first: ${Math.round(firstMs)} ms)`,
        },
        {
          metric: 'list_50k_ms',
          value: round(listMs),
          unit: 'ms',
          note: `the simulator's Services in process, ${LIST_PAGE_SIZE} a page (baseline)`,
        },
        { metric: 'reconcile_50k_over_list', value: round(reconcileMs / listMs), unit: 'ratio' },
        ...(httpMs !== undefined
          ? [
              {
                metric: 'reconcile_50k_http_ms',
                value: round(httpMs),
                unit: 'ms',
                note: "same, real client over HTTP (mostly the simulator's paging)",
              },
            ]
          : []),
        {
          metric: 'state_gzip_bytes_per_service',
          value: perService(gzipped.length),
          unit: 'bytes',
          note: `gzip of the state after the batch: ${round(churned.state.length / gzipped.length, 1)}× smaller`,
        },
        {
          metric: 'state_gzip_ms',
          value: round(gzipMs),
          unit: 'ms',
          note: `gzipSync per write (gunzip ${round(gunzipMs)} ms; ${round(gzipLargestMs)} ms at ${headroom.state.length} B)`,
        },
        {
          metric: 'state_parse_serialize_ms',
          value: round(stepMs),
          unit: 'ms',
          note: 'parse + serialize of that state, as every step does (baseline)',
        },
        {
          metric: 'changed_services_until_full_at_50k_gzip',
          value: headroomGzip.changed,
          unit: 'services',
          note:
            headroomGzip.changed === spread.length
              ? `state gzipped: all ${spread.length} ClusterIP Services`
              : 'state gzipped',
        },
      ];
    } finally {
      byType.close();
      byNamespace.close();
      await cluster.sim.stop();
    }
  },
};

/** Median-ready durations of bare multi-writes of `sizes` (document and state) on copies, with their versions. */
async function bareMultiWrites(publisher: Publisher, sizes: Sizes, times: number): Promise<number[]> {
  const paths = [`${publisher.config.registryPath}-bare`, `${publisher.statePath}-bare`];
  const variants = [
    [sizes.document, sizes.state],
    [sizes.document, Buffer.concat([sizes.state, Buffer.from(' ')])],
  ];
  await publisher.stores.store.update(paths, () => ({ data: variants[0] as Buffer[], result: 0 }));
  const session = await publisher.stores.store.connected();
  let version = 0;
  return timed(times, async (i) => {
    const data = variants[(i + 1) % 2] as Buffer[];
    await session.commit(
      'bare multi-write',
      paths.map((path, k) => ({ type: 'set' as const, path, data: data[k] as Buffer, version })),
    );
    version++;
  });
}

if (import.meta.filename === process.argv[1]) {
  const { runStandalone } = await import('./standalone.ts');
  await runStandalone([stateSuite]);
}
