// The registry document in ZooKeeper: reads that refuse a corrupt document, hand-made edits (the CLI), and the
// steps that apply a cluster's observations, writing the document and that cluster's sync state in one
// compare-and-set transaction.
import { posix } from 'node:path';
import { parseDocument, type RegistryDocument, serializeDocument } from '../registry/document.ts';
import {
  type Adoption,
  adoptEntry,
  type ClusterState,
  forgetReleased,
  type Purge,
  purgeCluster,
  withManagers,
} from '../registry/handover.ts';
import { type Damage, inspectDocument } from '../registry/ownership.ts';
import { serviceBehind } from '../registry/shared.ts';
import { type PlannedStep, planStep, type StepInput } from '../registry/step.ts';
import {
  emptySyncState,
  type Observation,
  parseSyncState,
  type SyncState,
  SyncStateError,
  serializeSyncState,
} from '../registry/sync-state.ts';
import { messageOf } from '../util/errors.ts';
import { znodePathProblem } from './paths.ts';
import { Codes, ZkError } from './session.ts';
import { AccessDeniedError, type UpdateOutcome, type Writes, type ZkStore } from './store.ts';
import { watchZnode } from './watch.ts';

const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class InvalidClusterIdError extends Error {
  override readonly name = 'InvalidClusterIdError';
}

export function checkClusterId(cluster: string): string {
  if (!CLUSTER_ID.test(cluster)) {
    throw new InvalidClusterIdError(
      `invalid cluster id "${cluster}": use 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return cluster;
}

/** Where a cluster's sync state lives: a sibling of the document, so readers of the document never see it. */
const STATE_INFIX = '.kube-zk-sync.';
export const syncStatePath = (documentPath: string, cluster: string) =>
  `${documentPath}${STATE_INFIX}${checkClusterId(cluster)}`;

/** ZooKeeper denies this client's identity a cluster's sync state: only the state's writers read it. */
export class SyncStateAccessError extends ZkError {
  override readonly name = 'SyncStateAccessError';
  readonly cluster: string;
  constructor(message: string, cluster: string, options: ErrorOptions) {
    super(message, Codes.NO_AUTH, options);
    this.cluster = cluster;
  }
}

/** A sync state that this client may not read, as a read that goes on without it reports it. */
export interface UnreadableState {
  readonly cluster: string;
  readonly message: string;
}

/**
 * Runs `work`, and turns ZooKeeper's denial of the sync state `path` into the error that says which identity it
 * takes. ZooKeeper shows a znode's ACL only to those who may read it, so the identity is named by its role.
 */
async function withStateAccess<T>(
  zk: ZkStore,
  path: string,
  cluster: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof AccessDeniedError) || error.path !== path) throw error;
    const who = zk.identity === undefined ? 'a client without an identity' : `digest user "${zk.identity}"`;
    throw new SyncStateAccessError(
      `ZooKeeper denies ${who} the sync state ${path}: only its writers may read it (it lists Services that the ` +
        `filters exclude); authenticate as the digest identity that cluster "${cluster}" writes with (the ` +
        'credentials its stack reads from ZK_AUTH_SSM_PARAMETER or ZK_AUTH_SECRET_ID; --auth or --auth-file on ' +
        `the CLI), or have a ZooKeeper admin add ${who} to that znode's ACL`,
      cluster,
      { cause: error },
    );
  }
}

const unreadableState = (path: string, error: unknown) =>
  `the sync state ${path} cannot be read (${messageOf(error)})`;

/**
 * The sync state as a step may use it. A state that cannot be read, or that is missing while the document holds
 * this cluster's entries, cannot tell a late event from a new one: a complete list (a reconcile) starts it afresh,
 * anything else is refused with the znode and the way out, so that no deleted Service comes back meanwhile.
 */
