// Who may read and write the znodes kube-zk-sync creates (the document when it is missing, the sync state, and the
// parents of both). Every service reads the document, so everyone reads it and its parents; the sync state lists
// Services that the filters exclude, so only its writers read it. Only the identities that keep them write: a
// client without an identity refuses to create a znode anyone could write, unless told to (a local ZooKeeper).
// Znodes that exist already keep whatever ACL they have.
import { createHash } from 'node:crypto';
import zookeeper from 'node-zookeeper-client';
import { type DigestCredentials, ZkError } from './session.ts';

/** The digest id of an identity in an ACL: `user:base64(sha1("user:password"))`. */
export function digestId({ user, password }: DigestCredentials): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** What decides the ACL of the znodes a client creates. */
export interface CreatorIdentity {
  /** The identities allowed to write (and, for a private znode, read) them. */
  readonly writers?: readonly DigestCredentials[] | undefined;
  /** The identity the client authenticates as: the writer when `writers` names none. */
  readonly auth?: DigestCredentials | undefined;
  /** With no identity at all, create znodes that everyone may read and write: for a local ZooKeeper only. */
  readonly openAcl?: boolean | undefined;
}

/** Who reads a created znode: everyone (the document and its parents), or only its writers (the sync state). */
export type Readers = 'everyone' | 'writers';

/** Nothing was created: the znodes would have been writable by anyone, and that was not asked for. */
export class OpenAclRefusedError extends ZkError {
  override readonly name = 'OpenAclRefusedError';
  readonly paths: readonly string[];
  constructor(paths: readonly string[]) {
    super(
      `refusing to create ${paths.join(' and ')} writable by anyone: no writer identity is given (ZooKeeper ` +
        'digest credentials: --auth, --auth-file or --acl-writer on the CLI, ZK_AUTH_SSM_PARAMETER or ' +
        'ZK_AUTH_SECRET_ID for the Lambdas); give one, or, for a local ZooKeeper only, allow an open ACL with ' +
        '--insecure-open-acl (CLI) or ZK_OPEN_ACL=true (Lambdas); nothing was written',
    );
    this.paths = paths;
  }
}

/** The identities that write what `client` creates: those named, else its own; none without an identity. */
export function writersOf(client: CreatorIdentity): readonly DigestCredentials[] {
  const { writers, auth } = client;
  return writers && writers.length > 0 ? writers : auth ? [auth] : [];
}

/**
 * The ACL of a znode `client` creates: full rights for its writers, and reading for everyone when `readers` is
 * everyone. Without any writer, everyone's full rights when the client asked for an open ACL, else undefined: the
 * caller must refuse to create it.
 */
export function createdZnodeAcl(client: CreatorIdentity, readers: Readers): zookeeper.ACL[] | undefined {
  const anyone = new zookeeper.Id('world', 'anyone');
  const writers = writersOf(client);
  if (writers.length === 0) {
    return client.openAcl ? [new zookeeper.ACL(zookeeper.Permission.ALL, anyone)] : undefined;
  }
  return [
    ...(readers === 'everyone' ? [new zookeeper.ACL(zookeeper.Permission.READ, anyone)] : []),
    ...writers.map(
      (w) => new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', digestId(w))),
    ),
  ];
}
