// The whole pipeline in one process: forwarder(s) → local EventBridge (the rule from serverless.yml) → a queue that
// batches like the SQS trigger → the real sync handler → ZooKeeper, and the reconcile on a timer. `kube-zk-sync
// dev`, the end-to-end suite and the benchmarks run this, so what they show is what the deployed parts do.
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createSyncHandler } from '../../functions/sync-handler.ts';
import { parseRegistryConfig, type RegistryConfig } from '../config/config.ts';
import { Forwarder, type ForwarderOptions } from '../forwarder/forwarder.ts';
import { kubeConnectionFor, serviceListApiFor } from '../kube/connect.ts';
import { kubeHttp } from '../kube/service-events.ts';
import { LocalEventBridge } from '../local/eventbridge/server.ts';
import { rulePatternsFromServerlessYml } from '../local/eventbridge/serverless-rules.ts';
import { LocalQueue, type LocalQueueOptions } from '../local/queue.ts';
import { parseMirrorConfig } from '../mirror/config.ts';
import { type MirrorProcess, startMirrorProcess } from '../mirror/process.ts';
import {
  type DamageCheck,
  type ReconcileResult,
  reconcile,
  reconcileIfDamaged,
} from '../reconcile/reconcile.ts';
import { clusterList } from '../reconcile/request.ts';
import type { SyncBatchResult } from '../sync/batch.ts';
import type { ServiceEventsSink } from '../sync/owner-events.ts';
import { eventBridgeReconcileRequester } from '../sync/reconcile-requests.ts';
import { registryFromConfig, registryTarget } from '../sync/target.ts';
import { LIST_PAGE_SIZE } from '../util/defaults.ts';
import { type Logger as ForwarderLogger, silentLogger } from '../util/log.ts';
import type { Env } from '../util/settings.ts';
import type { ZkRegistryStore } from '../zk/registry-store.ts';
import type { DigestCredentials } from '../zk/session.ts';
import type { ZkStore } from '../zk/store.ts';

export const SERVERLESS_YML = fileURLToPath(new URL('../../serverless.yml', import.meta.url));
export const EVENT_BUS = 'kube-zk-sync-local';

export interface LocalPipelineOptions {
  readonly kubeConfig: KubeConfig;
  /** Where the Events on Services are written (default: the cluster of `kubeConfig`), e.g. through a fault proxy. */
  readonly eventsKubeConfig?: KubeConfig;
  readonly zkConnect: string;
  readonly registryPath: string;
  readonly clusterId: string;
  /** Further settings as the Lambdas read them (POLICY, NAMESPACES_ALLOW, …). */
  readonly env?: Env;
  /**
   * The digest identity the sync and the reconcile write as, as the deployed ones do; without one the pipeline asks
   * for open znodes (ZK_OPEN_ACL=true), which suits a local ZooKeeper only.
   */
  readonly auth?: DigestCredentials;
  /** The SQS trigger: batch size, batching window (the debounce), concurrency, duplicates, order. */
  readonly queue?: LocalQueueOptions;
  /** Milliseconds between reconciles; 0 or absent: only reconcileNow(). */
  readonly reconcileEveryMs?: number;
  /** Milliseconds between damage checks (a reconcile only when other writers damaged the cluster's entries). */
  readonly damageCheckEveryMs?: number;
  /** How many forwarders watch at once (production runs two). */
  readonly forwarders?: number;
  readonly forwarder?: Partial<Pick<ForwarderOptions, 'watch' | 'send' | 'logger'>>;
  readonly eventBridgeSeed?: number;
  /** Wraps the sync handler, e.g. to make an invocation die. */
  readonly wrapSync?: (handler: SyncInvoke) => SyncInvoke;
  readonly onSyncReport?: (result: SyncBatchResult) => void;
  /** Each reconcile's result, and why it ran (a timer, a sync's request, a damage check, a person). */
  readonly onReconcile?: (result: ReconcileResult | Error, why: string) => void;
  /** Run the mirror too: the hand-made entries as Services in `namespace` of the same cluster. */
  readonly mirror?: { readonly namespace: string; readonly logger?: ForwarderLogger };
}

