// Events on Services, end to end: the local pipeline (forwarder → EventBridge → queue → the sync handler, and the
// reconcile) against real ZooKeeper and the simulator, read back with real kubectl, as a Service's owner reads them.
// A Service with an invalid annotation, one whose name a hand-made entry holds, and one created `<pending>` each show
// the right Event, then the next one once fixed; a quiet cluster writes none; `kube-zk-sync status` answers for
// each. A failing Events API (500s, a silent connection) changes nothing in the registry writes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import { ApiServerSimulator } from '../../lib/local/apiserver/index.ts';
import { parseDocument, readerView } from '../../lib/registry/document.ts';
import type { SyncBatchResult } from '../../lib/sync/batch.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { eventually, runCli } from '../support/cli.ts';
import { HttpFaultFront } from '../support/http-faults.ts';
import { kubectl as runKubectl } from '../support/kubectl.ts';
import { registerTakenName, takenNameService, typoService } from '../support/outcome-services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const zk = inject('zkConnect');
const CLUSTER = 'events-e2e';
const LB_DELAY_MS = 2_000;

interface EventObject {
  reason: string;
  type: string;
  note: string;
  reportingController: string;
  regarding: { name: string; namespace: string; uid?: string };
  series?: { count: number };
}

let dir: string;
let store: ZkStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-events-'));
  store = new ZkStore({ openAcl: true, connectString: zk });
});
afterAll(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A simulator with its kubeconfig file, and kubectl pointed at it. */
async function cluster(name: string) {
  const sim = new ApiServerSimulator({ lbDelayMs: LB_DELAY_MS, bookmarkIntervalMs: 500 });
  const url = await sim.start();
  const kubeconfig = join(dir, `${name}.kubeconfig`);
  await sim.writeKubeconfig(kubeconfig);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const kubectl = (...args: string[]) => runKubectl(kubeconfig, join(dir, name), ...args);
  /** Every Event kube-zk-sync wrote in `namespace`, as kubectl lists them. */
  const events = async (namespace: string): Promise<EventObject[]> =>
    (
      JSON.parse(await kubectl('get', 'events.v1.events.k8s.io', '-n', namespace, '-o', 'json')) as {
        items: EventObject[];
      }
    ).items.filter((e) => e.reportingController === 'kube-zk-sync.io/sync');
  /** `kubectl annotate --overwrite` of Service `name` in namespace shop, as its owner fixes it. */
  const annotate = (name: string, annotation: string) =>
    kubectl('annotate', '--overwrite', 'svc', '-n', 'shop', name, annotation);
  /** A KubeConfig like `kc` whose server is `server` (a fault front or proxy). */
  const through = (server: string) => {
    const other = new KubeConfig();
    other.loadFromString(sim.kubeconfig().replace(url, server));
    return other;
  };
  return { sim, url, kubeconfig, kc, kubectl, annotate, events, through };
}

const reasonsOf = (events: EventObject[], service: string) =>
  events.filter((e) => e.regarding.name === service).map((e) => e.reason);

describe('Events on Services through the pipeline', () => {
  let c: Awaited<ReturnType<typeof cluster>>;
  let pipeline: LocalPipeline;
  const path = `/events/${Date.now()}/services`;
  const eventErrors: string[] = [];

  beforeAll(async () => {
    c = await cluster('main');
    await registerTakenName(zk, path, 'shop');
    pipeline = await LocalPipeline.start({
      kubeConfig: c.kc,
      zkConnect: zk,
      registryPath: path,
      clusterId: CLUSTER,
      queue: { windowMs: 100 },
      onSyncReport: (r) => eventErrors.push(...r.eventErrors),
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await c?.sim.stop();
  });

  test('invalid, taken, <pending>: the right Event each, then the next once fixed; status answers for each', async () => {
    c.sim.createService(typoService('shop'));
    c.sim.createService(takenNameService('shop'));
    // Created through the API's create (as `kubectl apply` does): the cloud controller gives it an address after
    // LB_DELAY_MS, so it starts `<pending>`.
    c.sim.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'pending', namespace: 'shop' },
      spec: { type: 'LoadBalancer', ports: [{ port: 8080 }] },
    });
    expect(await c.kubectl('get', 'svc', '-n', 'shop', 'pending')).toContain('<pending>');

    await eventually(
      'Invalid, NameConflict and Skipped Events',
      async () => {
        const events = await c.events('shop');
        return (
          reasonsOf(events, 'typo').includes('Invalid') &&
          reasonsOf(events, 'db').includes('NameConflict') &&
          reasonsOf(events, 'pending').length > 0
        );
      },
      30_000,
    );
    let events = await c.events('shop');
    expect(events.find((e) => e.regarding.name === 'typo')).toMatchObject({
      type: 'Warning',
      note: 'invalid: annotation kube-zk-sync.io/register is "yes please"; use "true" or "false"',
      regarding: { uid: c.sim.getService('shop', 'typo')?.metadata.uid },
    });
    expect(events.find((e) => e.regarding.name === 'db')).toMatchObject({
      type: 'Warning',
      note: 'conflict: "db.shop" is held by a hand-made entry',
    });
    // The load balancer may have come up meanwhile: Skipped first, then Published.
    expect(reasonsOf(events, 'pending')[0]).toBe('Skipped');

    // kubectl get events lists them (the field selector its owner would use), kubectl describe shows them on the
    // Service, as its owner looks.
    const listed = await c.kubectl(
      'get',
      'events',
      '-n',
      'shop',
      '--field-selector',
      'reportingComponent=kube-zk-sync.io/sync',
    );
    expect(listed).toMatch(
      /Warning\s+Invalid\s+service\/typo\s+invalid: annotation kube-zk-sync\.io\/register/,
    );
    expect(listed).toMatch(
      /Warning\s+NameConflict\s+service\/db\s+conflict: "db\.shop" is held by a hand-made entry/,
    );
    const described = await c.kubectl('describe', 'svc', '-n', 'shop', 'typo');
    expect(described).toMatch(/Warning\s+Invalid\s+.*kube-zk-sync\.io\/register is "yes please"/);

    const statusOfShop = () =>
      runCli(['status', '--kubeconfig', c.kubeconfig, '--cluster-id', CLUSTER, '-n', 'shop'], {
        ZK_CONNECT: zk,
        REGISTRY_PATH: path,
        ZK_OPEN_ACL: 'true',
      });
    const status = await statusOfShop();
    expect(status.stdout).toContain('shop/db       conflict: "db.shop" is held by a hand-made entry');
    expect(status.stdout).toContain(
      'shop/typo     invalid: annotation kube-zk-sync.io/register is "yes please"',
    );

    // Fixed: the annotation corrected, the name changed; the load balancer came up by itself.
    await c.annotate('typo', 'kube-zk-sync.io/register=true');
    await c.annotate('db', 'kube-zk-sync.io/name=orders-db.shop');
    await eventually(
      'Published Events for the three',
      async () => {
        events = await c.events('shop');
        return ['typo', 'db', 'pending'].every((s) => reasonsOf(events, s).includes('Published'));
      },
      30_000,
    );
    expect(events.find((e) => e.regarding.name === 'db' && e.reason === 'Published')?.note).toMatch(
      /^published as "orders-db\.shop" 203\.0\.113\.12:80$/,
    );
    const doc = parseDocument((await store.read(path)).data ?? '');
    expect(doc.entries.map((e) => e.name).sort()).toEqual([
      'db.shop',
      'orders-db.shop',
      'pending.shop',
      'typo.shop',
    ]);
    const fixed = await statusOfShop();
    for (const service of ['db', 'pending', 'typo'])
      expect(fixed.stdout).toMatch(new RegExp(`shop/${service} +published .*\\(the document agrees\\)`));
  }, 90_000);

  test('a quiet cluster writes no Events: a reconcile of it changes nothing', async () => {
    await eventually('the pipeline to settle', () => pipeline.settled);
    const before = (await c.events('shop')).length;
    const result = await pipeline.reconcileNow();
    expect(result.report.events).toEqual({ created: 0, series: 0, failed: 0, unwritten: 0 });
    expect(await c.events('shop')).toHaveLength(before);
  }, 60_000);

  test('the same problem again counts up its Event', async () => {
    const count = async () =>
      (await c.events('shop')).find((e) => e.regarding.name === 'typo' && e.reason === 'Invalid')?.series
        ?.count ?? 1;
    await c.annotate('typo', 'kube-zk-sync.io/register=yes please');
    await eventually('the second Invalid', async () => (await count()) === 2).catch((error: Error) => {
      throw new Error(`${error.message}; Events not written: ${eventErrors.join(' | ')}`);
    });
    expect(reasonsOf(await c.events('shop'), 'typo').filter((r) => r === 'Invalid')).toHaveLength(1);
  }, 60_000);
});

