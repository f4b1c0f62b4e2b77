// Following one znode through everything a ZooKeeper connection goes through. ZooKeeper's watches fire once, are
// lost with their session, and say nothing while a connection is silent: this loop re-arms them, re-reads after
// every reconnect and on every new session, and probes a quiet connection, so no version goes unreported.

import type { ZkSession } from './session.ts';
import { backoff, type Read, readOn, type ZkStore } from './store.ts';

/**
 * Calls `onData` with every new version of `path` (null data and version -1 while it does not exist) until the
 * returned function is called or the store is closed. `onError` hears of each failed attempt; the watch retries.
 */
export function watchZnode(
  store: ZkStore,
  path: string,
  onData: (read: Read) => void,
  onError: (error: Error) => void = () => {},
): () => void {
  let stopped = false;
  // Set by a notification or a reconnect; cleared by the read that it asks for.
  let changed = false;
  let wake: () => void = () => {};
  // One function for every watch armed: node-zookeeper-client keeps a function once per path, so watches armed
  // again and again on one session do not pile up.
  const onChange = () => {
    changed = true;
    wake();
  };
  // Resolves true after `ms`, or false as soon as `wake` is called or the session is lost; leaves nothing behind.
  const nap = (session: ZkSession, ms: number) =>
    new Promise<boolean>((resolve) => {
      let offLost = () => {};
      const done = (slept: boolean) => {
        clearTimeout(timer);
        offLost();
        wake = () => {};
        resolve(slept);
      };
      wake = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      offLost = session.onLost(() => done(false));
    });
  const run = async () => {
    let lastVersion: number | undefined;
    let listening: ZkSession | undefined;
    for (let attempt = 0; !stopped; ) {
      try {
        const session = await store.connected();
        if (session !== listening) {
          listening = session;
          session.client.on('connected', onChange);
        }
        changed = false;
        const read = await readOn(session, path, onChange);
        if (read.version < 0) await session.exists(path, onChange);
        if (read.version !== lastVersion && !stopped) {
          lastVersion = read.version;
          onData(read);
        }
        attempt = 0;
        // Until a notification, a reconnect or the session's end. A connection can also go silent with nothing
        // noticing it, so every session timeout one read without a watch proves it alive (its deadline would
        // give the session up) and catches a version that no notification announced.
        const probeMs = session.client.getSessionTimeout();
        while (!changed && !stopped && !session.dead) {
          if ((await nap(session, probeMs)) && (await readOn(session, path)).version !== lastVersion) break;
        }
      } catch (error) {
        if (stopped || store.closed) break;
        onError(error as Error);
        await backoff(++attempt + 4);
      }
    }
  };
  void run();
  return () => {
    stopped = true;
    wake();
  };
}