type ReconcileOptions = { dryRun?: boolean; force?: boolean; resetState?: boolean };

/** The rule of serverless.yml that routes a sync's reconcile requests to the reconcile. */
const RECONCILE_REQUESTS_RULE = 'ReconcileRequestsRule';

export type SyncInvoke = (records: SQSRecord[]) => Promise<SQSBatchResponse>;

/** The Lambda context the handler sees: a generous deadline, as the deployed timeout gives. */
function localContext(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'kube-zk-sync-sync-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:kube-zk-sync-sync-local',
    memoryLimitInMB: '512',
    awsRequestId: `local-${deadline}`,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Powertools that print nothing: the pipeline reports through its callbacks instead. */
function quietPowertools(): { logger: Logger; metrics: Metrics } {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const metrics = new Metrics({ namespace: 'KubeZkSyncLocal', serviceName: 'kube-zk-sync', logger: silent });
  // EMF lines would flood the terminal; the counts arrive through onReport.
  (metrics as unknown as { disabled: boolean }).disabled = true;
  return { logger: new Logger({ logLevel: 'SILENT' }), metrics };
}

export class LocalPipeline {
  readonly eventBridge: LocalEventBridge;
  readonly queue: LocalQueue;
  readonly forwarders: Forwarder[];
  readonly registry: ZkRegistryStore;
  readonly config: RegistryConfig;
  /** The mirror, when the options ask for it. */
  mirror: MirrorProcess | undefined;
  private readonly store: ZkStore;
  private readonly options: LocalPipelineOptions;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<unknown> = Promise.resolve();

  private constructor(options: LocalPipelineOptions, eventBridge: LocalEventBridge) {
    this.options = options;
    this.eventBridge = eventBridge;
    this.config = parseRegistryConfig({
      // A local ZooKeeper, without credentials: its znodes are open, as asked here and nowhere else.
      ZK_OPEN_ACL: 'true',
      ...options.env,
      ZK_CONNECT: options.zkConnect,
      REGISTRY_PATH: options.registryPath,
      CLUSTER_ID: options.clusterId,
    });
    const { store, registry } = registryFromConfig(this.config, options.auth);
    this.store = store;
    this.registry = registry;
    this.queue = new LocalQueue({ batchSize: 1000, windowMs: 1000, concurrency: 2, ...options.queue });
    const client = new EventBridgeClient({ ...eventBridge.clientConfig(), maxAttempts: 1 });
    this.forwarders = Array.from(
      { length: options.forwarders ?? 1 },
      () =>
        new Forwarder({
          clusterId: options.clusterId,
          eventBusName: EVENT_BUS,
          kubeConfig: options.kubeConfig,
          eventBridge: client,
          processMetrics: false,
          logger: options.forwarder?.logger ?? (silentLogger as ForwarderLogger),
          ...(options.forwarder?.watch ? { watch: options.forwarder.watch } : {}),
          ...(options.forwarder?.send ? { send: options.forwarder.send } : {}),
        }),
    );
  }

  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    const eventBridge = await LocalEventBridge.start({
      seed: options.eventBridgeSeed ?? 1,
      rules: rulePatternsFromServerlessYml(SERVERLESS_YML),
    });
    const pipeline = new LocalPipeline(options, eventBridge);
    pipeline.run();
    if (options.mirror) {
      // The mirror's defaults, as the deployed one runs with them, in the namespace asked for.
      const config = parseMirrorConfig(
        { clusterId: options.clusterId, namespace: options.mirror.namespace },
        {},
        'kube-zk-sync-dev',
      );
      pipeline.mirror = await startMirrorProcess({
        config: { ...config, port: null },
        source: pipeline.registry,
        kubeConfig: options.kubeConfig,
        ...(options.mirror.logger ? { logger: options.mirror.logger } : {}),
      });
    }
    return pipeline;
  }

  private run(): void {
    // Each rule of serverless.yml to its target: Service events to the queue (what the rule routes to it arrives
    // as the SQS message body, as EventBridge sends it), a sync's reconcile requests to the reconcile.
    this.eventBridge.subscribe((delivery) => {
      if (delivery.rule === RECONCILE_REQUESTS_RULE) {
        const reason = (delivery.event.detail as { reason?: string } | undefined)?.reason ?? 'a sync asked';
        void this.reconcileNow({}, `a sync asked: ${reason}`).catch(() => {});
      } else this.queue.send(JSON.stringify(delivery.event));
    });
    const handler = createSyncHandler({
      config: this.config,
      registry: async () => this.registry,
      events: this.eventsSink('sync'),
      ...quietPowertools(),
      onReport: (result) => this.options.onSyncReport?.(result),
      requestReconcile: eventBridgeReconcileRequester({
        eventBusName: EVENT_BUS,
        cluster: this.options.clusterId,
        client: this.eventBridge.clientConfig(),
      }),
    });
    const invoke: SyncInvoke = async (records) =>
      (await handler({ Records: records } satisfies SQSEvent, localContext(60_000))) ?? {
        batchItemFailures: [],
      };
    const sync = this.options.wrapSync ? this.options.wrapSync(invoke) : invoke;
    this.queue.start((records) => sync(records));
    for (const forwarder of this.forwarders) forwarder.start();
    const every = this.options.reconcileEveryMs ?? 0;
    if (every > 0) {
      this.reconcileTimer = setInterval(() => {
        void this.reconcileNow({}, 'the schedule').catch(() => {});
      }, every);
    }
    const check = this.options.damageCheckEveryMs ?? 0;
    if (check > 0) {
      this.checkTimer = setInterval(() => {
        void this.checkNow().catch(() => {});
      }, check);
    }
  }

  /**
   * Events on the cluster's Services, as the Lambdas write them on EKS, here with the kubeconfig's credentials
   * (SERVICE_EVENTS=false turns them off).
   */
  private eventsSink(workload: 'sync' | 'reconcile'): ServiceEventsSink {
    return {
      instance: `${workload}@${this.options.clusterId}`,
      settings: this.config.serviceEvents,
      http: async () => kubeHttp(kubeConnectionFor(this.options.eventsKubeConfig ?? this.options.kubeConfig)),
    };
  }

  private reconcileInput(options: ReconcileOptions) {
    return {
      registry: this.registry,
      events: this.eventsSink('reconcile'),
      target: registryTarget(this.config),
      list: clusterList(serviceListApiFor(this.options.kubeConfig), LIST_PAGE_SIZE),
      maxDeleteShare: this.config.maxDeleteShare,
      ...options,
    };
  }

  /** Runs `work` after any reconcile that is running, as the deployed reconcile's concurrency of one does. */
  private serialized<R>(work: () => Promise<R>): Promise<R> {
    const run = this.reconciling.then(work);
    this.reconciling = run.catch(() => {});
    return run;
  }

  /** One reconcile now (after any that is running), with the same configuration as the sync. */
  reconcileNow(options: ReconcileOptions = {}, why = 'asked for'): Promise<ReconcileResult> {
    const run = this.serialized(() => reconcile(this.reconcileInput(options)));
    run.then(
      (result) => this.options.onReconcile?.(result, why),
      (error: Error) => this.options.onReconcile?.(error, why),
    );
    return run;
  }

  /** One damage check now, as the deployed schedule runs it: a reconcile only when there is damage to repair. */
  checkNow(): Promise<DamageCheck> {
    const run = this.serialized(() => reconcileIfDamaged(this.reconcileInput({})));
    run.then(
      (check) => check.reconciled && this.options.onReconcile?.(check.reconciled, 'the damage check'),
      (error: Error) => this.options.onReconcile?.(error, 'the damage check'),
    );
    return run;
  }

  /** True when every forwarder has sent what it saw and the queue holds nothing. */
  get settled(): boolean {
    return this.forwarders.every((f) => f.ready && f.pending === 0 && f.inFlight === 0) && this.queue.idle;
  }

  async stop(): Promise<void> {
    clearInterval(this.reconcileTimer);
    clearInterval(this.checkTimer);
    await this.mirror?.stop();
    await Promise.all(this.forwarders.map((f) => f.stop({ flushMs: 2000 })));
    await this.reconciling;
    await this.queue.stop();
    await this.eventBridge.stop();
    this.store.close();
  }
}
