// `kube-zk-sync status` in a child process, as a Service's owner runs it, against the simulator and the real
// ZooKeeper: one line per Service with where it stands, read only.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { ApiServerSimulator } from '../../lib/local/apiserver/index.ts';
import { handEntry } from '../../lib/registry/document.ts';
import { withContributors } from '../../lib/registry/outcome.ts';
import { sharedEntry } from '../../lib/registry/shared.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { runCli } from '../support/cli.ts';
import { registerTakenName, takenNameService, typoService } from '../support/outcome-services.ts';

const zk = inject('zkConnect');
const store = new ZkStore({ openAcl: true, connectString: zk });
const sim = new ApiServerSimulator();
let dir: string;
let kubeconfig: string;
const path = `/status/${randomUUID()}/services`;
const env = { ZK_CONNECT: zk, REGISTRY_PATH: path, ZK_OPEN_ACL: 'true' };
const cli = (command: string, ...args: string[]) =>
  runCli([command, '--kubeconfig', kubeconfig, '--cluster-id', 'shop-cluster', ...args], env);

const lb = { type: 'LoadBalancer' as const, ports: [{ name: 'http', port: 80 }] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-status-'));
  kubeconfig = join(dir, 'kubeconfig');
  await sim.start();
  await sim.writeKubeconfig(kubeconfig);
  sim.createService({ namespace: 'shop', name: 'cart', ...lb, ingress: [{ ip: '203.0.113.10' }] });
  sim.createService({ namespace: 'shop', name: 'pending', ...lb });
  sim.createService(typoService('shop'));
  sim.createService(takenNameService('shop'));
  sim.createService({ namespace: 'shop', name: 'internal', type: 'ClusterIP', ports: [{ port: 80 }] });
  sim.createService({ namespace: 'other', name: 'web', ...lb, ingress: [{ ip: '203.0.113.13' }] });
  // A person registered db.shop by hand: the Service that asks for it is in conflict.
  await registerTakenName(zk, path, 'shop');
  expect((await cli('reconcile')).code).toBe(0);
});
afterAll(async () => {
  store.close();
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('kube-zk-sync status', () => {
  test('one line per Service, as the reconcile decides it now, and nothing written', async () => {
    const before = await Promise.all([store.read(path), store.read(syncStatePath(path, 'shop-cluster'))]);
    sim.updateService('other', 'web', (s) => {
      s.status = { loadBalancer: { ingress: [{ ip: '203.0.113.99' }] } };
    });
    const r = await cli('status');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'other/web      published "web.other" 203.0.113.99:80 (the document holds an older version: the next sync or reconcile updates it)',
      'shop/cart      published "cart.shop" 203.0.113.10:80 (the document agrees)',
      'shop/db        conflict: "db.shop" is held by a hand-made entry',
      'shop/internal  skipped (filtered): its type ClusterIP is not in SERVICE_TYPES (LoadBalancer)',
      'shop/pending   skipped (no load balancer address yet): its load balancer has no ingress address yet',
      'shop/typo      invalid: annotation kube-zk-sync.io/register is "yes please"; use "true" or "false"',
      '',
    ]);
    const after = await Promise.all([store.read(path), store.read(syncStatePath(path, 'shop-cluster'))]);
    expect(after.map((a) => a.version)).toEqual(before.map((b) => b.version));
  });

  test('-n and a Service name narrow it; --json gives the rows', async () => {
    const one = await cli('status', '-n', 'shop', 'pending');
    expect(one.stdout).toBe(
      'shop/pending  skipped (no load balancer address yet): its load balancer has no ingress address yet\n',
    );
    const json = JSON.parse((await cli('status', '-n', 'shop', '--json')).stdout);
    expect(json.map((r: { service: string; outcome: string }) => `${r.service} ${r.outcome}`)).toEqual([
      'shop/cart published',
      'shop/db conflict',
      'shop/internal skipped',
      'shop/pending skipped',
      'shop/typo invalid',
    ]);
    expect(json[0].document).toBe('agrees');
    const missing = await cli('status', '-n', 'shop', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('kube-zk-sync: there is no Service shop/nope in the cluster\n');
  });
});

describe('status of a shared entry', () => {
  test('a published share names every contributor; other rows are as they were', () => {
    const shared = sharedEntry('web.shop', {
      contributions: [
        { cluster: 'east', service: 'shop/web', description: 'web', endpoints: ['10.0.0.1:80'] },
        { cluster: 'west', service: 'shop/web', description: 'web', endpoints: ['10.1.0.1:80'] },
      ],
    });
    const rows = [
      {
        service: 'shop/web',
        outcome: 'published' as const,
        status: 'published "web.shop"',
        entry: 'web.shop',
      },
      {
        service: 'shop/api',
        outcome: 'published' as const,
        status: 'published "api.shop"',
        entry: 'api.shop',
      },
      { service: 'shop/db', outcome: 'conflict' as const, status: 'conflict: …' },
    ];
    const document = { entries: [shared, handEntry({ name: 'api.shop', description: '', endpoints: [] })] };
    expect(withContributors(rows, document).map((r) => r.status)).toEqual([
      'published "web.shop", shared by east:shop/web,west:shop/web',
      'published "api.shop"',
      'conflict: …',
    ]);
  });
});
