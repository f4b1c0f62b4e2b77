// Compare-and-set updates of znodes. Every write is conditional on the versions read; a lost race re-reads and
// re-plans (bounded, with jitter). A connection lost during a write leaves its outcome unknown: re-read and decide.
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type zookeeper from 'node-zookeeper-client';
import { backoffDelay } from '../util/backoff.ts';
import { ZK_MAX_ATTEMPTS, ZK_MAX_DATA_BYTES } from '../util/defaults.ts';
import { createdZnodeAcl, OpenAclRefusedError, type Readers } from './acl.ts';
import {
  Codes,
  codeOf,
  type DigestCredentials,
  type SessionOptions,
  type TxOp,
  ZkError,
  ZkSession,
  ZkUnavailableError,
} from './session.ts';

export interface ZkStoreOptions extends SessionOptions {
  /** Largest data written to one znode, in bytes. */
  readonly maxDataBytes?: number;
  /** Attempts of one update before giving up under contention. */
  readonly maxAttempts?: number;
  /**
   * Znodes this store creates are writable only by these identities (by default, by the identity in `auth`); with
   * neither, it refuses to create any unless `openAcl` (lib/zk/acl.ts).
   */
  readonly writers?: readonly DigestCredentials[];
  /** With no identity at all, create znodes that everyone may read and write: for a local ZooKeeper only. */
  readonly openAcl?: boolean;
}

export interface UpdateOptions {
  /** Paths that, if the update creates them, only their writers may read; everyone reads the others. */
  readonly privatePaths?: readonly string[];
}

export class DataTooLargeError extends ZkError {
  override readonly name = 'DataTooLargeError';
  /** The size of the refused request. */
  readonly bytes: number;
  /** The size of each znode's new data in it. */
  readonly sizes: Readonly<Record<string, number>>;
  constructor(message: string, bytes: number, sizes: Readonly<Record<string, number>> = {}) {
    super(message);
    this.bytes = bytes;
    this.sizes = sizes;
  }
}
export class ContentionError extends ZkError {
  override readonly name = 'ContentionError';
}
export class AccessDeniedError extends ZkError {
  override readonly name = 'AccessDeniedError';
  /** The znode whose ACL denied the request, when one request touched one znode. */
  readonly path: string | undefined;
  constructor(message: string, code: number, options: ErrorOptions & { path?: string }) {
    super(message, code, options);
    this.path = options.path;
  }
}

export interface Read {
  readonly data: Buffer | null;
  /** -1 when the znode does not exist. */
  readonly version: number;
}

/** What an update's change function returns: the new data per path (undefined keeps it) and a result to pass on. */
export interface Writes<R> {
  readonly data: ReadonlyArray<Buffer | undefined>;
  readonly result: R;
}

export interface UpdateOutcome<R> {
  readonly written: boolean;
  readonly attempts: number;
  /** Versions of the znodes after the update (or as read, when nothing was written). */
  readonly versions: readonly number[];
  /** The result of the change function on the state that was finally written (or found unchanged). */
  readonly result: R;
}

/** From 10 ms to 1 s, with jitter, so that writers who lost a race to each other do not race again in step. */
const RETRY_BACKOFF = { initialMs: 10, maxMs: 1_000 };
/** Waits before the attempt after `attempt` (1 for the first retry). */
export const backoff = (attempt: number) => sleep(backoffDelay(attempt - 1, RETRY_BACKOFF));

/** A ZooKeeper client that survives restarts, failovers and expired sessions by opening a new session. */
export class ZkStore {
  private readonly options: ZkStoreOptions;
  private session: Promise<ZkSession> | undefined;
  #closed = false;

  constructor(options: ZkStoreOptions) {
    this.options = options;
  }

  get maxDataBytes(): number {
    return this.options.maxDataBytes ?? ZK_MAX_DATA_BYTES;
  }

  get connectString(): string {
    return this.options.connectString;
  }

  /** The digest user this store authenticates as; undefined when it has no identity. */
  get identity(): string | undefined {
    return this.options.auth?.user;
  }