function readState(
  data: Buffer | null,
  document: RegistryDocument,
  cluster: string,
  path: string,
  options: { complete?: unknown; resetState?: string },
): { state: SyncState; resetState?: string } {
  const rebuild =
    'the reconcile rebuilds it from its complete list: wait for the scheduled one, or run `kube-zk-sync reconcile --reset-state`';
  let problem: string | undefined;
  let state = emptySyncState;
  try {
    state = parseSyncState(data);
  } catch (error) {
    problem = unreadableState(path, error);
  }
  if (data === null && document.entries.some((e) => serviceBehind(e, cluster) !== undefined)) {
    problem = `the sync state ${path} is missing, but the document holds entries of cluster "${cluster}"`;
  }
  if (options.resetState) return { state, resetState: options.resetState };
  if (problem === undefined) return { state };
  if (options.complete) return { state, resetState: problem };
  throw new SyncStateError(`${problem}; ${rebuild}`);
}

export interface DocumentRead {
  readonly document: RegistryDocument;
  /** -1 when the znode does not exist yet. */
  readonly version: number;
  readonly bytes: number;
}

export interface ApplyOptions<T>
  extends Omit<StepInput<T>, 'document' | 'state' | 'observations' | 'owner' | 'now'> {
  readonly dryRun?: boolean;
}

export interface AppliedStep<T> extends PlannedStep<T> {
  readonly written: boolean;
  readonly attempts: number;
  readonly version: number;
  /** The document's size after the step, and the sync state's: together they are one ZooKeeper request. */
  readonly bytes: number;
  readonly stateBytes: number;
}

export class ZkRegistryStore {
  readonly path: string;
  private readonly zk: ZkStore;

  constructor(zk: ZkStore, path: string) {
    const problem = znodePathProblem(path);
    if (problem) throw new Error(`invalid registry path: ${problem}`);
    this.zk = zk;
    this.path = path;
  }

  close(): void {
    this.zk.close();
  }

  /**
   * Calls `onVersion` for every new version of the document. A version that does not parse is reported with its
   * error instead of a document, so a watcher never shows a corrupt document as if it were the registry.
   */
  watch(
    onVersion: (version: {
      document?: RegistryDocument;
      error?: Error;
      version: number;
      bytes: number;
    }) => void,
    onError?: (error: Error) => void,
  ): () => void {
    return watchZnode(
      this.zk,
      this.path,
      ({ data, version }) => {
        let parsed: { document: RegistryDocument } | { error: Error };
        try {
          parsed = { document: parseDocument(data ?? '') };
        } catch (error) {
          parsed = { error: error as Error };
        }
        onVersion({ ...parsed, version, bytes: data?.length ?? 0 });
      },
      onError,
    );
  }

  /**
   * What other writers did to `cluster`'s entries, read without writing: the damage a sync would find, or why the
   * sync state cannot be used. A cheap check (two reads) that decides whether a reconcile is needed.
   */
  async inspect(cluster: string): Promise<{ damage: readonly Damage[]; stateProblem?: string }> {
    const statePath = syncStatePath(this.path, cluster);
    const [doc, state] = await withStateAccess(this.zk, statePath, cluster, () =>
      Promise.all([this.zk.read(this.path), this.zk.read(statePath)]),
    );
    const document = parseDocument(doc.data ?? '');
    try {
      const read = readState(state.data, document, cluster, statePath, {});
      return { damage: inspectDocument(document, read.state, cluster, Date.now()).damage };
    } catch (error) {
      return { damage: [], stateProblem: (error as Error).message };
    }
  }

  /** Every cluster's sync state beside the document (a state that does not parse is reported, not skipped). */
  async clusterStates(): Promise<ClusterState[]> {
    return (await this.readStates(false)).states;
  }

