// The znodes kube-zk-sync creates, as ZooKeeper enforces their ACLs: nothing world-writable unless asked for, the
// document readable by everyone, the sync state by its writers only; what others see is checked with a client of
// their own.
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { OpenAclRefusedError } from '../../lib/zk/acl.ts';
import { SyncStateAccessError, syncStatePath, ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import type { DigestCredentials } from '../../lib/zk/session.ts';
import { ZkStore, type ZkStoreOptions } from '../../lib/zk/store.ts';
import { ALL, Outsider, READ } from '../support/zk-outsider.ts';

const connectString = inject('zkConnect');
const sync: DigestCredentials = { user: 'kube-zk-sync', password: 's3cret' };
const ops: DigestCredentials = { user: 'ops', password: 'pw' };

const opened: Array<{ close(): void }> = [];
afterAll(() => {
  for (const o of opened) o.close();
});
const registryAt = (options: Omit<ZkStoreOptions, 'connectString'>, path = newPath()) => {
  const registry = new ZkRegistryStore(new ZkStore({ connectString, ...options }), path);
  opened.push(registry);
  return registry;
};
const outsider = async (digest?: string) => {
  const client = await Outsider.connect(connectString, digest);
  opened.push(client);
  return client;
};
/** A fresh parent, so that "nothing was created" covers the parents too. */
const newPath = () => `/acl/${randomUUID()}/services`;

const CLUSTER = 'prod';
const web = [{ key: 'default/web', resourceVersion: '7', value: 'web.default' }];
const step = {
  policy: 'sync' as const,
  toEntry: (name: string) => ({
    kind: 'entry' as const,
    entry: { name, description: 'web', endpoints: ['lb.example.com:80'] },
  }),
};

describe('without a writer identity', () => {
  test('the document is not created, nor its parents, and the error says why and the two ways out', async () => {
    const registry = registryAt({});
    const error = await registry
      .modify((doc) => ({ document: doc, result: 0 }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(OpenAclRefusedError);
    const message = (error as Error).message;
    expect(message).toContain(`refusing to create ${registry.path} writable by anyone`);
    expect(message).toContain('no writer identity is given');
    expect(message).toContain('--auth');
    expect(message).toContain('ZK_AUTH_SSM_PARAMETER');
    expect(message).toContain('--insecure-open-acl');
    expect(message).toContain('ZK_OPEN_ACL=true');
    expect(message).toContain('nothing was written');
    const other = await outsider();
    expect(await other.exists(posix.dirname(registry.path))).toBe(false);
  });

  test('a sync creates no state beside an existing document, and writes nothing', async () => {
    const path = newPath();
    const other = await outsider();
    await other.create(path, '[]');
    const registry = registryAt({}, path);
    await expect(registry.applyObservations(CLUSTER, web, step)).rejects.toThrow(
      `refusing to create ${syncStatePath(path, CLUSTER)} writable by anyone`,
    );
    expect(await other.read(path)).toEqual({ ok: '[]' });
    expect(await other.exists(syncStatePath(path, CLUSTER))).toBe(false);
  });

  test('existing znodes are written as they are, their ACL untouched', async () => {
    const path = newPath();
    const other = await outsider();
    await other.create(path, '[]');
    await other.create(syncStatePath(path, CLUSTER), '');
    // An empty state beside a document without the cluster's entries: a state to start, not a corrupt one.
    const registry = registryAt({}, path);
    const applied = await registry.applyObservations(CLUSTER, web, step);
    expect(applied.written).toBe(true);
    const open = { ok: [{ scheme: 'world', id: 'anyone', perms: ALL }] };
    expect(await other.acl(path)).toEqual(open);
    expect(await other.acl(syncStatePath(path, CLUSTER))).toEqual(open);
  });

  test('with an open ACL asked for, everything it creates is open to everyone', async () => {
    const registry = registryAt({ openAcl: true });
    await registry.applyObservations(CLUSTER, web, step);
    const other = await outsider();
    const open = { ok: [{ scheme: 'world', id: 'anyone', perms: ALL }] };
    for (const path of [posix.dirname(registry.path), registry.path, syncStatePath(registry.path, CLUSTER)]) {
      expect(await other.acl(path)).toEqual(open);
    }
  });
});

describe('with a writer identity', () => {
  test('everyone reads the document and its parent; only the writers read the sync state', async () => {
    const registry = registryAt({ auth: sync, openAcl: true });
    await registry.applyObservations(CLUSTER, web, step);
    const statePath = syncStatePath(registry.path, CLUSTER);
    const owner = await outsider(`${sync.user}:${sync.password}`);
    const writers = [{ scheme: 'digest', id: 'kube-zk-sync', perms: ALL }];
    const everyone = { scheme: 'world', id: 'anyone', perms: READ };
    expect(await owner.acl(registry.path)).toEqual({ ok: [everyone, ...writers] });
    expect(await owner.acl(posix.dirname(registry.path))).toEqual({ ok: [everyone, ...writers] });
    expect(await owner.acl(statePath)).toEqual({ ok: writers });

    const anonymous = await outsider();
    const read = await anonymous.read(registry.path);
    expect('ok' in read && JSON.parse(read.ok)).toEqual([
      expect.objectContaining({ name: 'web.default', endpoints: ['lb.example.com:80'] }),
    ]);
    expect(await anonymous.read(statePath)).toEqual({ refused: 'NO_AUTH' });
    expect(await anonymous.write(registry.path, '[]')).toEqual({ refused: 'NO_AUTH' });
    expect(await anonymous.write(statePath, '{}')).toEqual({ refused: 'NO_AUTH' });
  });

  test('--acl-writer identities: each writes and reads the state, the identity itself only if named', async () => {
    const registry = registryAt({ auth: sync, writers: [sync, ops] });
    await registry.applyObservations(CLUSTER, web, step);
    const asOps = await outsider(`${ops.user}:${ops.password}`);
    expect(await asOps.acl(syncStatePath(registry.path, CLUSTER))).toEqual({
      ok: [
        { scheme: 'digest', id: 'kube-zk-sync', perms: ALL },
        { scheme: 'digest', id: 'ops', perms: ALL },
      ],
    });
    expect('ok' in (await asOps.read(syncStatePath(registry.path, CLUSTER)))).toBe(true);
  });
});

describe('a client that may not read the sync state', () => {
  async function synced() {
    const registry = registryAt({ auth: sync });
    await registry.applyObservations(CLUSTER, web, step);
    return registry;
  }

  test('a sync under another identity fails with an error naming the state and the identity, writing nothing', async () => {
    const { path } = await synced();
    const before = await (await outsider()).read(path);
    const intruder = registryAt({ auth: { user: 'intruder', password: 'x' } }, path);
    const error = await intruder.applyObservations(CLUSTER, web, step).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SyncStateAccessError);
    const message = (error as Error).message;
    expect(message).toContain(
      `ZooKeeper denies digest user "intruder" the sync state ${syncStatePath(path, CLUSTER)}`,
    );
    expect(message).toContain(`the digest identity that cluster "${CLUSTER}" writes with`);
    expect(message).toContain('ZK_AUTH_SSM_PARAMETER');
    expect(await (await outsider()).read(path)).toEqual(before);
    await expect(intruder.inspect(CLUSTER)).rejects.toThrow(SyncStateAccessError);
  });

  test('without an identity: reading the document with its managers leaves the state out and says so', async () => {
    const { path } = await synced();
    const anonymous = registryAt({}, path);
    await expect(anonymous.clusterStates()).rejects.toThrow(
      /ZooKeeper denies a client without an identity the sync state/,
    );
    const shown = await anonymous.readWithManagers({ skipUnreadableStates: true });
    expect(shown.document.entries.map((e) => e.name)).toEqual(['web.default']);
    expect(shown.states).toEqual([]);
    expect(shown.unreadable).toEqual([
      { cluster: CLUSTER, message: expect.stringContaining('only its writers') },
    ]);
  });
});
