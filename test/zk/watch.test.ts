import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { watchZnode } from '../../lib/zk/watch.ts';
import { eventually } from '../support/cli.ts';
import { expireSessionBehind } from '../support/session-expiry.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const uniquePath = () => `/test/${randomUUID()}/watched`;
/** A change that writes `text`: each write a new version. */
const writeOf = (text: string) => () => ({ data: [Buffer.from(text)], result: undefined });

describe('watchZnode on the shared server', () => {
  const connectString = inject('zkConnect');

  test('a watch moves to a new session when another call kills the one it used', async () => {
    const store = new ZkStore({ openAcl: true, connectString });
    const writer = new ZkStore({ openAcl: true, connectString });
    const path = uniquePath();
    const seen: number[] = [];
    const stop = watchZnode(store, path, (read) => seen.push(read.version));
    try {
      await eventually('the first read', () => seen.length > 0);
      // As a request that timed out does: the session is closed under the watch.
      (await store.connected()).close();
      await writer.update([path], writeOf('x'));
      await eventually('version 0', () => seen.includes(0));
      expect(seen).toEqual([-1, 0]);
    } finally {
      stop();
      store.close();
      writer.close();
    }
  });
});

interface Watched {
  readonly proxy: TcpProxy;
  readonly serverPort: number;
  readonly store: ZkStore;
  /** Every version the watch reported, in order. */
  readonly seen: readonly number[];
  write(item: string): Promise<unknown>;
  /** Waits until the watch has reported `version`. */
  until(version: number): Promise<void>;
}

describe('watchZnode through faults', () => {
  let cluster: ZooKeeperCluster;
  beforeAll(async () => {
    cluster = await ZooKeeperCluster.start();
  });
  afterAll(() => cluster.destroy());

  /**
   * Runs `body` with a store watching a fresh path through a proxy, once the watch has seen the path missing and
   * then its version 0 written by a writer on a direct connection; everything is closed afterwards.
   */
  async function withWatch(
    body: (w: Watched) => Promise<void>,
    options: { operationTimeoutMs?: number } = {},
  ): Promise<void> {
    const serverPort = Number(cluster.connectString.split(':')[1]);
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: serverPort });
    const store = new ZkStore({
      openAcl: true,
      connectString: proxy.address,
      sessionTimeoutMs: 2000,
      connectTimeoutMs: 2000,
      operationTimeoutMs: options.operationTimeoutMs ?? 2000,
    });
    const writer = new ZkStore({
      openAcl: true,
      connectString: cluster.connectString,
      connectTimeoutMs: 5000,
      operationTimeoutMs: 5000,
    });
    const path = uniquePath();
    const seen: number[] = [];
    const errors: string[] = [];
    const stop = watchZnode(
      store,
      path,
      (read) => seen.push(read.version),
      (error) => errors.push(error.message),
    );
    const w: Watched = {
      proxy,
      serverPort,
      store,
      seen,
      write: (item) => writer.update([path], writeOf(item)),
      until: (version) =>
        eventually(`version ${version}`, () => seen.includes(version), 30_000).catch((error: Error) => {
          throw new Error(`${error.message}; seen ${seen.join(',')}; errors: ${errors.join('; ') || 'none'}`);
        }),
    };
    try {
      await w.until(-1);
      await w.write('a');
      await w.until(0);
      await body(w);
    } finally {
      stop();
      store.close();
      writer.close();
      await proxy.stop();
    }
  }

  test('sees every new version through a server restart and an expired session', () =>
    withWatch(async (w) => {
      await cluster.stop();
      await cluster.start();
      await w.write('b');
      await w.until(1);
      const session = await w.store.connected();
      await expireSessionBehind(w.proxy, w.serverPort, session.client.getSessionId());
      await w.write('c');
      await w.until(2);
      expect(w.seen).toEqual([-1, 0, 1, 2]);
    }));

  test('a reconnect whose handshake is never answered: the session is given up after its timeout', () =>
    withWatch(
      async (w) => {
        const lost = await w.store.connected();
        // The connection drops; every new one is accepted and then never answered.
        w.proxy.silenceNew(true);
        w.proxy.dropAll();
        await w.write('b');
        // The client would wait for that answer for ever; the session gives up once it has been disconnected
        // for its timeout, as the server expires it by then (long before the watch's read would time out).
        await eventually('the session to be given up', () => lost.dead !== undefined, 10_000);
        expect(lost.dead).toMatch(/no connection to ZooKeeper for \d+ ms/);
        w.proxy.silenceNew(false);
        await w.until(1);
        expect(w.seen).toEqual([-1, 0, 1]);
      },
      { operationTimeoutMs: 15_000 },
    ));

  test('a connection gone silent while connected: the watch finds out and sees the change it missed', () =>
    withWatch(async (w) => {
      const silent = await w.store.connected();
      // No close, no answer: the client still believes it is connected, and no notification can come.
      w.proxy.silenceCurrent();
      await w.write('b');
      await w.until(1);
      expect(silent.dead).toBeDefined();
      expect(w.seen).toEqual([-1, 0, 1]);
      // The silent connection is closed, not left open until TCP gives up on it.
      await eventually(
        'the silent connection to be closed',
        () => String(silent.client.getState()) === 'DISCONNECTED[0]',
        5000,
      );
    }));

  test('a store closed while its connection is silent closes that connection too', () =>
    withWatch(async (w) => {
      const session = await w.store.connected();
      w.proxy.silenceCurrent();
      // The goodbye is never answered; the connection is dropped after the request deadline instead of staying
      // open (and keeping the process alive) until TCP gives up on it.
      w.store.close();
      await eventually(
        'the connection to be closed',
        () => String(session.client.getState()) === 'DISCONNECTED[0]',
        10_000,
      );
    }));
});
