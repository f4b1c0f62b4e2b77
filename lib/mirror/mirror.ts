// The mirror process: follows the registry document through a ZooKeeper watch (every replica, so a follower is warm)
// and, while it leads, keeps the namespace as the document asks. Level-triggered: each sync plans from the latest
// valid document against the namespace as last listed (updated by the mirror's own writes, and listed afresh on
// taking the lead, after a failed write and every resync period), so a missed event costs nothing and a restart is
// an ordinary event. Nothing is planned from a document that is missing, unreadable or corrupt.
import type { RegistryDocument } from '../registry/document.ts';
import { Backoff } from '../util/backoff.ts';
import { describeError } from '../util/errors.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { desiredObjects, instanceLabel, type MirrorSelection } from './desired.ts';
import type { MirrorKubeApi } from './kube.ts';
import type { MirrorMetrics } from './metrics.ts';
import { type MirrorAction, type MirrorPlan, type ObservedNamespace, planMirror } from './plan.ts';

/** A version of the document as the watch delivers it (ZkRegistryStore.watch). */
export interface DocumentVersion {
  readonly document?: RegistryDocument;
  readonly error?: Error;
  /** -1 while the znode does not exist. */
  readonly version: number;
}

export interface DocumentSource {
  /** Calls `onVersion` with each new version; returns the function that stops it. */
  watch(onVersion: (v: DocumentVersion) => void, onError?: (error: Error) => void): () => void;
}

export interface Leadership {
  readonly isLeader: boolean;
}

export interface MirrorOptions extends MirrorSelection {
  readonly source: DocumentSource;
  readonly kube: MirrorKubeApi;
  readonly leadership: Leadership;
  readonly prune: boolean;
  readonly maxDeleteShare: number;
  /** List the namespace afresh at least this often (heals objects someone else deleted or changed). */
  readonly resyncMs: number;
  /** Applies and deletes in flight at once. */
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly metrics?: MirrorMetrics;
}

type Phase = (a: MirrorAction) => boolean;
/** Services, then their slices; stale slices, then Services: nothing points at a Service that is not there. */
const PHASES: readonly Phase[] = [
  (a) => a.kind === 'apply' && a.object.kind === 'Service',
  (a) => a.kind === 'apply' && a.object.kind === 'EndpointSlice',
  (a) => a.kind === 'delete' && a.target.kind === 'EndpointSlice',
  (a) => a.kind === 'delete' && a.target.kind === 'Service',
];

class LostLeadership extends Error {}

const IDLE_CHECK_MS = 1_000;

export class Mirror {
  readonly #o: MirrorOptions;
  readonly #log: Logger;
  #latest: DocumentVersion | undefined;
  /** The namespace as last listed, with the mirror's own writes since. */
  #observed: ObservedNamespace | undefined;
  #listedAt = 0;
  #dirty = true;
  #wasLeader = false;
  #ready = false;
  #healthy = true;
  #stopped = false;
  #wake: () => void = () => {};
  #stopWatch: () => void = () => {};
  #loop: Promise<void> | undefined;
  /** The document version last applied completely, and the last plan. */
  #synced: number | undefined;
  #lastPlan: MirrorPlan | undefined;
  #lastReport = '';

  constructor(options: MirrorOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
  }

  get ready(): boolean {
    return this.#ready;
  }
  get healthy(): boolean {
    return this.#healthy;
  }
  get notReadyReason(): string {
    return this.#latest === undefined
      ? 'waiting for the first read of the registry document'
      : 'waiting for the first complete sync';
  }
  get unhealthyReason(): string {
    return 'the mirror loop stopped';
  }
  /** The version of the document last mirrored completely (undefined before the first sync as leader). */
  get syncedVersion(): number | undefined {
    return this.#synced;
  }
  get lastPlan(): MirrorPlan | undefined {
    return this.#lastPlan;
  }

  /** Wakes the loop: leadership changed, or anything else that calls for a sync now. */
  nudge(): void {
    this.#wake();
  }

