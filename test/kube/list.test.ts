// The paged list of every Service with the real @kubernetes/client-node against the apiserver simulator.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { serviceListApiFor } from '../../lib/kube/connect.ts';
import {
  KubeListError,
  listAllServices,
  readClusterIdentity,
  type ServiceListApi,
} from '../../lib/kube/list.ts';
import { ApiServerSimulator, generateServices } from '../../lib/local/apiserver/index.ts';

describe('listAllServices against the simulator', () => {
  const sim = new ApiServerSimulator();
  let api: CoreV1Api;
  beforeAll(async () => {
    for (const input of generateServices(400, { seed: 3 })) sim.createService(input);
    await sim.start();
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig());
    api = kc.makeApiClient(CoreV1Api);
  });
  afterAll(() => sim.stop());

  /** The real client, with `afterPage(n)` run once page n has arrived (to change the cluster mid-list). */
  const withHook = (afterPage: (page: number) => void): ServiceListApi => {
    let page = 0;
    return {
      listServiceForAllNamespaces: async (param) => {
        const result = await api.listServiceForAllNamespaces(param);
        afterPage(++page);
        return result;
      },
    };
  };
  const keys = (items: readonly unknown[]) =>
    items.map((s) => {
      const m = (s as { metadata: { namespace: string; name: string } }).metadata;
      return `${m.namespace}/${m.name}`;
    });
  const simKeys = () => sim.listServices().map((s) => `${s.metadata.namespace}/${s.metadata.name}`);

  test('every Service, page by page, at one resourceVersion', async () => {
    const list = await listAllServices(api, { pageSize: 150 });
    expect(list.pages).toBe(Math.ceil(sim.listServices().length / 150));
    expect(list.restarts).toBe(0);
    expect(list.resourceVersion).toBe(sim.resourceVersion);
    expect(keys(list.items)).toEqual(simKeys());
  });

  test('the pages are one snapshot: a Service created during the list is not in it', async () => {
    const before = sim.resourceVersion;
    const list = await listAllServices(
      withHook((page) => {
        if (page === 1)
          sim.createService({ namespace: 'zz-late', name: 'created-mid-list', type: 'LoadBalancer' });
      }),
      { pageSize: 100 },
    );
    expect(list.resourceVersion).toBe(before);
    expect(keys(list.items)).not.toContain('zz-late/created-mid-list');
    expect(list.items).toHaveLength(sim.listServices().length - 1);
  });

  test('an expired continue token (410) starts the list again from the first page', async () => {
    const list = await listAllServices(
      withHook((page) => {
        if (page !== 1) return;
        sim.createService({ namespace: 'zz-late', name: 'created-before-compaction', type: 'ClusterIP' });
        sim.compact();
      }),
      { pageSize: 100 },
    );
    expect(list.restarts).toBe(1);
    expect(list.resourceVersion).toBe(sim.resourceVersion);
    expect(keys(list.items)).toEqual(simKeys());
  });

  test('a list that keeps expiring gives up with a clear error', async () => {
    let n = 0;
    const error = await listAllServices(
      withHook(() => {
        sim.createService({ namespace: 'zz-churn', name: `c-${n++}`, type: 'ClusterIP' });
        sim.compact();
      }),
      { pageSize: 100, maxRestarts: 2 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeListError);
    expect((error as KubeListError).status).toBe(410);
    expect((error as Error).message).toContain('expired 3 times');
  });

  test('a 5xx on a later page fails the whole list, naming the page and the status', async () => {
    const error = await listAllServices(
      withHook((page) => {
        if (page === 1) sim.faults.failNext(1, { on: 'list', status: 503 });
      }),
      { pageSize: 100 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeListError);
    expect((error as KubeListError).status).toBe(503);
    expect((error as Error).message).toMatch(
      /^listing Services failed on page 2 \(HTTP 503: .+\); nothing was changed$/,
    );
  });

  test('a stalled apiserver fails the page at its deadline instead of hanging the list', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig());
    sim.faults.setLatency(10_000);
    try {
      const started = Date.now();
      await expect(listAllServices(serviceListApiFor(kc, 300), { pageSize: 150 })).rejects.toThrow(
        /listing Services failed on page 1 .*nothing was changed/,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      sim.faults.setLatency(0);
    }
  });

  test('no answer at all: the error names the server and the reason', async () => {
    const closed = new KubeConfig();
    closed.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    // Port 9 (discard) is on fetch's list of bad ports: refused before any connection, on every machine.
    const error = await listAllServices(closed.makeApiClient(CoreV1Api), {
      server: 'http://127.0.0.1:9',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeListError);
    expect((error as KubeListError).status).toBeUndefined();
    expect((error as Error).message).toBe(
      'listing Services from http://127.0.0.1:9 failed on page 1 (fetch failed: bad port); nothing was changed',
    );
  });
});

describe("the cluster's identity", () => {
  const sim = new ApiServerSimulator({ clusterUid: 'c0ffee00-0000-4000-8000-000000000001' });
  let api: ServiceListApi;
  beforeAll(async () => {
    await sim.start();
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig());
    api = serviceListApiFor(kc);
  });
  afterAll(() => sim.stop());

  test("is the kube-system namespace's uid", async () => {
    expect(await readClusterIdentity(api)).toEqual({ uid: sim.clusterUid });
    expect(sim.stats().recent.at(-1)?.url).toBe('/api/v1/namespaces/kube-system');
  });

  test('is unknown, and says why, without the permission to read that namespace (403)', async () => {
    sim.faults.forbidNamespaces();
    try {
      expect(await readClusterIdentity(api)).toEqual({
        unknown: expect.stringMatching(
          /^reading namespace kube-system: HTTP 403: namespaces "kube-system" is forbidden/,
        ),
      });
    } finally {
      sim.faults.clear();
    }
  });

  test('any other failure throws, as a failed list page does: it is not an unknown identity', async () => {
    sim.faults.failNext(1, { on: 'get', status: 503 });
    const error = await readClusterIdentity(api, { server: sim.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeListError);
    expect((error as KubeListError).status).toBe(503);
    expect((error as Error).message).toMatch(
      /^reading namespace kube-system from http:\/\/127\.0\.0\.1:\d+ failed \(HTTP 503: .+\); nothing was changed$/,
    );
    expect(await readClusterIdentity(api)).toEqual({ uid: sim.clusterUid });
  });

  test('a client that cannot read namespaces has none', async () => {
    const listOnly: ServiceListApi = { listServiceForAllNamespaces: api.listServiceForAllNamespaces };
    expect(await readClusterIdentity(listOnly)).toEqual({ unknown: 'this client does not read namespaces' });
  });
});
