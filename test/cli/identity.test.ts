// The CLI's identity in ZooKeeper and the ACL of what it creates, on a real server: no world-writable znode unless
// asked for, and the passwords from a file or the environment instead of the command line.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { syncStatePath, ZkRegistryStore } from '../../lib/zk/registry-store.ts';
import { ZkStore } from '../../lib/zk/store.ts';
import { runCli } from '../support/cli.ts';
import { ALL, Outsider, READ } from '../support/zk-outsider.ts';

const zk = inject('zkConnect');
const newPath = () => `/cli-identity/${randomUUID()}/services`;
const register = (path: string, args: string[], env: Record<string, string> = {}) =>
  runCli(['registry', 'register', '--name', 'db', '--endpoint', 'db.internal:5432', ...args], {
    ZK_CONNECT: zk,
    REGISTRY_PATH: path,
    ...env,
  });

let dir: string;
let outsider: Outsider;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kzs-identity-'));
  outsider = await Outsider.connect(zk);
});
afterAll(async () => {
  outsider.close();
  await rm(dir, { recursive: true, force: true });
});
const file = async (text: string) => {
  const path = join(dir, randomUUID());
  await writeFile(path, text, { mode: 0o600 });
  return path;
};
/** Who may do what on `path`, as ZooKeeper reports it to one of its writers. */
const aclOf = async (path: string, as: string) => {
  const reader = await Outsider.connect(zk, as);
  try {
    return await reader.acl(path);
  } finally {
    reader.close();
  }
};
const everyoneReads = { scheme: 'world', id: 'anyone', perms: READ };
const writer = (user: string) => ({ scheme: 'digest', id: user, perms: ALL });