  /** True once `close` was called: no call succeeds any more. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A live session: the current one, or a new one when it expired, was refused or timed out. */
  async connected(): Promise<ZkSession> {
    if (this.#closed) throw new ZkError('the ZooKeeper store is closed');
    const pending = this.session;
    const current = pending && (await pending.catch(() => undefined));
    if (current && !current.dead) return current;
    // Another caller already replaced the dead session while this one waited: share the new one.
    if (this.session !== pending) return this.connected();
    current?.close();
    const opening = ZkSession.open(this.options);
    this.session = opening;
    opening.catch(() => {
      if (this.session === opening) this.session = undefined;
    });
    return opening;
  }

  close(): void {
    this.#closed = true;
    void this.session?.then((s) => s.close()).catch(() => {});
    this.session = undefined;
  }

  async read(path: string): Promise<Read> {
    return this.withSession(`reading ${path}`, (s) => readOn(s, path), path);
  }

  async children(path: string): Promise<string[]> {
    return this.withSession(`listing ${path}`, (s) => s.children(path));
  }

  /**
   * Deletes `path` if it is still at `version` (compare-and-set, like every write); false when it was already gone.
   * A changed version fails with ContentionError: someone wrote it since it was read.
   */
  async remove(path: string, version: number): Promise<boolean> {
    try {
      return await this.withSession(`deleting ${path}`, (s) => s.remove(path, version));
    } catch (error) {
      if (codeOf((error as Error).cause ?? error) === Codes.BAD_VERSION) {
        throw new ContentionError(
          `${path} changed since it was read (version ${version}); nothing was deleted`,
        );
      }
      throw error;
    }
  }

  /** Runs one idempotent operation, again on a new session if the first one was lost. */
  private async withSession<T>(what: string, op: (s: ZkSession) => Promise<T>, path?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.connected();
      try {
        return await op(session);
      } catch (error) {
        if (attempt >= 1 || !isSessionLoss(error)) throw translate(error, what, path);
      }
    }
  }

