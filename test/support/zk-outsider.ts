// A ZooKeeper client that is not kube-zk-sync: node-zookeeper-client on its own, as any service or person on the
// network could use it, to check what the ACLs of the znodes kube-zk-sync created let others do.
import zookeeper from 'node-zookeeper-client';

/** What a request came to: its result, or the name of ZooKeeper's refusal (NO_AUTH, NO_NODE, …). */
export type Outcome<T> = { ok: T } | { refused: string };

export interface AclEntry {
  readonly scheme: string;
  /** For a digest, the user alone (the hash is left out). */
  readonly id: string;
  readonly perms: number;
}

export class Outsider {
  private readonly client: zookeeper.Client;

  private constructor(client: zookeeper.Client) {
    this.client = client;
  }

  /** Connects, anonymously or as the digest `user:password` given. */
  static async connect(connectString: string, digest?: string): Promise<Outsider> {
    const client = zookeeper.createClient(connectString, { sessionTimeout: 10_000, retries: 0 });
    if (digest) client.addAuthInfo('digest', Buffer.from(digest));
    await new Promise<void>((resolve) => {
      client.once('connected', () => resolve());
      client.connect();
    });
    return new Outsider(client);
  }

  close(): void {
    this.client.close();
  }

  private request<T>(start: (done: (error: unknown, value?: T) => void) => void): Promise<Outcome<T>> {
    return new Promise((resolve) =>
      start((error, value) =>
        resolve(error ? { refused: (error as { name?: string }).name ?? String(error) } : { ok: value as T }),
      ),
    );
  }

  read(path: string): Promise<Outcome<string>> {
    return this.request((done) => this.client.getData(path, (e, data) => done(e, data?.toString() ?? '')));
  }

  write(path: string, text: string): Promise<Outcome<true>> {
    return this.request((done) => this.client.setData(path, Buffer.from(text), -1, (e) => done(e, true)));
  }

  /** Creates `path`, and its missing parents, open to everyone, as a careless writer would. */
  create(path: string, text: string): Promise<Outcome<true>> {
    return this.request((done) =>
      this.client.mkdirp(
        path,
        Buffer.from(text),
        [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('world', 'anyone'))],
        zookeeper.CreateMode.PERSISTENT,
        (e) => done(e, true),
      ),
    );
  }

  /** Opens `path` to everyone, as someone trying to take it over would. */
  openUp(path: string): Promise<Outcome<true>> {
    const everyone = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('world', 'anyone'))];
    return this.request((done) => this.client.setACL(path, everyone, -1, (e) => done(e, true)));
  }

  remove(path: string): Promise<Outcome<true>> {
    return this.request((done) => this.client.remove(path, -1, (e) => done(e, true)));
  }

  exists(path: string): Promise<boolean> {
    return new Promise((resolve, reject) =>
      this.client.exists(path, (e, stat) => (e ? reject(e) : resolve(Boolean(stat)))),
    );
  }

  acl(path: string): Promise<Outcome<AclEntry[]>> {
    return this.request((done) =>
      this.client.getACL(path, (e, acls) =>
        done(
          e,
          acls?.map((a) => ({
            scheme: a.id.scheme,
            id: a.id.scheme === 'digest' ? (a.id.id.split(':')[0] as string) : a.id.id,
            // The typings call it `perms`; the client's objects carry `permission`.
            perms: (a as unknown as { permission: number }).permission,
          })),
        ),
      ),
    );
  }
}

/** ZooKeeper's permission bits. */
export const READ = zookeeper.Permission.READ;
export const ALL = zookeeper.Permission.ALL;
