import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import { DocumentError, parseDocument, readerView } from '../../lib/registry/document.ts';
import { ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { ZkSession, ZkUnavailableError } from '../../lib/zk/session.ts';
import { DataTooLargeError, ZkStore } from '../../lib/zk/store.ts';
import { eventually } from '../support/cli.ts';
import { expireSessionBehind } from '../support/session-expiry.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const uniquePath = () => `/test/${randomUUID()}/registry`;
const appendItem =
  (item: string) =>
  ([data]: ReadonlyArray<Buffer | null>) => {
    const items: string[] = data && data.length > 0 ? JSON.parse(data.toString()) : [];
    return { data: [Buffer.from(JSON.stringify([...items, item]))], result: undefined };
  };
const itemsAt = async (store: ZkStore, path: string): Promise<string[]> =>
  JSON.parse((await store.read(path)).data?.toString() ?? '[]');

describe('ZkStore against the shared server', () => {
  const connectString = inject('zkConnect');
  const stores: ZkStore[] = [];
  const open = (extra = {}) => {
    const store = new ZkStore({ openAcl: true, connectString, ...extra });
    stores.push(store);
    return store;
  };
  afterAll(() => {
    for (const s of stores) s.close();
  });

  test('8 writers × 50 updates in parallel: all 400 land, none lost', async () => {
    const path = uniquePath();
    const writers = Array.from({ length: 8 }, () => open());
    let retried = 0;
    await Promise.all(
      writers.map(async (store, w) => {
        for (let i = 0; i < 50; i++) {
          const outcome = await store.update([path], appendItem(`${w}-${i}`));
          expect(outcome.written).toBe(true);
          retried += outcome.attempts - 1;
        }
      }),
    );
    const items = await itemsAt(writers[0] as ZkStore, path);
    expect(items).toHaveLength(400);
    expect(new Set(items).size).toBe(400);
    // Each writer's own updates stay in its order.
    for (let w = 0; w < 8; w++) {
      const mine = items.filter((x) => x.startsWith(`${w}-`));
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => `${w}-${i}`));
    }
    expect(retried).toBeGreaterThan(0);
  });

  test('a session closed twice ends closed, its client not left half-closed', async () => {
    const session = await ZkSession.open({ connectString });
    const manager = () => Reflect.get(session.client, 'connectionManager') as { state: number };
    session.close();
    await eventually('the client to close', () => manager().state === -2, 5000);
    session.close();
    expect(manager().state).toBe(-2);
    expect(session.dead).toBe('the ZooKeeper session was closed');
  });

  test('a change that writes the same bytes writes nothing', async () => {
    const store = open();
    const path = uniquePath();
    await store.update([path], () => ({ data: [Buffer.from('x')], result: 0 }));
    const before = await store.read(path);
    const outcome = await store.update([path], () => ({ data: [Buffer.from('x')], result: 0 }));
    expect(outcome.written).toBe(false);
    expect((await store.read(path)).version).toBe(before.version);
  });

  test('a hand-made document with unknown fields and odd formatting survives a cluster update byte-identical per entry', async () => {
    const store = open();
    const registry = new ZkRegistryStore(store, uniquePath());
    const kafka =
      '{ "name":"kafka", "description": "Kafka \\u00e9",\n   "endpoints": [ "k1:9092","k2:9092" ], "owner_team": {"name":"data", "pager": 42}, "x": null }';
    const solr = '{"endpoints":["solr:8983"],"name":"solr","description":"","tags":["a","b"]}';
    const original = `[${kafka},\n\n\t${solr}   ]`;
    await store.update([registry.path], () => ({ data: [Buffer.from(original)], result: 0 }));
    const outcome = await registry.applyObservations(
      'prod',
      [{ key: 'default/web', resourceVersion: '7', value: { name: 'web.default', port: 80 } }],
      {
        policy: 'sync',
        toEntry: (s: { name: string; port: number }) => ({
          kind: 'entry',
          entry: { name: s.name, description: 'web', endpoints: [`lb.example.com:${s.port}`] },
        }),
      },
    );
    expect(outcome.written).toBe(true);
    expect(outcome.plan.creates).toHaveLength(1);
    const text = (await store.read(registry.path)).data?.toString() ?? '';
    expect(text).toContain(kafka);
    expect(text).toContain(solr);
    const entries = parseDocument(text).entries;
    expect(entries.map((e) => e.name)).toEqual(['kafka', 'solr', 'web.default']);
    expect(entries.map((e) => e.text)).toEqual([kafka, solr, expect.any(String)]);
  });

  test.each([
    ['a corrupt document', '[{"name": "kafka", '],
    ['a document that is not an array', '{"services": []}'],
  ])('%s is refused and the znode is unchanged', async (_, content) => {
    const store = open();
    const registry = new ZkRegistryStore(store, uniquePath());
    await store.update([registry.path], () => ({ data: [Buffer.from(content)], result: 0 }));
    const before = await store.read(registry.path);
    await expect(
      registry.applyObservations('prod', [{ key: 'ns/a', resourceVersion: '1', value: 1 }], {
        policy: 'sync',
        toEntry: () => ({ kind: 'entry', entry: { name: 'a', description: '', endpoints: ['a:1'] } }),
      }),
    ).rejects.toThrow(DocumentError);
    await expect(registry.modify((doc) => ({ document: doc, result: 0 }))).rejects.toThrow(DocumentError);
    const after = await store.read(registry.path);
    expect(after.version).toBe(before.version);
    expect(after.data?.toString()).toBe(content);
  });

  test('an oversize result is refused whole and the znode is unchanged', async () => {
    const store = open({ maxDataBytes: 4096 });
    const registry = new ZkRegistryStore(store, uniquePath());
    const small = Array.from({ length: 5 }, (_, i) => ({ key: `ns/s${i}`, resourceVersion: '1', value: i }));
    const toEntry = (i: number) => ({
      kind: 'entry' as const,
      entry: { name: `svc-${i}`, description: 'x'.repeat(200), endpoints: [`host-${i}.example.com:443`] },
    });
    await registry.applyObservations('prod', small, { policy: 'sync', toEntry });
    const before = await store.read(registry.path);
    const many = Array.from({ length: 40 }, (_, i) => ({
      key: `ns/m${i}`,
      resourceVersion: '2',
      value: 100 + i,
    }));
    await expect(registry.applyObservations('prod', many, { policy: 'sync', toEntry })).rejects.toThrow(
      DataTooLargeError,
    );
    await expect(registry.applyObservations('prod', many, { policy: 'sync', toEntry })).rejects.toThrow(
      /exceed the limit of 4096 bytes/,
    );
    const after = await store.read(registry.path);
    expect(after.version).toBe(before.version);
    expect(parseDocument(after.data ?? '').entries.map(readerView)).toHaveLength(5);
  });

  test('the limit holds for a whole transaction: two znodes that fit alone but not together are refused', async () => {
    const store = open();
    const [a, b] = [uniquePath(), uniquePath()];
    const big = Buffer.alloc(600_000, 'x');
    await expect(store.update([a, b], () => ({ data: [big, big], result: 0 }))).rejects.toThrow(
      /bytes in one request would exceed the limit of 1000000 bytes/,
    );
    expect((await store.read(a)).version).toBe(-1);
    expect((await store.read(b)).version).toBe(-1);
  });

  test('a session expired while idle (a warm Lambda after a long pause): the next call works', async () => {
    const serverPort = Number(connectString.split(',')[0]?.split(':')[1]);
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: serverPort });
    const store = new ZkStore({ openAcl: true, connectString: proxy.address, sessionTimeoutMs: 2000 });
    try {
      const path = uniquePath();
      await store.update([path], appendItem('before'));
      const session = await store.connected();
      await expireSessionBehind(proxy, serverPort, session.client.getSessionId());
      await store.update([path], appendItem('after'));
      expect(await itemsAt(store, path)).toEqual(['before', 'after']);
      expect(session.dead).toBe('the ZooKeeper session expired');
      expect(await store.connected()).not.toBe(session);
    } finally {
      store.close();
      await proxy.stop();
    }
  });
});