  /**
   * Reads `paths`, asks `change` for their new data and writes what changed in one atomic, version-checked
   * transaction. Returns without writing when nothing changes. `change` may run several times (once per attempt)
   * and must be pure.
   */
  async update<R>(
    paths: readonly string[],
    change: (current: ReadonlyArray<Buffer | null>) => Writes<R>,
    options: UpdateOptions = {},
  ): Promise<UpdateOutcome<R>> {
    const maxAttempts = this.options.maxAttempts ?? ZK_MAX_ATTEMPTS;
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const session = await this.connected();
      let reads: Read[];
      try {
        // Each read on its own, so that a denied one names its znode.
        reads = await Promise.all(
          paths.map((p) =>
            readOn(session, p).catch((error: unknown) => {
              throw isRetryable(error) ? error : translate(error, `reading ${p}`, p);
            }),
          ),
        );
      } catch (error) {
        if (!isRetryable(error)) throw translate(error, `reading ${paths.join(', ')}`);
        lastError = error;
        await backoff(attempt);
        continue;
      }
      const { data, result } = change(reads.map((r) => r.data));
      const writes = paths.flatMap((path, i) => {
        const next = data[i];
        const read = reads[i] as Read;
        return next !== undefined && !(read.data && next.equals(read.data)) ? [{ path, next, read }] : [];
      });
      if (writes.length === 0)
        return { written: false, attempts: attempt, versions: reads.map((r) => r.version), result };
      // ZooKeeper's limit is on the whole request: a transaction carries every znode it writes.
      const bytes = writes.reduce((sum, w) => sum + w.next.length + Buffer.byteLength(w.path), 0);
      if (bytes > this.maxDataBytes) {
        const what = writes.map((w) => `${w.path} (${w.next.length} bytes)`).join(' and ');
        throw new DataTooLargeError(
          `refusing to write ${what}: ${bytes} bytes in one request would exceed the limit of ` +
            `${this.maxDataBytes} bytes (ZooKeeper jute.maxbuffer); nothing was written`,
          bytes,
          Object.fromEntries(writes.map((w) => [w.path, w.next.length])),
        );
      }
      try {
        await this.write(session, paths, reads, writes, options);
        return { written: true, attempts: attempt, versions: versionsAfter(reads, writes), result };
      } catch (error) {
        lastError = error;
        const code = codeOf((error as Error).cause ?? error);
        if (code === Codes.BAD_VERSION || code === Codes.NODE_EXISTS || code === Codes.NO_NODE) {
          await backoff(attempt);
          continue;
        }
        if (!isRetryable(error)) throw translate(error, `writing ${paths.join(', ')}`);
        // The write may or may not have happened: if the znodes now hold exactly what we wrote, one version
        // later, it did. Otherwise the next attempt re-reads and re-plans on whatever is there.
        if (await this.landed(writes).catch(() => false)) {
          return { written: true, attempts: attempt, versions: versionsAfter(reads, writes), result };
        }
        await backoff(attempt);
      }
    }
    throw new ContentionError(
      `could not update ${paths.join(', ')} after ${maxAttempts} attempts: ${(lastError as Error)?.message ?? 'contention'}`,
    );
  }

  private async write(
    session: ZkSession,
    paths: readonly string[],
    reads: readonly Read[],
    writes: ReadonlyArray<{ path: string; next: Buffer; read: Read }>,
    options: UpdateOptions,
  ): Promise<void> {
    // Checked before anything is created, parents included: a refusal leaves nothing behind.
    const created = writes.filter((w) => w.read.version < 0).map((w) => w.path);
    if (created.length > 0 && !this.aclOf('everyone')) throw new OpenAclRefusedError(created);
    const aclFor = (path: string) =>
      this.aclOf(options.privatePaths?.includes(path) ? 'writers' : 'everyone') as zookeeper.ACL[];
    for (const path of created)
      await session.mkdirp(posix.dirname(path), this.aclOf('everyone') as zookeeper.ACL[]);
    if (paths.length === 1 && writes.length === 1) {
      const w = writes[0] as { path: string; next: Buffer; read: Read };
      if (w.read.version < 0) {
        await session.call(`creating ${w.path}`, (done) =>
          session.client.create(w.path, w.next, aclFor(w.path), 0, (e) => done(e)),
        );
      } else {
        await session.call(`writing ${w.path}`, (done) =>
          session.client.setData(w.path, w.next, w.read.version, (e) => done(e)),
        );
      }
      return;
    }
    const ops: TxOp[] = paths.flatMap((path, i): TxOp[] => {
      const read = reads[i] as Read;
      const w = writes.find((x) => x.path === path);
      if (w)
        return [
          read.version < 0
            ? { type: 'create', path, data: w.next, acl: aclFor(path) }
            : { type: 'set', path, data: w.next, version: read.version },
        ];
      return read.version < 0 ? [] : [{ type: 'check', path, version: read.version }];
    });
    await session.commit(`writing ${paths.join(', ')}`, ops);
  }

  /** The ACL of a znode this store creates; undefined when it may create none (no identity, no open ACL). */
  private aclOf(readers: Readers): zookeeper.ACL[] | undefined {
    return createdZnodeAcl(this.options, readers);
  }

  private async landed(writes: ReadonlyArray<{ path: string; next: Buffer; read: Read }>): Promise<boolean> {
    const session = await this.connected();
    for (const w of writes) {
      const now = await readOn(session, w.path);
      if (now.version !== w.read.version + 1 || !now.data?.equals(w.next)) return false;
    }
    return true;
  }
}

const versionsAfter = (reads: readonly Read[], writes: ReadonlyArray<{ read: Read }>) =>
  reads.map((r) => (writes.some((w) => w.read === r) ? r.version + 1 : r.version));

/** The data and version of `path` (version -1 when it does not exist), arming `watcher` for its next change. */
export async function readOn(session: ZkSession, path: string, watcher?: () => void): Promise<Read> {
  const r = await session.getData(path, watcher);
  return r ? { data: r.data, version: r.version } : { data: null, version: -1 };
}

const isSessionLoss = (error: unknown) => {
  const code = (error as ZkError).code;
  return (
    code === Codes.SESSION_EXPIRED || code === Codes.CONNECTION_LOSS || error instanceof ZkUnavailableError
  );
};

/** Errors after which a new attempt (on a new session if need be) can succeed. */
const isRetryable = (error: unknown) => {
  const code = (error as ZkError).code;
  return isSessionLoss(error) || code === Codes.OPERATION_TIMEOUT;
};

function translate(error: unknown, what: string, path?: string): Error {
  if (error instanceof AccessDeniedError) return error;
  const code = (error as ZkError).code;
  if (code === Codes.NO_AUTH) {
    return new AccessDeniedError(
      `${what}: ZooKeeper denied access by the znode's ACL; pass digest credentials that the ACL allows`,
      code,
      { cause: error, ...(path !== undefined ? { path } : {}) },
    );
  }
  return error instanceof Error ? error : new ZkError(`${what}: ${String(error)}`);
}
