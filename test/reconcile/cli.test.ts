// `kube-zk-sync reconcile` in a child process, as a person runs it, against the simulator and the real ZooKeeper.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { ApiServerSimulator, type ServiceInput } from '../../lib/local/apiserver/index.ts';
import { parseDocument } from '../../lib/registry/document.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { runCli } from '../support/cli.ts';

const zk = inject('zkConnect');
const store = new ZkStore({ openAcl: true, connectString: zk });
const sim = new ApiServerSimulator();
let dir: string;
let kubeconfig: string;

/** The two load-balanced Services the reconcile publishes (a ClusterIP one stays out). */
const PUBLISHED: ServiceInput[] = [
  {
    namespace: 'shop',
    name: 'cart',
    type: 'LoadBalancer',
    ports: [{ name: 'http', port: 80 }],
    ingress: [{ hostname: 'cart.elb.example.com' }],
  },
  {
    namespace: 'shop',
    name: 'api',
    type: 'LoadBalancer',
    ports: [{ name: 'https', port: 443 }],
    ingress: [{ ip: '203.0.113.10' }],
  },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-cli-'));
  kubeconfig = join(dir, 'kubeconfig');
  await sim.start();
  await sim.writeKubeconfig(kubeconfig);
  for (const service of PUBLISHED) sim.createService(service);
  sim.createService({ namespace: 'shop', name: 'internal', type: 'ClusterIP', ports: [{ port: 80 }] });
});
afterAll(async () => {
  store.close();
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

const newPath = () => `/cli/${randomUUID()}/services`;
const reconcileCli = (path: string, ...args: string[]) =>
  runCli(['reconcile', '--kubeconfig', kubeconfig, '--cluster-id', 'shop-cluster', ...args], {
    ZK_CONNECT: zk,
    REGISTRY_PATH: path,
    ZK_OPEN_ACL: 'true',
  });

describe('kube-zk-sync reconcile', () => {
  test('--dry-run prints the diff and writes nothing; then a real run writes it', async () => {
    const path = newPath();
    const dry = await reconcileCli(path, '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n')).toEqual([
      expect.stringMatching(
        /^reconcile of cluster "shop-cluster" from 3 Services \(list at resourceVersion \d+\) into \/cli\/.+\/services$/,
      ),
      '+ api.shop  203.0.113.10:443  (shop/api)',
      '+ cart.shop  cart.elb.example.com:80  (shop/cart)',
      'created 2, updated 0, deleted 0, unchanged 0, conflicts 0, skipped 1, invalid 0',
      'dry run: nothing written',
      '',
    ]);
    expect((await store.read(path)).version).toBe(-1);

    const real = await reconcileCli(path);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('written: document version 0, ');
    const doc = parseDocument((await store.read(path)).data ?? '');
    expect(doc.entries.map((e) => e.name)).toEqual(['api.shop', 'cart.shop']);

    const again = await reconcileCli(path);
    expect(again.stdout).toContain('created 0, updated 0, deleted 0, unchanged 2');
    expect(again.stdout).toContain('no change to the document: nothing written');
  });

  test('--json prints the report and the changes', async () => {
    const path = newPath();
    const r = await reconcileCli(path, '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.report).toMatchObject({ created: 2, skipped: 1, documentWritten: true, dryRun: false });
    expect(json.created.map((c: { service: string }) => c.service)).toEqual(['shop/api', 'shop/cart']);
    expect(json.skipped[0].key).toBe('shop/internal');
  });

  test('the deletion guard: exit status 3, the would-be deletions shown, nothing written; --force deletes', async () => {
    const path = newPath();
    expect((await reconcileCli(path)).code).toBe(0);
    const before = await store.read(path);
    sim.deleteService('shop', 'cart');
    sim.deleteService('shop', 'api');
    try {
      const refused = await reconcileCli(path);
      expect(refused.code).toBe(3);
      expect(refused.stdout).toContain('- api.shop  203.0.113.10:443  (shop/api)');
      expect(refused.stderr).toMatch(
        /^kube-zk-sync: refusing to delete 2 of this cluster's entries \(100%, more than the 50% allowed\)/,
      );
      expect((await store.read(path)).version).toBe(before.version);
      const forced = await reconcileCli(path, '--force');
      expect(forced.code).toBe(0);
      expect(forced.stdout).toContain('deleted 2');
      expect(parseDocument((await store.read(path)).data ?? '').entries).toEqual([]);
    } finally {
      for (const service of PUBLISHED) sim.createService(service);
    }
  });

  test('one-line errors: missing cluster id, a bad setting, an unreadable kubeconfig, a failing apiserver', async () => {
    const path = newPath();
    const noId = await runCli(['reconcile', '--kubeconfig', kubeconfig], {
      ZK_CONNECT: zk,
      REGISTRY_PATH: path,
    });
    expect(noId).toMatchObject({ code: 2 });
    expect(noId.stderr).toBe('kube-zk-sync: no cluster id given: pass --cluster-id ID or set CLUSTER_ID\n');

    const badPolicy = await runCli(['reconcile', '--kubeconfig', kubeconfig, '--cluster-id', 'c'], {
      ZK_CONNECT: zk,
      REGISTRY_PATH: path,
      POLICY: 'mirror',
    });
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toContain('POLICY="mirror": use one of sync, upsert-only, create-only');

    const noFile = await reconcileCli(path, '--kubeconfig', join(dir, 'missing'));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/^kube-zk-sync: cannot load the kubeconfig .*missing/);

    sim.faults.failNext(1, { on: 'list', status: 500 });
    const failing = await reconcileCli(path);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(
      /^kube-zk-sync: listing Services from http:\/\/127\.0\.0\.1:\d+ failed on page 1 \(HTTP 500: .+\); nothing was changed\n$/,
    );
    expect((await store.read(path)).version).toBe(-1);
  });
});
