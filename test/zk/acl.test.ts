// The ACL policy on its own: who may write the znodes a client creates. The CLI's digest test checks that
// ZooKeeper enforces it.
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
  test.each([
    ['no identity at all: everyone may write', {}, [{ permission: ALL, id: anyone }]],
    [
      'an empty writer list and no identity: everyone may write',
      { writers: [] },
      [{ permission: ALL, id: anyone }],
    ],
    [
      'authenticated: everyone reads, the identity itself writes',
      { auth: ops },
      [
        { permission: READ, id: anyone },
        { permission: ALL, id: digest(ops) },
      ],
    ],
    [
      'an empty writer list falls back to the identity',
      { auth: ops, writers: [] },
      [
        { permission: READ, id: anyone },
        { permission: ALL, id: digest(ops) },
      ],
    ],
    [
      'writers named: only they write, the identity included only if named',
      { auth: ops, writers: [sync] },
      [
        { permission: READ, id: anyone },
        { permission: ALL, id: digest(sync) },
      ],
    ],
    [
      'several writers, in the order given',
      { writers: [sync, ops] },
      [
        { permission: READ, id: anyone },
        { permission: ALL, id: digest(sync) },
        { permission: ALL, id: digest(ops) },
      ],
    ],
  ])('%s', (_, client, expected) => {
    expect(JSON.parse(JSON.stringify(createdZnodeAcl(client)))).toEqual(expected);
  });
});