  start(): void {
    if (this.#loop) return;
    this.#stopWatch = this.#o.source.watch(
      (v) => {
        this.#o.metrics?.documentVersion(v.version);
        if (v.error) {
          this.#o.metrics?.documentError();
          this.#log.error('the registry document does not parse; nothing is changed until it does', {
            version: v.version,
            error: v.error,
          });
        } else if (v.version < 0) {
          this.#log.warn('the registry document does not exist; nothing is changed until it does');
        }
        this.#latest = v;
        this.#wake();
      },
      (error) => {
        this.#o.metrics?.documentError();
        this.#log.warn('reading the registry document failed; retrying', { error });
      },
    );
    this.#loop = this.#run().catch((error: unknown) => {
      this.#healthy = false;
      this.#log.error('the mirror loop stopped', { error });
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopWatch();
    this.#wake();
    await this.#loop;
  }

  #setReady(): void {
    if (this.#ready) return;
    this.#ready = true;
    this.#o.metrics?.readiness(true);
  }

  async #run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
    while (!this.#stopped) {
      const leader = this.#o.leadership.isLeader;
      if (leader !== this.#wasLeader) {
        this.#wasLeader = leader;
        this.#o.metrics?.leading(leader);
        // A new leader trusts nothing it listed before: the other replica wrote meanwhile.
        this.#dirty = true;
        this.#synced = undefined;
      }
      const latest = this.#latest;
      const valid = latest?.document !== undefined && latest.version >= 0;
      // A follower is ready once it holds a valid document: it would take over warm.
      if (!leader && valid) this.#setReady();
      // Leadership is also looked at without a nudge, so a lease lost silently shows within a second.
      let wait = Math.min(this.#o.resyncMs, IDLE_CHECK_MS);
      let failed = false;
      if (leader && valid && latest.document) {
        const due = this.#dirty || Date.now() - this.#listedAt >= this.#o.resyncMs;
        if (due || this.#synced !== latest.version) {
          try {
            await this.#sync(latest.document, latest.version, due);
            backoff.reset();
            this.#setReady();
          } catch (error) {
            this.#dirty = true;
            if (error instanceof LostLeadership) {
              this.#o.metrics?.synced('lost-lease');
              this.#log.warn('lost the lease during a sync; stopped writing');
              continue;
            }
            this.#o.metrics?.synced('error');
            failed = true;
            wait = backoff.next();
            this.#log.warn('sync failed; retrying', { error: describeError(error), retryInMs: wait });
          }
        }
      }
      if (this.#latest !== latest && !failed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = () => {};
    }
  }

  async #sync(document: RegistryDocument, version: number, relist: boolean): Promise<void> {
    if (relist || !this.#observed) {
      try {
        this.#observed = await this.#o.kube.list();
      } catch (error) {
        this.#o.metrics?.listFailed();
        throw error;
      }
      this.#listedAt = Date.now();
      this.#dirty = false;
    }
    const desired = desiredObjects(document, this.#o);
    const plan = planMirror(desired, this.#observed, {
      instance: instanceLabel(this.#o.clusterId),
      prune: this.#o.prune,
      maxDeleteShare: this.#o.maxDeleteShare,
    });
    this.#lastPlan = plan;
    this.#o.metrics?.found({
      entries: document.entries.length,
      mirrored: desired.mirrored.length,
      unmirrorable: plan.unmirrorable.length,
      conflicts: plan.conflicts.length,
      held: plan.held !== undefined,
    });
    this.#report(plan);
    const services = new Map(this.#observed.services.map((o) => [o.name, o]));
    const slices = new Map(this.#observed.slices.map((o) => [o.name, o]));
    try {
      for (const phase of PHASES) {
        await this.#each(plan.actions.filter(phase), async (action) => {
          if (!this.#o.leadership.isLeader || this.#stopped) throw new LostLeadership();
          if (action.kind === 'apply') {
            const written = await this.#o.kube.apply(action.object);
            (written.kind === 'Service' ? services : slices).set(written.name, written);
            this.#o.metrics?.written(action.object.kind);
            this.#log.info(`${action.why === 'create' ? 'created' : 'updated'} ${action.object.kind}`, {
              name: action.object.metadata.name,
              entry: action.entry,
            });
          } else {
            const { kind, name } = action.target;
            const deleted = await this.#o.kube.delete(action.target);
            (kind === 'Service' ? services : slices).delete(name);
            if (deleted) this.#o.metrics?.deleted(kind);
            this.#log.info(`deleted ${kind}`, { name, why: action.why });
          }
        });
      }
    } catch (error) {
      if (!(error instanceof LostLeadership)) this.#o.metrics?.writeFailed();
      throw error;
    } finally {
      this.#observed = { services: [...services.values()], slices: [...slices.values()] };
    }
    this.#synced = version;
    this.#o.metrics?.synced('ok');
  }

  /** Logs what is not mirrored, once per change of it, not at every sync. */
  #report(plan: MirrorPlan): void {
    const text = JSON.stringify([plan.unmirrorable, plan.conflicts, plan.held]);
    if (text === this.#lastReport) return;
    this.#lastReport = text;
    for (const u of plan.unmirrorable)
      this.#log.warn('entry not mirrored', { entry: u.entry, reason: u.reason });
    for (const c of plan.conflicts)
      this.#log.warn('conflict: not written', {
        entry: c.entry,
        kind: c.kind,
        name: c.name,
        reason: c.reason,
      });
    if (plan.held) this.#log.error('deletions held', { reason: plan.held });
  }

  async #each(actions: readonly MirrorAction[], work: (a: MirrorAction) => Promise<void>): Promise<void> {
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < actions.length) {
        const action = actions[next++] as MirrorAction;
        try {
          await work(action);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency ?? 8, actions.length) }, worker));
    // The sync loop logs it once, with the retry it schedules.
    if (failure !== undefined) throw failure;
  }
}