describe('ZkStore sessions', () => {
  const connectString = inject('zkConnect');

  test('callers that find the session dead at once share one new session', async () => {
    const store = new ZkStore({ openAcl: true, connectString });
    try {
      const first = await store.connected();
      first.close();
      const next = await Promise.all([store.connected(), store.connected(), store.connected()]);
      expect(new Set(next).size).toBe(1);
      expect(next[0]).not.toBe(first);
    } finally {
      store.close();
    }
  });
});

describe('ZkStore when the connection drops during a write', () => {
  test('the outcome is decided by re-reading: the update lands exactly once', async () => {
    const serverPort = Number(inject('zkConnect').split(',')[0]?.split(':')[1]);
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: serverPort });
    const store = new ZkStore({ openAcl: true, connectString: proxy.address });
    try {
      const path = uniquePath();
      await store.update([path], appendItem('first'));
      let armed = false;
      const outcome = await store.update([path], (current) => {
        if (!armed) proxy.cutAfterNextRequest();
        armed = true;
        return appendItem('second')(current);
      });
      expect(outcome.written).toBe(true);
      expect(proxy.cuts).toBe(1);
      expect(await itemsAt(store, path)).toEqual(['first', 'second']);
    } finally {
      store.close();
      await proxy.stop();
    }
  });
});

