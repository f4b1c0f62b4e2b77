// The sync Lambda's handler against the shared real ZooKeeper, with SQS events built from forwarder-shaped events of
// Services the apiserver simulator made.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { parseRegistryConfig, type RegistryConfig } from '../../lib/config/config.ts';
import { defaultMappingConfig, mapService } from '../../lib/kube/mapping.ts';
import { trimService } from '../../lib/kube/trim.ts';
import { ApiServerSimulator, generateServices, type Service } from '../../lib/local/apiserver/index.ts';
import { handEntry, type RegistryEntry, readerView } from '../../lib/registry/document.ts';
import { type SyncBatchReport, syncBatch } from '../../lib/sync/batch.ts';
import { containerRegistry } from '../../lib/sync/container.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import type { ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import {
  eventBridgeEvent,
  forwarderDetail,
  lambdaContext,
  serviceRecord,
  sqsEvent,
  sqsRecord,
} from './fixtures.ts';

const CLUSTER = 'test-cluster';
const connectString = inject('zkConnect');
const uniquePath = () => `/test/${randomUUID()}/registry`;

// The module-level handler reads its configuration from the environment at import, as on a cold start.
const envPath = uniquePath();
Object.assign(process.env, {
  ZK_CONNECT: connectString,
  REGISTRY_PATH: envPath,
  CLUSTER_ID: CLUSTER,
  // A local ZooKeeper without credentials: the znodes are open, as asked.
  ZK_OPEN_ACL: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_NAMESPACE: 'KubeZkSyncTest',
  POWERTOOLS_SERVICE_NAME: 'kube-zk-sync-test',
});
const { handler } = await import('../../functions/sync.ts');
const { createSyncHandler } = await import('../../functions/sync-handler.ts');

/** A logger and metrics that print nothing (Powertools reads the switch when the Metrics are made). */
function quiet() {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return {
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'KubeZkSyncTest', serviceName: 't' }),
    };
  } finally {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
  }
}

const configFor = (path: string, extra: Record<string, string> = {}): RegistryConfig =>
  parseRegistryConfig({
    ZK_CONNECT: connectString,
    REGISTRY_PATH: path,
    CLUSTER_ID: CLUSTER,
    ZK_OPEN_ACL: 'true',
    ...extra,
  });

const opened: ZkRegistryStore[] = [];
function registryAt(path: string, extra: Record<string, string> = {}) {
  const { registry } = registryFromConfig(configFor(path, extra));
  opened.push(registry);
  return registry;
}
afterAll(() => {
  for (const r of opened) r.close();
});

/** What the document should hold for these Services: the mapping's entries, sorted by name. */
const expectedEntries = (services: Service[]): RegistryEntry[] =>
  services
    .flatMap((s) => {
      const m = mapService(trimService(s), defaultMappingConfig, CLUSTER);
      return m.kind === 'entry' ? [m.entry] : [];
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));

const entriesIn = async (registry: ZkRegistryStore) =>
  (await registry.read()).document.entries.map(readerView).sort((a, b) => (a.name < b.name ? -1 : 1));

/** Captures what the Powertools console writes (EMF metrics go to stdout). */
async function capturingStdout<T>(work: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return { result: await work(), lines };
  } finally {
    process.stdout.write = write;
  }
}

