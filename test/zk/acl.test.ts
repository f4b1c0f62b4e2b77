// The ACL policy on its own: who may read and write the znodes a client creates. test/zk/znode-acl.test.ts checks
// that ZooKeeper enforces it.
import { describe, expect, test } from 'vitest';
import { createdZnodeAcl, digestId } from '../../lib/zk/acl.ts';

const ops = { user: 'ops', password: 's3cret' };
const sync = { user: 'kube-zk-sync', password: 'pw' };
const READ = 1;
const ALL = 31;
const anyone = { scheme: 'world', id: 'anyone' };
const digest = (who: { user: string; password: string }) => ({ scheme: 'digest', id: digestId(who) });

describe('digestId', () => {
  test("is ZooKeeper's user:base64(sha1(user:password))", () => {
    // The superDigest value that ZooKeeper's own DigestAuthenticationProvider prints for super:admin.
    expect(digestId({ user: 'super', password: 'admin' })).toBe('super:xQJmxLMiHGwaqBvst5y6rkB6HQs=');
  });
});

describe('createdZnodeAcl', () => {
  const readable = { permission: READ, id: anyone };
  test.each([
    ['no identity at all: nothing may be created', {}, 'everyone', undefined],
    ['an empty writer list and no identity: nothing may be created', { writers: [] }, 'everyone', undefined],
    [
      'no identity, an open ACL asked for: everyone may write',
      { openAcl: true },
      'everyone',
      [{ permission: ALL, id: anyone }],
    ],
    [
      'no identity, an open ACL asked for, a private znode: open all the same',
      { openAcl: true },
      'writers',
      [{ permission: ALL, id: anyone }],
    ],
    [
      'authenticated: everyone reads, the identity itself writes',
      { auth: ops },
      'everyone',
      [readable, { permission: ALL, id: digest(ops) }],
    ],
    [
      'authenticated, a private znode: only the identity reads and writes',
      { auth: ops },
      'writers',
      [{ permission: ALL, id: digest(ops) }],
    ],
    [
      'an identity wins over an open ACL',
      { auth: ops, openAcl: true },
      'everyone',
      [readable, { permission: ALL, id: digest(ops) }],
    ],
    [
      'an empty writer list falls back to the identity',
      { auth: ops, writers: [] },
      'everyone',
      [readable, { permission: ALL, id: digest(ops) }],
    ],
    [
      'writers named: only they write, the identity included only if named',
      { auth: ops, writers: [sync] },
      'everyone',
      [readable, { permission: ALL, id: digest(sync) }],
    ],
    [
      'several writers, in the order given; a private znode is theirs alone',
      { writers: [sync, ops] },
      'writers',
      [
        { permission: ALL, id: digest(sync) },
        { permission: ALL, id: digest(ops) },
      ],
    ],
  ] as const)('%s', (_, client, readers, expected) => {
    const acl = createdZnodeAcl(client, readers);
    expect(acl === undefined ? undefined : JSON.parse(JSON.stringify(acl))).toEqual(expected);
  });
});
