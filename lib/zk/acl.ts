// Who may read and write the znodes kube-zk-sync creates (the document when it is missing, the sync state, and the
// parents of both): everyone reads, since every service reads the registry; only the identities that keep it write.
import { createHash } from 'node:crypto';
import zookeeper from 'node-zookeeper-client';
import type { DigestCredentials } from './session.ts';

/** The id of a digest identity in an ACL: `user:base64(sha1("user:password"))`. */
export function digestId({ user, password }: DigestCredentials): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** Everyone reads; only `writers` (or everyone, when there are none) write. */
function registryAcl(writers: readonly DigestCredentials[]): zookeeper.ACL[] {
  const anyone = new zookeeper.Id('world', 'anyone');
  if (writers.length === 0) return [new zookeeper.ACL(zookeeper.Permission.ALL, anyone)];
  return [
    new zookeeper.ACL(zookeeper.Permission.READ, anyone),
    ...writers.map(
      (w) => new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', digestId(w))),
    ),
  ];
}

/**
 * The ACL of the znodes a client creates: writable by the identities named, or else by the identity it
 * authenticates as (so it can keep writing what it created), or else, with no identity at all, by everyone.
 */
export function createdZnodeAcl(client: {
  readonly writers?: readonly DigestCredentials[] | undefined;
  readonly auth?: DigestCredentials | undefined;
}): zookeeper.ACL[] {
  const { writers, auth } = client;
  return registryAcl(writers && writers.length > 0 ? writers : auth ? [auth] : []);
}
