// Operators drive the cluster with real kubectl and its default flags, while the generator churns other namespaces
// and the simulated cloud controller takes its time to give load balancers their address: apply a LoadBalancer
// Service (skipped while <pending>, published once it has its ELB hostname), rename it with an annotation, patch it
// each way kubectl can, apply it server-side, edit it, label it, change its type away and back, delete it. After
// each command the registry follows; at the end the whole document is the cluster's state mapped.

import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { LocalPipeline } from '../../lib/cli/local-pipeline.ts';
import {
  ApiServerSimulator,
  type Churn,
  generateServices,
  loadBalancerHostname,
  type Service,
  startChurn,
} from '../../lib/local/apiserver/index.ts';
import type { RegistryDocument } from '../../lib/registry/document.ts';
import { eventually } from '../support/cli.ts';
import { type Kubectl, kubectlBinaries, kubectlFor, kubectlMinor } from '../support/kubectl.ts';
import { expectedEntries, type OwnedView, ownedEntries } from './cluster-view.ts';

const EXAMPLE = fileURLToPath(new URL('../../infra/examples/web-service.yaml', import.meta.url));
const LB_DELAY_MS = 600;
const CLUSTER = 'ops';
const PATH = `/registry/e2e-kubectl-${process.pid}`;
const MAPPING_ENV: Record<string, string> = {};
const SETTLE_MS = 30_000;

let sim: ApiServerSimulator;
let pipeline: LocalPipeline;
let churn: Churn;
/** Every version of the document the pipeline wrote, as a reader watching it saw them. */
const seen: RegistryDocument[] = [];
let stopWatching: (() => void) | undefined;

beforeAll(async () => {
  sim = new ApiServerSimulator({ bookmarkIntervalMs: 300, seed: 17, lbDelayMs: LB_DELAY_MS });
  for (const s of generateServices(200, { seed: 17 })) sim.createService(s);
  await sim.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  pipeline = await LocalPipeline.start({
    kubeConfig,
    zkConnect: inject('zkConnect'),
    registryPath: PATH,
    clusterId: CLUSTER,
    env: MAPPING_ENV,
    queue: { batchSize: 200, windowMs: 100, concurrency: 2 },
    forwarders: 2,
  });
  await eventually('the forwarders to list', () => pipeline.forwarders.every((f) => f.ready), SETTLE_MS);
  stopWatching = pipeline.registry.watch((read) => {
    if (read.document) seen.push(read.document);
  });
  // The churn runs in its own namespaces through every scenario; kubectl's Services live elsewhere.
  churn = startChurn(sim, { changesPerSecond: 25, seed: 17 });
}, 60_000);

afterAll(async () => {
  stopWatching?.();
  await churn?.stop();
  await pipeline?.stop();
  await sim?.stop();
});

const owned = async (): Promise<OwnedView[]> =>
  ownedEntries((await pipeline.registry.read()).document, CLUSTER);
const ofService = (entries: OwnedView[], key: string) => entries.filter((e) => e.service === key);
const webNow = () => sim.getService('demo', 'web');
const addressOf = (s: Service | undefined) => s?.status.loadBalancer.ingress?.[0]?.hostname;

/**
 * Waits until the cluster implies entries named `names` for these Services (the command and the cloud controller
 * have done their part) and the document holds exactly those entries; returns them.
 */
