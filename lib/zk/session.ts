// A promise face for node-zookeeper-client with a deadline on everything: that client never gives up connecting
// and queues requests while disconnected, so without deadlines a missing server means a callback that never comes.
import zookeeper from 'node-zookeeper-client';
import { ZK_SESSION_TIMEOUT_MS, ZK_TIMEOUT_MS } from '../util/defaults.ts';

export interface DigestCredentials {
  readonly user: string;
  readonly password: string;
}

export interface SessionOptions {
  /** `host:port[,host:port…][/chroot]` */
  readonly connectString: string;
  readonly sessionTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly operationTimeoutMs?: number;
  /** Digest identity this client authenticates as. */
  readonly auth?: DigestCredentials;
}

export class ZkError extends Error {
  override readonly name: string = 'ZkError';
  /** node-zookeeper-client's exception code, when the server answered with one. */
  readonly code?: number;
  constructor(message: string, code?: number, options?: ErrorOptions) {
    super(message, options);
    if (code !== undefined) this.code = code;
  }
}

/** No answer within the deadline: the server is down, unreachable, or the request is stuck. */
export class ZkUnavailableError extends ZkError {
  override readonly name = 'ZkUnavailableError';
}

export const Codes = zookeeper.Exception;

export const codeOf = (error: unknown): number | undefined => {
  const e = error as { getCode?: () => number; code?: unknown };
  if (typeof e?.getCode === 'function') return e.getCode();
  return typeof e?.code === 'number' ? e.code : undefined;
};

/** The parts of node-zookeeper-client's private connection manager that closing a session needs. */
interface ConnectionManagerInternals {
  readonly state: number;
  readonly socket?: { destroy(): void };
}
/** The connection manager's state once it will not connect again. */
const CLOSED = -2;

const noWatch = undefined as unknown as () => void;

export interface Stat {
  readonly version: number;
}

/** One ZooKeeper session. Once it is `dead` (expired, failed auth, closed, timed out) the owner makes a new one. */
export class ZkSession {
  readonly client: zookeeper.Client;
  private readonly opTimeoutMs: number;
  private deadReason: string | undefined;
  private readonly lostListeners = new Set<(reason: string) => void>();
  private disconnectedTimer: NodeJS.Timeout | undefined;
  private abandoned = false;

  private constructor(client: zookeeper.Client, opTimeoutMs: number) {
    this.client = client;
    this.opTimeoutMs = opTimeoutMs;
    client.once('expired', () => this.kill('the ZooKeeper session expired'));
    client.once('authenticationFailed', () => this.kill('ZooKeeper refused the digest credentials'));
    // The client learns of an expiry only from the server, and waits without end for a handshake that a server
    // never answers. A server that has not heard from us for the session timeout has expired the session anyway,
    // so a session disconnected for that long is given up, and whoever waits on it moves on to a new one.
    client.on('disconnected', () => {
      if (this.deadReason || this.disconnectedTimer) return;
      const ms = client.getSessionTimeout();
      this.disconnectedTimer = setTimeout(
        () => this.abandon(`no connection to ZooKeeper for ${ms} ms, the session timeout`),
        ms,
      );
      this.disconnectedTimer.unref();
    });
    client.on('connected', () => this.clearDisconnectedTimer());
  }