describe('ZkStore when ZooKeeper goes away', () => {
  let cluster: ZooKeeperCluster;
  beforeAll(async () => {
    cluster = await ZooKeeperCluster.start();
  });
  afterAll(() => cluster.destroy());

  test('stopped: a clear error within the timeout; restarted: the next call works', async () => {
    const store = new ZkStore({
      openAcl: true,
      connectString: cluster.connectString,
      connectTimeoutMs: 1500,
      operationTimeoutMs: 1500,
    });
    const path = uniquePath();
    await store.update([path], appendItem('one'));
    await cluster.stop();
    const started = Date.now();
    await expect(store.update([path], appendItem('two'))).rejects.toThrow(ZkUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(store.read(path)).rejects.toThrow(
      /could not connect to ZooKeeper at 127\.0\.0\.1:\d+ within 1500 ms/,
    );
    await cluster.start();
    await store.update([path], appendItem('three'));
    expect(await itemsAt(store, path)).toEqual(['one', 'three']);
    store.close();
  });
});

describe('ZkStore on a three-node ensemble', () => {
  let cluster: ZooKeeperCluster;
  beforeAll(async () => {
    cluster = await ZooKeeperCluster.start({ nodes: 3 });
  });
  afterAll(() => cluster.destroy());

  test('leader killed during a stream of updates: every acknowledged update is in the final document', async () => {
    const store = new ZkStore({
      openAcl: true,
      connectString: cluster.connectString,
      sessionTimeoutMs: 6000,
      operationTimeoutMs: 4000,
      connectTimeoutMs: 8000,
    });
    const path = uniquePath();
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let killed: number | undefined;
    for (let i = 0; i < 120; i++) {
      if (i === 40) {
        killed = await cluster.leader();
        expect(killed).toBeDefined();
        await cluster.stopNode(killed as number, true);
      }
      try {
        await store.update([path], appendItem(`u${i}`));
        acknowledged.push(`u${i}`);
      } catch {
        failed.push(`u${i}`);
      }
    }
    await cluster.waitServing();
    const leader = await cluster.leader();
    expect(leader).toBeDefined();
    expect(leader).not.toBe(killed);
    const final = await itemsAt(store, path);
    for (const item of acknowledged) expect(final).toContain(item);
    expect(new Set(final).size).toBe(final.length);
    expect(acknowledged.length).toBeGreaterThan(100);
    store.close();
  });
});