async function registryFollows(
  what: string,
  keys: readonly string[],
  names: readonly string[],
): Promise<OwnedView[]> {
  let last: OwnedView[] = [];
  const want = () => expectedEntries(sim, MAPPING_ENV, CLUSTER).filter((e) => keys.includes(e.service ?? ''));
  const named = (entries: OwnedView[]) => entries.map((e) => e.name).sort();
  try {
    await eventually(
      what,
      async () => {
        const expected = want();
        if (JSON.stringify(named(expected)) !== JSON.stringify([...names].sort())) return false;
        last = (await owned()).filter((e) => keys.includes(e.service ?? ''));
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      SETTLE_MS,
    );
  } catch (error) {
    expect(named(want()), `${(error as Error).message}: the names the cluster implies`).toEqual(
      [...names].sort(),
    );
    expect(last, `${(error as Error).message}: the document's entries`).toEqual(want());
  }
  return last;
}

/** A `kubectl get … -w` whose watch is open; shows() waits until its rows, in order, match `rows`. */
async function watchRows(
  k: Kubectl,
  args: readonly string[],
): Promise<{ shows(rows: readonly RegExp[]): Promise<void>; stop(): Promise<void> }> {
  // The forwarders' watches last minutes: a new watch now is this kubectl's.
  const before = sim.stats().watchesStarted;
  const running = k.start(args);
  await eventually(
    `kubectl ${args.join(' ')} to watch`,
    () => sim.stats().watchesStarted > before,
    SETTLE_MS,
  );
  const inOrder = (rows: readonly RegExp[]) => {
    let next = 0;
    for (const line of running.stdout().split('\n')) if (next < rows.length && rows[next]?.test(line)) next++;
    return next === rows.length;
  };
  return {
    async shows(rows) {
      await eventually(
        `kubectl ${args.join(' ')} to show ${rows.join(', ')}`,
        () => inOrder(rows),
        SETTLE_MS,
      ).catch((error: Error) => expect(running.stdout(), error.message).toBe(''));
    },
    stop: () => running.stop(),
  };
}

/** A `kubectl get svc` row of web with this load balancer address. */
const addressRow = (hostname: string, flags = '') =>
  new RegExp(`^web\\s+LoadBalancer\\s+\\S+\\s+${hostname.replaceAll('.', '\\.')}\\s+\\d+:3\\d+/TCP`, flags);

/** An EDITOR for `kubectl edit`: a sed script run on the file kubectl hands it. */
async function sedEditor(k: Kubectl, script: string): Promise<string> {
  const file = join(k.dir, 'editor.sh');
  await writeFile(file, `#!/bin/sh\nexec sed -i -e '${script}' "$1"\n`);
  await chmod(file, 0o755);
  return file;
}

const SHOPS = `apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop-eu
spec:
  type: LoadBalancer
  selector: {app: cart}
  ports:
  - {name: http, port: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop-us
  annotations:
    kube-zk-sync.io/description: US cart
spec:
  type: LoadBalancer
  selector: {app: cart}
  ports:
  - {name: http, port: 8080}
  - {name: admin, port: 9090}
---
apiVersion: v1
kind: Service
metadata:
  name: cache
  namespace: shop-eu
spec:
  type: ClusterIP
  selector: {app: cache}
  ports:
  - {port: 6379}
`;

const apiManifest = (port: number) => `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop-eu
spec:
  type: LoadBalancer
  selector: {app: api}
  ports:
  - {name: http, port: ${port}, protocol: TCP}
`;

// The kubectl on the PATH, and each one KUBECTL_ALSO lists: one after the other on the same cluster.
const binaries = kubectlBinaries();

describe.each(binaries.map((bin) => ({ bin, minor: kubectlMinor(bin) })))('kubectl 1.$minor', ({ bin }) => {
  let k: Kubectl;
  beforeAll(async () => {
    k = await kubectlFor(sim.url, { bin });
  });
  afterAll(() => k?.close());

  test('apply: skipped while <pending>, published with its ELB hostname once the cloud controller gives it', async () => {
    const from = seen.length;
    const watching = await watchRows(k, ['get', 'svc', '-n', 'demo', '-w']);
    try {
      expect(await k.ok('apply', '-f', EXAMPLE)).toBe('service/web created\n');
      // While the load balancer has no address, the document has no entry for it (the same instant, on both sides).
      expect(addressOf(webNow())).toBeUndefined();
      const whilePending = await owned();
      expect(addressOf(webNow())).toBeUndefined();
      expect(whilePending.map((e) => e.name)).not.toContain('web.demo');

      const published = await registryFollows('web.demo to be published', ['demo/web'], ['web.demo']);
      const hostname = loadBalancerHostname(webNow() as Service, 'us-east-1');
      expect(published).toEqual([
        expect.objectContaining({ name: 'web.demo', endpoints: [`${hostname}:80`] }),
      ]);
      // What the operator saw meanwhile: <pending>, then the address.
      await watching.shows([/^web\s+LoadBalancer\s+\S+\s+<pending>\s/, addressRow(hostname)]);
      expect(await k.ok('get', 'svc', 'web', '-n', 'demo')).toMatch(addressRow(hostname, 'm'));
    } finally {
      await watching.stop();
    }
    // No reader ever saw it published without its address.
    for (const document of seen.slice(from))
      for (const e of ownedEntries(document, CLUSTER).filter((e) => e.name === 'web.demo'))
        expect(e.endpoints).toEqual([`${addressOf(webNow())}:80`]);
  });

  test('annotate renames the entry; patch (merge, json, strategic), edit and label change it as they change the Service', async () => {
    await k.ok('annotate', 'svc', 'web', '-n', 'demo', 'kube-zk-sync.io/name=storefront.demo');
    const renamed = await registryFollows('the rename', ['demo/web'], ['storefront.demo']);
    expect(renamed.map((e) => e.name)).toEqual(['storefront.demo']);
    expect((await owned()).map((e) => e.name)).not.toContain('web.demo');
    const host = addressOf(webNow());

    // kubectl patch's default type is the strategic merge patch: spec.ports merges by port.
    const patches: Array<[string, string[], number[]]> = [
      [
        'the merge patch',
        [
          '--type=merge',
          '-p',
          '{"spec":{"ports":[{"name":"http","port":81,"targetPort":8080,"protocol":"TCP"}]}}',
        ],
        [81],
      ],
      [
        'the JSON patch',
        [
          '--type=json',
          '-p',
          '[{"op":"add","path":"/spec/ports/-","value":{"name":"https","port":443,"targetPort":8443,"protocol":"TCP"}}]',
        ],
        [443, 81],
      ],
      ['the strategic merge patch', ['-p', '{"spec":{"ports":[{"port":81,"$patch":"delete"}]}}'], [443]],
    ];
    for (const [what, args, ports] of patches) {
      await k.ok('patch', 'svc', 'web', '-n', 'demo', ...args);
      const entries = await registryFollows(what, ['demo/web'], ['storefront.demo']);
      expect(entries[0]?.endpoints).toEqual(ports.map((port) => `${host}:${port}`));
    }

    const editor = await sedEditor(k, 's/^    port: 443$/    port: 8443/');
    const edited = await k.run(['edit', 'svc', 'web', '-n', 'demo'], {
      env: { EDITOR: editor, KUBE_EDITOR: editor },
    });
    expect(edited, edited.stderr).toMatchObject({ code: 0, stdout: 'service/web edited\n' });
    expect((await registryFollows('the edit', ['demo/web'], ['storefront.demo']))[0]?.endpoints).toEqual([
      `${host}:8443`,
    ]);

    const before = await owned();
    await k.ok('label', 'svc', 'web', '-n', 'demo', 'tier=frontend');
    await eventually('the label to reach the cluster', () => webNow()?.metadata.labels?.tier === 'frontend');
    // A label the mapping does not read changes nothing in the document.
    expect(
      ofService(await registryFollows('the label', ['demo/web'], ['storefront.demo']), 'demo/web'),
    ).toEqual(ofService(before, 'demo/web'));
  });

  test('apply --server-side creates and changes a Service; several namespaces at once, one deleted by name', async () => {
    const shops = join(k.dir, 'shops.yaml');
    await writeFile(shops, SHOPS);
    await k.ok('apply', '-f', shops);
    const api = join(k.dir, 'api.yaml');
    await writeFile(api, apiManifest(8000));
    expect(await k.ok('apply', '--server-side', '-f', api)).toBe('service/api serverside-applied\n');
    const keys = ['shop-eu/cart', 'shop-us/cart', 'shop-eu/cache', 'shop-eu/api'];
    const first = await registryFollows('the shops to be published', keys, [
      'api.shop-eu',
      'cart.shop-eu',
      'cart.shop-us',
    ]);
    expect(first.map((e) => e.name).sort()).toEqual(['api.shop-eu', 'cart.shop-eu', 'cart.shop-us']);
    expect(first.find((e) => e.name === 'cart.shop-us')?.description).toBe('US cart');

    await writeFile(api, apiManifest(8001));
    await k.ok('apply', '--server-side', '-f', api);
    const moved = await registryFollows('the server-side apply of a new port', keys, [
      'api.shop-eu',
      'cart.shop-eu',
      'cart.shop-us',
    ]);
    expect(moved.find((e) => e.name === 'api.shop-eu')?.endpoints).toEqual([
      `${addressOf(sim.getService('shop-eu', 'api'))}:8001`,
    ]);

    expect(await k.ok('delete', 'svc', 'cart', '-n', 'shop-us')).toBe('service "cart" deleted\n');
    expect(sim.getService('shop-us', 'cart')).toBeUndefined();
    const left = await registryFollows('cart.shop-us to go', keys, ['api.shop-eu', 'cart.shop-eu']);
    expect(left.map((e) => e.name).sort()).toEqual(['api.shop-eu', 'cart.shop-eu']);
  });

  test('type ClusterIP removes the entry; back to LoadBalancer it is pending, then published again', async () => {
    const hostname = loadBalancerHostname(webNow() as Service, 'us-east-1');
    const watching = await watchRows(k, ['get', 'svc', 'web', '-n', 'demo', '-w']);
    try {
      await k.ok('patch', 'svc', 'web', '-n', 'demo', '-p', '{"spec":{"type":"ClusterIP"}}');
      expect(addressOf(webNow())).toBeUndefined();
      expect(await registryFollows('the entry to go with the type', ['demo/web'], [])).toEqual([]);

      await k.ok('patch', 'svc', 'web', '-n', 'demo', '-p', '{"spec":{"type":"LoadBalancer"}}');
      expect(addressOf(webNow())).toBeUndefined();
      expect((await owned()).map((e) => e.name)).not.toContain('storefront.demo');
      const again = await registryFollows(
        'the entry to come back with the address',
        ['demo/web'],
        ['storefront.demo'],
      );
      // The same Service gets the same load balancer name back.
      expect(again[0]?.endpoints).toEqual([`${hostname}:8443`]);
      await watching.shows([
        addressRow(hostname),
        /^web\s+ClusterIP\s+\S+\s+<none>\s/,
        /^web\s+LoadBalancer\s+\S+\s+<pending>\s/,
        addressRow(hostname),
      ]);
    } finally {
      await watching.stop();
    }
  });

  test('delete -f returns once the cloud controller released the load balancer; the entry goes with the Service', async () => {
    // kubectl waits for the object to be gone (--wait is the default), which is after the finalizer's release.
    expect(await k.ok('delete', '-f', EXAMPLE)).toBe('service "web" deleted\n');
    expect(webNow()).toBeUndefined();
    expect(await registryFollows('the entry to go with the Service', ['demo/web'], [])).toEqual([]);
    // The next kubectl starts from an empty shop-eu; deleting three at once waits for their releases together.
    await k.ok('delete', 'svc', '-n', 'shop-eu', 'cart', 'cache', 'api');
    expect(await registryFollows('shop-eu to be empty', ['shop-eu/cart', 'shop-eu/api'], [])).toEqual([]);
  });
});

test('after the churn stops and the pipeline settles, the document is the cluster mapped: nothing lost, nothing extra', async () => {
  const counts = await churn.stop();
  expect(counts.created + counts.updated + counts.deleted).toBeGreaterThan(50);
  let last: OwnedView[] = [];
  const want = () => expectedEntries(sim, MAPPING_ENV, CLUSTER);
  await eventually(
    'the document to equal the cluster',
    async () => {
      last = await owned();
      return pipeline.settled && JSON.stringify(last) === JSON.stringify(want());
    },
    SETTLE_MS,
  ).catch(() => expect(last).toEqual(want()));
  expect(last.length).toBeGreaterThan(150);
  // The reconcile, the backstop, finds nothing the stream missed.
  const result = await pipeline.reconcileNow();
  expect(result.report).toMatchObject({ created: 0, updated: 0, deleted: 0, documentWritten: false });
});
