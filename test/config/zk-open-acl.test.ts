// The Lambdas' configuration decides the ACL of what they create, on a real ZooKeeper: without credentials nothing
// is created unless ZK_OPEN_ACL=true says that an open registry is what is wanted (a local ZooKeeper).
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import { registryFromConfig } from '../../lib/sync/target.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { ALL, Outsider } from '../support/zk-outsider.ts';

const connectString = inject('zkConnect');
const CLUSTER = 'prod';
const configFor = (path: string, extra: Record<string, string> = {}) =>
  parseRegistryConfig({ ZK_CONNECT: connectString, REGISTRY_PATH: path, CLUSTER_ID: CLUSTER, ...extra });
const web = [{ key: 'default/web', resourceVersion: '1', value: 0 }];
const step = {
  policy: 'sync' as const,
  toEntry: () => ({
    kind: 'entry' as const,
    entry: { name: 'web.default', description: 'web', endpoints: ['lb.example.com:80'] },
  }),
};

let outsider: Outsider;
beforeAll(async () => {
  outsider = await Outsider.connect(connectString);
});
afterAll(() => outsider.close());

describe('the ACL of what the sync creates, from its configuration', () => {
  test('no credentials and no ZK_OPEN_ACL: the first sync creates nothing and says how to go on', async () => {
    const path = `/config-acl/${randomUUID()}/services`;
    const { registry } = registryFromConfig(configFor(path));
    try {
      await expect(registry.applyObservations(CLUSTER, web, step)).rejects.toThrow(
        /^refusing to create .* writable by anyone: .*ZK_AUTH_SSM_PARAMETER or ZK_AUTH_SECRET_ID for the Lambdas.*ZK_OPEN_ACL=true/,
      );
    } finally {
      registry.close();
    }
    expect(await outsider.exists(posix.dirname(path))).toBe(false);
  });

  test('ZK_OPEN_ACL=true: the document and the state are created open to everyone', async () => {
    const path = `/config-acl/${randomUUID()}/services`;
    const { registry } = registryFromConfig(configFor(path, { ZK_OPEN_ACL: 'true' }));
    try {
      expect((await registry.applyObservations(CLUSTER, web, step)).written).toBe(true);
    } finally {
      registry.close();
    }
    const open = { ok: [{ scheme: 'world', id: 'anyone', perms: ALL }] };
    expect(await outsider.acl(path)).toEqual(open);
    expect(await outsider.acl(syncStatePath(path, CLUSTER))).toEqual(open);
  });
});