  static async open(options: SessionOptions): Promise<ZkSession> {
    const connectTimeoutMs = options.connectTimeoutMs ?? ZK_TIMEOUT_MS;
    const client = zookeeper.createClient(options.connectString, {
      sessionTimeout: options.sessionTimeoutMs ?? ZK_SESSION_TIMEOUT_MS,
      spinDelay: 200,
      retries: 0,
    });
    if (options.auth)
      client.addAuthInfo('digest', Buffer.from(`${options.auth.user}:${options.auth.password}`));
    const session = new ZkSession(client, options.operationTimeoutMs ?? ZK_TIMEOUT_MS);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        session.close();
        reject(
          new ZkUnavailableError(
            `could not connect to ZooKeeper at ${options.connectString} within ${connectTimeoutMs} ms`,
          ),
        );
      }, connectTimeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.once('authenticationFailed', () => {
        clearTimeout(timer);
        reject(new ZkError(`ZooKeeper at ${options.connectString} refused the digest credentials`));
      });
      client.connect();
    });
    return session;
  }

  get dead(): string | undefined {
    return this.deadReason;
  }

  /**
   * Calls `listener` once the session is lost for good (expired, refused, given up, closed), at once if it already
   * is. Returns the function that removes it, so that a long wait leaves nothing behind.
   */
  onLost(listener: (reason: string) => void): () => void {
    if (this.deadReason !== undefined) {
      listener(this.deadReason);
      return () => {};
    }
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Marks the session dead for good; whoever waits on it moves on to a new one. */
  private kill(reason: string): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    this.clearDisconnectedTimer();
    for (const listener of this.lostListeners) listener(reason);
    this.lostListeners.clear();
  }

  private clearDisconnectedTimer(): void {
    clearTimeout(this.disconnectedTimer);
    this.disconnectedTimer = undefined;
  }

  close(): void {
    this.abandon('the ZooKeeper session was closed', true);
  }

  /**
   * Marks the session dead and closes its client. A healthy connection says goodbye to the server when `goodbye`,
   * and is destroyed only if no answer closes it within the request deadline (a connection that went silent looks
   * healthy); any other is destroyed at once. A half-made or silent connection would otherwise stay open, and keep
   * the process alive, until TCP gives up on it.
   */
  private abandon(reason: string, goodbye = false): void {
    this.kill(reason);
    // Closing a client that is closed already would put it back in CLOSING, where nothing ever ends it.
    if (this.abandoned || this.manager?.state === CLOSED) return;
    this.abandoned = true;
    const state = this.client.getState();
    const connected =
      state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY;
    this.client.close();
    if (goodbye && connected) setTimeout(() => this.dropConnection(), this.opTimeoutMs).unref();
    else this.dropConnection();
  }

  /**
   * Destroys the client's socket until the client is closed. node-zookeeper-client has no other way to drop its
   * connection, and a reconnect it had already scheduled may open one more socket after `close()`.
   */
  private dropConnection(tries = 3): void {
    const manager = this.manager;
    if (!manager || manager.state === CLOSED) return;
    manager.socket?.destroy();
    if (tries > 1) setTimeout(() => this.dropConnection(tries - 1), this.opTimeoutMs).unref();
  }

  private get manager(): ConnectionManagerInternals | undefined {
    return (this.client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
  }

  /**
   * Runs one callback-style request with a deadline. A request that misses it may still be queued inside the
   * client and be sent after a reconnect, so the session is closed: nothing runs later behind the caller's back.
   */
  call<T>(what: string, start: (done: (error: unknown, value?: T) => void) => void): Promise<T> {
    if (this.deadReason)
      return Promise.reject(new ZkError(`${what}: ${this.deadReason}`, Codes.SESSION_EXPIRED));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        this.abandon(`a request timed out after ${this.opTimeoutMs} ms`);
        reject(new ZkUnavailableError(`${what}: ZooKeeper did not answer within ${this.opTimeoutMs} ms`));
      }, this.opTimeoutMs);
      try {
        start((error, value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) {
            const code = codeOf(error);
            if (code === Codes.SESSION_EXPIRED) this.kill('the ZooKeeper session expired');
            reject(new ZkError(`${what}: ${(error as Error).message ?? error}`, code, { cause: error }));
          } else resolve(value as T);
        });
      } catch (error) {
        // The client asserts its arguments synchronously (e.g. data over 1 MiB).
        settled = true;
        clearTimeout(timer);
        reject(new ZkError(`${what}: ${(error as Error).message}`, undefined, { cause: error }));
      }
    });
  }

  /** Data and version, or null when the znode does not exist. */
  async getData(path: string, watcher?: () => void): Promise<{ data: Buffer; version: number } | null> {
    try {
      return await this.call(`reading ${path}`, (done) =>
        this.client.getData(path, watcher ?? noWatch, (e, data, stat) =>
          e ? done(e) : done(null, { data: data ?? Buffer.alloc(0), version: (stat as Stat).version }),
        ),
      );
    } catch (error) {
      if (codeOf((error as Error).cause) === Codes.NO_NODE) return null;
      throw error;
    }
  }

  /** Resolves true when the znode exists; arms `watcher` for its creation either way. */
  exists(path: string, watcher?: () => void): Promise<boolean> {
    return this.call(`checking ${path}`, (done) =>
      this.client.exists(path, watcher ?? noWatch, (e, stat) => done(e, stat !== null && stat !== undefined)),
    );
  }

  /** The names of a znode's children; empty when the znode does not exist. */
  async children(path: string): Promise<string[]> {
    try {
      return await this.call(`listing ${path}`, (done) =>
        this.client.getChildren(path, (e, children) => done(e, children ?? [])),
      );
    } catch (error) {
      if (codeOf((error as Error).cause) === Codes.NO_NODE) return [];
      throw error;
    }
  }

  /** Deletes a znode at `version`; false when it was already gone. */
  async remove(path: string, version: number): Promise<boolean> {
    try {
      await this.call(`deleting ${path}`, (done) => this.client.remove(path, version, (e) => done(e)));
      return true;
    } catch (error) {
      if (codeOf((error as Error).cause) === Codes.NO_NODE) return false;
      throw error;
    }
  }

  async mkdirp(path: string, acl: zookeeper.ACL[]): Promise<void> {
    if (path === '/' || path === '') return;
    await this.call(`creating ${path}`, (done) =>
      this.client.mkdirp(path, Buffer.alloc(0), acl, zookeeper.CreateMode.PERSISTENT, (e) => done(e)),
    );
  }

  /** One atomic multi-operation; fails with the code of the first operation that failed. */
  commit(what: string, ops: readonly TxOp[]): Promise<void> {
    return this.call(what, (done) => {
      const tx = this.client.transaction();
      for (const op of ops) {
        if (op.type === 'create') tx.create(op.path, op.data, op.acl, zookeeper.CreateMode.PERSISTENT);
        else if (op.type === 'set') tx.setData(op.path, op.data, op.version);
        else tx.check(op.path, op.version);
      }
      // node-zookeeper-client turns version 0 into -1, an unconditional write, inside transactions (#67).
      const built = (tx as unknown as { ops: Array<{ version?: number }> }).ops;
      ops.forEach((op, i) => {
        const target = built[i];
        if (op.type !== 'create' && target) target.version = op.version;
      });
      tx.commit((error) => done(error));
    });
  }
}

export type TxOp =
  | { readonly type: 'create'; readonly path: string; readonly data: Buffer; readonly acl: zookeeper.ACL[] }
  | { readonly type: 'set'; readonly path: string; readonly data: Buffer; readonly version: number }
  | { readonly type: 'check'; readonly path: string; readonly version: number };