describe('the sync handler', () => {
  const simulator = new ApiServerSimulator();
  const services = generateServices(12, { seed: 7 }).map((input) => simulator.createService(input));

  test('applies a batch in one write, and a repeated batch writes nothing; metrics go out as EMF', async () => {
    const event = sqsEvent(services.map((s) => serviceRecord(CLUSTER, s, 'list')));
    const { result, lines } = await capturingStdout(() => handler(event, lambdaContext()));
    expect(result).toEqual({ batchItemFailures: [] });
    const registry = registryAt(envPath);
    const expected = expectedEntries(services);
    // The generator also makes ClusterIP Services and load balancers without an address: those are not published.
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(services.length);
    expect(await entriesIn(registry)).toEqual(expected);
    const { version } = await registry.read();
    expect(version).toBe(0);

    const emf = lines.flatMap((line) => line.split('\n')).find((l) => l.includes('"CloudWatchMetrics"'));
    expect(emf).toBeDefined();
    const metrics = JSON.parse(emf as string);
    expect(metrics._aws.CloudWatchMetrics[0].Namespace).toBe('KubeZkSyncTest');
    expect(metrics.RecordsReceived).toBe(services.length);
    expect(metrics.RecordsApplied).toBe(services.length);
    expect(metrics.DocumentWrites).toBe(1);
    expect(metrics.NoOpBatches).toBe(0);
    expect(metrics.CasAttempts).toBe(1);
    expect(metrics.DocumentBytes).toBeGreaterThan(0);

    // At-least-once delivery: the same batch again changes nothing and writes nothing.
    const again = await capturingStdout(() =>
      handler(sqsEvent(services.map((s) => serviceRecord(CLUSTER, s))), lambdaContext()),
    );
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect((await registry.read()).version).toBe(version);
    const noOp = JSON.parse(
      again.lines
        .join('')
        .split('\n')
        .find((l) => l.includes('"CloudWatchMetrics"')) ?? '{}',
    );
    expect(noOp).toMatchObject({ DocumentWrites: 0, NoOpBatches: 1, RecordsApplied: services.length });
  });

  test('a poison record in a batch of 100: 99 applied, 1 reported, and the report reaches onReport', async () => {
    const path = uniquePath();
    const registry = registryAt(path);
    const sim = new ApiServerSimulator();
    const published = Array.from({ length: 99 }, (_, i) =>
      sim.createService({
        namespace: 'shop',
        name: `svc-${i}`,
        type: 'LoadBalancer',
        ports: [{ name: 'http', port: 80 }],
        ingress: [{ ip: `203.0.113.${i + 1}` }],
      }),
    );
    const records = published.map((s) => serviceRecord(CLUSTER, s));
    // A detail whose key does not match its Service breaks the contract.
    const poison = sqsRecord(
      eventBridgeEvent({ ...forwarderDetail(CLUSTER, published[0] as Service), key: 'shop/other' }),
      'poison',
    );
    records.splice(42, 0, poison);
    expect(records).toHaveLength(100);
    const reports: SyncBatchReport[] = [];
    const h = createSyncHandler({
      config: configFor(path),
      registry: async () => registry,
      ...quiet(),
      onReport: (result) => reports.push(result.report),
    });
    const response = (await h(sqsEvent(records), lambdaContext())) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
    // The injected callback hears the batch's own report, with the logger silent.
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ received: 100, invalid: 1, applied: 99, created: 99, failed: 1 });
    expect(await entriesIn(registry)).toEqual(expectedEntries(published));
    expect(await entriesIn(registry)).toHaveLength(99);
  });

  test('malformed bodies fail; other sources, detail-types and clusters are acknowledged and counted', async () => {
    const path = uniquePath();
    const registry = registryAt(path);
    const svc = services.find(
      (s) => s.spec.type === 'LoadBalancer' && s.status.loadBalancer.ingress,
    ) as Service;
    const records = [
      sqsRecord('not json', 'bad-json'),
      sqsRecord({ hello: 'world' }, 'not-an-event'),
      sqsRecord(eventBridgeEvent({ v: 1, cluster: CLUSTER }), 'bad-detail'),
      sqsRecord(eventBridgeEvent(forwarderDetail(CLUSTER, svc), { source: 'aws.ec2' }), 'other-source'),
      sqsRecord(
        eventBridgeEvent(forwarderDetail(CLUSTER, svc), { detailType: 'Something else' }),
        'other-type',
      ),
      sqsRecord(eventBridgeEvent(forwarderDetail('another-cluster', svc)), 'other-cluster'),
    ];
    const result = await syncBatch(records, { registry, target: registryTarget(configFor(path)) });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      'bad-json',
      'not-an-event',
      'bad-detail',
    ]);
    expect(result.report).toMatchObject({ received: 6, invalid: 3, ignored: 3, applied: 0, written: false });
    expect(result.problems.map((p) => p.id)).toEqual(['bad-json', 'not-an-event', 'bad-detail']);
    expect(result.ignoredReasons.map((r) => r.reason)).toEqual([
      'source "aws.ec2" is not "kube-zk-sync"',
      'detail-type "Something else" is not "Kubernetes Service observed"',
      'cluster "another-cluster" is not "test-cluster"',
    ]);
    // Nothing valid: ZooKeeper is not even read.
    expect((await registry.read()).version).toBe(-1);
  });

  test('late and duplicated events: an older event never overwrites, a deleted Service never comes back', async () => {
    const path = uniquePath();
    const registry = registryAt(path);
    const target = registryTarget(configFor(path));
    const sim = new ApiServerSimulator();
    const v1 = sim.createService({
      namespace: 'shop',
      name: 'cart',
      type: 'LoadBalancer',
      ports: [{ port: 80 }],
      ingress: [{ ip: '203.0.113.1' }],
    });
    const v2 = sim.updateService('shop', 'cart', (d) => {
      d.status.loadBalancer.ingress = [{ ip: '203.0.113.2' }];
    });
    const other = sim.createService({
      namespace: 'shop',
      name: 'api',
      type: 'LoadBalancer',
      ports: [{ port: 443 }],
      ingress: [{ ip: '203.0.113.9' }],
    });
    const gone = sim.deleteService('shop', 'api');

    await syncBatch([serviceRecord(CLUSTER, v2), serviceRecord(CLUSTER, other)], { registry, target });
    const late = await syncBatch([serviceRecord(CLUSTER, v1)], { registry, target });
    expect(late.report).toMatchObject({ stale: 1, applied: 0, documentWritten: false });
    expect((await entriesIn(registry)).find((e) => e.name === 'cart.shop')?.endpoints).toEqual([
      '203.0.113.2:80',
    ]);

    await syncBatch([serviceRecord(CLUSTER, gone, 'deleted')], { registry, target });
    // The creation of the deleted Service arrives late, twice, in one batch with a duplicate of the newest cart.
    const replay = await syncBatch(
      [serviceRecord(CLUSTER, other), serviceRecord(CLUSTER, v2), serviceRecord(CLUSTER, other)],
      { registry, target },
    );
    expect(replay.report).toMatchObject({ stale: 1, applied: 1, coalesced: 1, documentWritten: false });
    expect((await entriesIn(registry)).map((e) => e.name)).toEqual(['cart.shop']);
  });

  test('ZooKeeper unreachable: every valid record comes back, ignored ones do not', async () => {
    // A port that accepts connections and never answers, as a half-dead ZooKeeper behind a firewall would.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const config = configFor('/unreachable/registry', {
        ZK_CONNECT: `127.0.0.1:${port}`,
        ZK_CONNECT_TIMEOUT_MS: '300',
      });
      const h = createSyncHandler({
        config,
        registry: containerRegistry(config, async () => undefined),
        ...quiet(),
      });
      const svc = services[0] as Service;
      const response = (await h(
        sqsEvent([
          sqsRecord(eventBridgeEvent(forwarderDetail(CLUSTER, svc)), 'a'),
          sqsRecord(eventBridgeEvent(forwarderDetail('elsewhere', svc)), 'ignored'),
          sqsRecord('{', 'broken'),
          sqsRecord(eventBridgeEvent(forwarderDetail(CLUSTER, services[1] as Service)), 'b'),
        ]),
        lambdaContext(),
      )) as SQSBatchResponse;
      expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a', 'b', 'broken']);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('8 sync invocations at once and people registering by hand: nothing is lost', async () => {
    const path = uniquePath();
    const sim = new ApiServerSimulator();
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 25 }, (_, i) =>
        sim.createService({
          namespace: `team-${b}`,
          name: `svc-${i}`,
          type: 'LoadBalancer',
          ports: [{ port: 8080 }],
          ingress: [{ hostname: `lb-${b}-${i}.elb.example.com` }],
        }),
      ),
    );
    // Each invocation is its own container: its own store and ZooKeeper session.
    const handlers = batches.map(() => {
      const registry = registryAt(path);
      return createSyncHandler({ config: configFor(path), registry: async () => registry, ...quiet() });
    });
    const people = registryAt(path);
    const hand = Array.from({ length: 16 }, (_, i) => ({
      name: `kafka-${i}`,
      description: 'registered by hand',
      endpoints: [`kafka-${i}.internal:9092`],
    }));
    const [responses] = await Promise.all([
      Promise.all(
        handlers.map((h, b) =>
          h(sqsEvent((batches[b] as Service[]).map((s) => serviceRecord(CLUSTER, s))), lambdaContext()),
        ),
      ),
      Promise.all(
        hand.map((entry) =>
          people.modify((doc) => ({
            document: { entries: [...doc.entries, handEntry(entry)] },
            result: undefined,
          })),
        ),
      ),
    ]);
    for (const r of responses) expect(r).toEqual({ batchItemFailures: [] });
    const entries = await entriesIn(people);
    expect(entries).toEqual(
      [...expectedEntries(batches.flat()), ...hand].sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    expect(entries).toHaveLength(8 * 25 + 16);
  });

  test('out of time: the invocation fails whole (middy stops it early), and no write starts after the abort', async () => {
    const path = uniquePath();
    const registry = registryAt(path);
    const config = configFor(path, { TIMEOUT_EARLY_MS: '1000' });
    const h = createSyncHandler({ config, registry: async () => registry, ...quiet() });
    const event = sqsEvent(services.map((s) => serviceRecord(CLUSTER, s)));
    // Less time left than the early margin: middy gives up at once.
    await expect(h(event, lambdaContext(500))).rejects.toMatchObject({ name: 'TimeoutError' });

    // The abort reaches the batch before its compare-and-set: nothing is written and every record comes back.
    const controller = new AbortController();
    const running = syncBatch(event.Records, {
      registry,
      target: registryTarget(config),
      signal: controller.signal,
    });
    controller.abort();
    const result = await running;
    expect(result.batchItemFailures).toHaveLength(services.length);
    expect(result.report.error).toContain('abort');
    expect((await registry.read()).version).toBe(-1);
  });

  test('the registry of a container is made once and reused; a failure is retried on the next call', async () => {
    let fetched = 0;
    const config = configFor(uniquePath());
    const get = containerRegistry(config, async () => {
      fetched++;
      if (fetched === 1) throw new Error('SSM throttled');
      return undefined;
    });
    await expect(get()).rejects.toThrow('SSM throttled');
    const first = await get();
    opened.push(first);
    expect(await get()).toBe(first);
    expect(fetched).toBe(2);
  });
});