  /**
   * The sync states; with `skipUnreadable`, those that this client's identity may not read are left out and listed
   * in `unreadable` instead of failing the read.
   */
  private async readStates(
    skipUnreadable: boolean,
  ): Promise<{ states: ClusterState[]; unreadable: UnreadableState[] }> {
    const prefix = `${posix.basename(this.path)}${STATE_INFIX}`;
    const names = (await this.zk.children(posix.dirname(this.path)))
      .filter((n) => n.startsWith(prefix))
      .sort();
    const read = await Promise.all(
      names.map(async (name): Promise<ClusterState | UnreadableState> => {
        const path = posix.join(posix.dirname(this.path), name);
        const cluster = name.slice(prefix.length);
        let data: Buffer | null;
        try {
          ({ data } = await withStateAccess(this.zk, path, cluster, () => this.zk.read(path)));
        } catch (error) {
          if (skipUnreadable && error instanceof SyncStateAccessError)
            return { cluster, message: error.message };
          throw error;
        }
        try {
          return { cluster, state: parseSyncState(data) };
        } catch (error) {
          throw new SyncStateError(
            `${unreadableState(path, error)}; run \`kube-zk-sync reconcile --reset-state\` for that cluster`,
          );
        }
      }),
    );
    return {
      states: read.filter((r): r is ClusterState => 'state' in r),
      unreadable: read.filter((r): r is UnreadableState => 'message' in r),
    };
  }

  /**
   * The document with every entry a cluster manages shown as that cluster's, marker or not. With
   * `skipUnreadableStates`, a state this client may not read is listed in `unreadable`, and the entries of that
   * cluster whose marker another writer dropped show as hand-made: enough to show the document, not to edit it.
   */
  async readWithManagers(
    options: { skipUnreadableStates?: boolean } = {},
  ): Promise<DocumentRead & { states: ClusterState[]; unreadable: UnreadableState[] }> {
    const [read, { states, unreadable }] = await Promise.all([
      this.read(),
      this.readStates(options.skipUnreadableStates === true),
    ]);
    return { ...read, document: withManagers(read.document, states), states, unreadable };
  }

  /**
   * Makes the entry `name` hand-made (`registry adopt`): the marker goes, the reader fields stay, and the managing
   * cluster's state no longer owns it, in one compare-and-set of both; that cluster then reports a conflict.
   */
  async adopt(name: string): Promise<Adoption & { version: number }> {
    const { document, states } = await this.readWithManagers();
    const { cluster } = adoptEntry(document, states, name);
    const others = states.filter((s) => s.cluster !== cluster);
    const outcome = await this.updateWithState(cluster, ([doc, state]) => {
      const adoption = adoptEntry(
        parseDocument(doc ?? ''),
        [{ cluster, state: parseSyncState(state ?? null) }, ...others],
        name,
      );
      return {
        data: [
          Buffer.from(serializeDocument(adoption.document)),
          state && adoption.state ? Buffer.from(serializeSyncState(adoption.state)) : undefined,
        ],
        result: adoption,
      };
    });
    return { ...outcome.result, version: outcome.versions[0] as number };
  }

  /**
   * Lets every cluster forget that it removed an entry named `name` (see `forgetReleased`), each state with
   * compare-and-set: what a person does before registering that name by hand.
   */
  async forgetReleased(name: string): Promise<string[]> {
    const clusters = (await this.clusterStates())
      .filter((s) => s.state.released?.[name])
      .map((s) => s.cluster);
    for (const cluster of clusters) {
      await this.zk.update([syncStatePath(this.path, cluster)], ([data]) => {
        const state = parseSyncState(data ?? null);
        const next = forgetReleased(state, name);
        return {
          data: [next === state ? undefined : Buffer.from(serializeSyncState(next))],
          result: undefined,
        };
      });
    }
    return clusters;
  }