describe('without an identity', () => {
  test('register refuses to create the document writable by anyone, and creates nothing', async () => {
    const path = newPath();
    const r = await register(path, []);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^kube-zk-sync: refusing to create ${path} writable by anyone: no writer identity is given`),
    );
    expect(r.stderr).toContain('--insecure-open-acl');
    expect(r.stderr).toContain('nothing was written');
    expect(await outsider.exists(posix.dirname(path))).toBe(false);
  });

  test('--insecure-open-acl, or ZK_OPEN_ACL=true: the document is open to everyone, as asked', async () => {
    const open = { ok: [{ scheme: 'world', id: 'anyone', perms: ALL }] };
    const byFlag = newPath();
    expect((await register(byFlag, ['--insecure-open-acl'])).code).toBe(0);
    expect(await outsider.acl(byFlag)).toEqual(open);
    const byEnv = newPath();
    expect((await register(byEnv, [], { ZK_OPEN_ACL: 'true' })).code).toBe(0);
    expect(await outsider.acl(byEnv)).toEqual(open);
    const bad = await register(newPath(), [], { ZK_OPEN_ACL: 'yes' });
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'kube-zk-sync: ZK_OPEN_ACL="yes": use "true" or "false"\n',
    });
  });

  test('an existing document is edited as it is', async () => {
    const path = newPath();
    await outsider.create(path, '[]');
    expect((await register(path, [])).code).toBe(0);
    expect(await outsider.acl(path)).toEqual({ ok: [{ scheme: 'world', id: 'anyone', perms: ALL }] });
  });
});

describe('identities from a file or the environment', () => {
  test('--auth-file: the identity it holds (user:password, or the JSON of a secret) writes the document', async () => {
    const plain = newPath();
    expect((await register(plain, ['--auth-file', await file('ops:s3cret\n')])).code).toBe(0);
    expect(await aclOf(plain, 'ops:s3cret')).toEqual({ ok: [everyoneReads, writer('ops')] });

    const json = newPath();
    const secret = await file('{\n  "username": "ops",\n  "password": "s3:cret"\n}\n');
    expect((await register(json, ['--auth-file', secret])).code).toBe(0);
    expect(await aclOf(json, 'ops:s3:cret')).toEqual({ ok: [everyoneReads, writer('ops')] });
  });

  test('--acl-writer-file and ZK_ACL_WRITERS: one identity a line, each may write; the flags win over the variable', async () => {
    const writers = await file('sync:pw1\n\nops:pw2\n');
    const fromFile = newPath();
    expect((await register(fromFile, ['--auth', 'sync:pw1', '--acl-writer-file', writers])).code).toBe(0);
    expect(await aclOf(fromFile, 'ops:pw2')).toEqual({ ok: [everyoneReads, writer('sync'), writer('ops')] });

    const fromEnv = newPath();
    const env = { ZK_ACL_WRITERS: 'sync:pw1\nops:pw2', ZK_AUTH: 'sync:pw1' };
    expect((await register(fromEnv, [], env)).code).toBe(0);
    expect(await aclOf(fromEnv, 'ops:pw2')).toEqual({ ok: [everyoneReads, writer('sync'), writer('ops')] });

    const flagWins = newPath();
    expect((await register(flagWins, ['--acl-writer', 'sync:pw1'], env)).code).toBe(0);
    expect(await aclOf(flagWins, 'sync:pw1')).toEqual({ ok: [everyoneReads, writer('sync')] });
  });

  test('a bad file or value is a usage error that names it and never shows a password', async () => {
    const missing = join(dir, 'missing');
    const noFile = await register(newPath(), ['--auth-file', missing]);
    expect(noFile).toMatchObject({
      code: 2,
      stderr: `kube-zk-sync: --auth-file ${missing}: cannot read it (ENOENT)\n`,
    });
    const two = await register(newPath(), ['--auth-file', await file('a:hunter2\nb:hunter2\n')]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('holds 2 identities; it takes one');
    const badLine = await register(newPath(), ['--acl-writer-file', await file('a:hunter2\nhunter2\n')]);
    expect(badLine.code).toBe(2);
    expect(badLine.stderr).toMatch(/--acl-writer-file .*: line 2: no ZooKeeper digest credentials/);
    const badEnv = await register(newPath(), [], { ZK_ACL_WRITERS: 'hunter2' });
    expect(badEnv.stderr).toMatch(/^kube-zk-sync: ZK_ACL_WRITERS: line 1: no ZooKeeper digest credentials/);
    for (const r of [two, badLine, badEnv]) expect(r.stderr).not.toContain('hunter2');
    const both = await register(newPath(), ['--auth', 'a:b', '--auth-file', missing]);
    // commander's own usage error: its exit status, its message.
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/--auth.*cannot be used with.*--auth-file/);
  });
});

describe('a sync state the CLI may not read', () => {
  test('list shows the document and says on stderr which state it could not read; register refuses', async () => {
    const path = newPath();
    const sync = new ZkRegistryStore(
      new ZkStore({ connectString: zk, auth: { user: 'sync', password: 'pw' } }),
      path,
    );
    try {
      await sync.applyObservations('prod', [{ key: 'default/web', resourceVersion: '1', value: 0 }], {
        policy: 'sync',
        toEntry: () => ({
          kind: 'entry',
          entry: { name: 'web.default', description: 'web', endpoints: ['lb.example.com:80'] },
        }),
      });
    } finally {
      sync.close();
    }
    const env = { ZK_CONNECT: zk, REGISTRY_PATH: path };
    const list = await runCli(['registry', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/web\.default\s+lb\.example\.com:80\s+prod:default\/web/);
    expect(list.stderr).toContain(
      `note: entries of cluster "prod" whose ownership marker another writer dropped show as hand-made: ` +
        `ZooKeeper denies a client without an identity the sync state ${syncStatePath(path, 'prod')}`,
    );
    const edit = await runCli(
      ['registry', 'register', '--name', 'db', '--endpoint', 'db:1', '--auth', 'ops:pw'],
      env,
    );
    expect(edit.code).toBe(1);
    expect(edit.stderr).toContain('ZooKeeper denies digest user "ops" the sync state');
  });
});