test('the Events written per invocation are bounded; the rest are counted', async () => {
  const c = await cluster('bounded');
  const reports: SyncBatchResult[] = [];
  const pipeline = await LocalPipeline.start({
    kubeConfig: c.kc,
    zkConnect: zk,
    registryPath: `/events-bounded/${Date.now()}/services`,
    clusterId: CLUSTER,
    // One batch for the three Services created at once.
    queue: { windowMs: 1_500 },
    env: { SERVICE_EVENTS_MAX: '1' },
    onSyncReport: (r) => reports.push(r),
  });
  try {
    await eventually('the forwarder ready', () => pipeline.settled);
    for (const n of ['x', 'y', 'z'])
      c.sim.createService({ namespace: 'bounded', name: n, type: 'LoadBalancer', ports: [{ port: 80 }] });
    await eventually('the batch', () => reports.some((r) => r.report.applied === 3));
    const batch = reports.find((r) => r.report.applied === 3);
    expect(batch?.report.events).toEqual({ created: 1, series: 0, failed: 0, unwritten: 2 });
    expect(await c.events('bounded')).toHaveLength(1);
  } finally {
    await pipeline.stop();
    await c.sim.stop();
  }
}, 60_000);

describe('a failing Events API changes nothing in the registry writes', () => {
  /** Runs the pipeline with Events written through `eventsServer`, and checks what reaches the registry. */
  async function publishWhileEventsFail(name: string, eventsServer: (sim: string) => Promise<string>) {
    const c = await cluster(name);
    const path = `/events-faults/${name}/${Date.now()}/services`;
    const reports: SyncBatchResult[] = [];
    const pipeline = await LocalPipeline.start({
      kubeConfig: c.kc,
      eventsKubeConfig: c.through(await eventsServer(c.url)),
      zkConnect: zk,
      registryPath: path,
      clusterId: CLUSTER,
      queue: { windowMs: 100 },
      env: { SERVICE_EVENTS_TIMEOUT_MS: '1500' },
      onSyncReport: (r) => reports.push(r),
    });
    try {
      for (const n of ['a', 'b', 'c']) {
        c.sim.createService({
          namespace: 'shop',
          name: n,
          type: 'LoadBalancer',
          ports: [{ port: 80 }],
          ...(n === 'c' ? {} : { ingress: [{ ip: `203.0.113.${n === 'a' ? 1 : 2}` }] }),
        });
      }
      await eventually('both entries in the document', async () => {
        const doc = parseDocument((await store.read(path)).data ?? '');
        return doc.entries.length === 2;
      });
      const doc = parseDocument((await store.read(path)).data ?? '');
      expect(doc.entries.map((e) => `${e.name} ${readerView(e).endpoints}`)).toEqual([
        'a.shop 203.0.113.1:80',
        'b.shop 203.0.113.2:80',
      ]);
      // The Events are tried after the write (and the report comes after them).
      await eventually('the failed Events counted', () => reports.some((r) => r.report.events.failed > 0));
      expect(reports.every((r) => r.batchItemFailures.length === 0 && r.report.error === undefined)).toBe(
        true,
      );
      expect(await c.events('shop')).toEqual([]);
      // The reconcile too: it writes (nothing to change), and its Events fail alone.
      const result = await pipeline.reconcileNow();
      expect(result.report.refused).toBeUndefined();
    } finally {
      await pipeline.stop();
      await c.sim.stop();
    }
  }

  test('500s from the Events API', async () => {
    let front: HttpFaultFront | undefined;
    try {
      await publishWhileEventsFail('http500', async (url) => {
        front = await HttpFaultFront.start(url, (req) => (req.url?.includes('/events') ? 500 : undefined));
        return front.url;
      });
      expect(front?.failed).toBeGreaterThan(0);
    } finally {
      await front?.stop();
    }
  }, 60_000);

  test('an Events API that never answers (timeouts)', async () => {
    let proxy: TcpProxy | undefined;
    try {
      await publishWhileEventsFail('silent', async (url) => {
        const { hostname, port } = new URL(url);
        proxy = await TcpProxy.start({ host: hostname, port: Number(port) });
        proxy.silenceNew(true);
        return `http://127.0.0.1:${proxy.port}`;
      });
    } finally {
      await proxy?.stop();
    }
  }, 60_000);
});