  /**
   * Removes every entry of `cluster` (`registry purge`), those its marker names and those its state owns, with
   * compare-and-set; then its sync state, if nobody wrote it meanwhile. A dry run only says what would go.
   */
  async purge(
    cluster: string,
    options: { dryRun?: boolean } = {},
  ): Promise<Purge & { stateRemoved: boolean }> {
    const statePath = syncStatePath(this.path, cluster);
    const outcome = await this.updateWithState(cluster, ([doc, state]) => {
      // A state that does not parse is removed all the same: the markers alone then say what was the cluster's.
      let known: SyncState | undefined;
      try {
        known = parseSyncState(state ?? null);
      } catch {
        known = undefined;
      }
      const purge = purgeCluster(parseDocument(doc ?? ''), cluster, known);
      const data = options.dryRun ? undefined : Buffer.from(serializeDocument(purge.document));
      return { data: [data, undefined], result: purge };
    });
    const stateVersion = outcome.versions[1] as number;
    const stateRemoved =
      !options.dryRun && stateVersion >= 0 && (await this.zk.remove(statePath, stateVersion));
    return { ...outcome.result, stateRemoved };
  }

  /**
   * A compare-and-set of the document and `cluster`'s sync state; a state it creates is readable by its writers
   * only.
   */
  private updateWithState<R>(
    cluster: string,
    change: (current: ReadonlyArray<Buffer | null>) => Writes<R>,
  ): Promise<UpdateOutcome<R>> {
    const statePath = syncStatePath(this.path, cluster);
    return withStateAccess(this.zk, statePath, cluster, () =>
      this.zk.update([this.path, statePath], change, { privatePaths: [statePath] }),
    );
  }

  async read(): Promise<DocumentRead> {
    const { data, version } = await this.zk.read(this.path);
    return { document: parseDocument(data ?? ''), version, bytes: data?.length ?? 0 };
  }

  /** Applies `edit` to the document with compare-and-set; `edit` returns undefined to leave it as it is. */
  async modify<R>(edit: (doc: RegistryDocument) => { document?: RegistryDocument; result: R }): Promise<{
    written: boolean;
    version: number;
    result: R;
  }> {
    const outcome = await this.zk.update([this.path], ([data]) => {
      const { document, result } = edit(parseDocument(data ?? ''));
      return { data: [document ? Buffer.from(serializeDocument(document)) : undefined], result };
    });
    return { written: outcome.written, version: outcome.versions[0] as number, result: outcome.result };
  }

  /**
   * Applies what `cluster` observed as one step (lib/registry/step.ts): the document and the cluster's sync state
   * change together or not at all. `observations` may be a function of the document and state read, evaluated
   * again on every compare-and-set attempt.
   */
  async applyObservations<T>(
    cluster: string,
    observations:
      | readonly Observation<T>[]
      | ((document: RegistryDocument, state: SyncState) => Observation<T>[]),
    options: ApplyOptions<T>,
  ): Promise<AppliedStep<T>> {
    const statePath = syncStatePath(this.path, cluster);
    const now = Date.now();
    let bytes = 0;
    let stateBytes = 0;
    const outcome = await this.updateWithState(cluster, ([docData, stateData]) => {
      const document = parseDocument(docData ?? '');
      const { state, resetState } = readState(stateData ?? null, document, cluster, statePath, options);
      const step = planStep({
        ...options,
        ...(resetState ? { resetState } : {}),
        document,
        state,
        observations: typeof observations === 'function' ? observations(document, state) : observations,
        owner: cluster,
        now,
      });
      const doc = step.changed ? Buffer.from(serializeDocument(step.document)) : undefined;
      bytes = doc?.length ?? docData?.length ?? 0;
      if (options.dryRun || step.refused) {
        stateBytes = stateData?.length ?? 0;
        return { data: [undefined, undefined], result: step };
      }
      const stateText = Buffer.from(serializeSyncState(step.state));
      stateBytes = stateText.length;
      return { data: [doc, stateText], result: step };
    });
    return {
      ...outcome.result,
      written: outcome.written,
      attempts: outcome.attempts,
      version: outcome.versions[0] as number,
      bytes,
      stateBytes,
    };
  }
}
