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
import { type Env, parseRegistryConfig, type RegistryConfig } from '../config/config.ts';
import { Forwarder, type ForwarderOptions } from '../forwarder/forwarder.ts';
import { type Logger as ForwarderLogger, silentLogger } from '../forwarder/log.ts';
import { serviceListApiFor } from '../kube/connect.ts';
import { LocalEventBridge } from '../local/eventbridge/server.ts';
import { rulePatternsFromServerlessYml } from '../local/eventbridge/serverless-rules.ts';
import { LocalQueue, type LocalQueueOptions } from '../local/queue.ts';
import { type ReconcileResult, reconcile } from '../reconcile/reconcile.ts';
import { clusterList } from '../reconcile/request.ts';
import type { SyncBatchReport } from '../sync/batch.ts';
import { registryFromConfig, registryTarget } from '../sync/target.ts';
import type { ZkRegistryStore } from '../zk/registry-store.ts';
import type { ZkStore } from '../zk/store.ts';

export const SERVERLESS_YML = fileURLToPath(new URL('../../serverless.yml', import.meta.url));
export const EVENT_BUS = 'kube-zk-sync-local';

export interface LocalPipelineOptions {
  readonly kubeConfig: KubeConfig;
  readonly zkConnect: string;
  readonly registryPath: string;
  readonly clusterId: string;
  /** Further settings as the Lambdas read them (POLICY, NAMESPACES_ALLOW, …). */
  readonly env?: Env;
  /** The SQS trigger: batch size, batching window (the debounce), concurrency, duplicates, order. */
  readonly queue?: LocalQueueOptions;
  /** Milliseconds between reconciles; 0 or absent: only reconcileNow(). */
  readonly reconcileEveryMs?: number;
  /** How many forwarders watch at once (production runs two). */
  readonly forwarders?: number;
  readonly forwarder?: Partial<Pick<ForwarderOptions, 'watch' | 'send' | 'logger'>>;
  readonly eventBridgeSeed?: number;
  /** Wraps the sync handler, e.g. to make an invocation die. */
  readonly wrapSync?: (handler: SyncInvoke) => SyncInvoke;
  readonly onSyncReport?: (report: SyncBatchReport) => void;
  readonly onReconcile?: (result: ReconcileResult | Error) => void;
}

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
  private readonly store: ZkStore;
  private readonly options: LocalPipelineOptions;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<unknown> = Promise.resolve();

  private constructor(options: LocalPipelineOptions, eventBridge: LocalEventBridge) {
    this.options = options;
    this.eventBridge = eventBridge;
    this.config = parseRegistryConfig({
      ...options.env,
      ZK_CONNECT: options.zkConnect,
      REGISTRY_PATH: options.registryPath,
      CLUSTER_ID: options.clusterId,
    });
    const { store, registry } = registryFromConfig(this.config);
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
    return pipeline;
  }

  private run(): void {
    // What the rule routes to the queue target arrives as the SQS message body, as EventBridge sends it.
    this.eventBridge.subscribe((delivery) => this.queue.send(JSON.stringify(delivery.event)));
    const handler = createSyncHandler({
      config: this.config,
      registry: async () => this.registry,
      ...quietPowertools(),
      onReport: (report) => this.options.onSyncReport?.(report),
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
        void this.reconcileNow().catch(() => {});
      }, every);
    }
  }

  /** One reconcile now (after any that is running), with the same configuration as the sync. */
  reconcileNow(options: { dryRun?: boolean; force?: boolean } = {}): Promise<ReconcileResult> {
    const run = this.reconciling.then(() =>
      reconcile({
        registry: this.registry,
        target: registryTarget(this.config),
        list: clusterList(serviceListApiFor(this.options.kubeConfig), 500),
        maxDeleteShare: this.config.maxDeleteShare,
        ...options,
      }),
    );
    this.reconciling = run.catch(() => {});
    run.then(
      (result) => this.options.onReconcile?.(result),
      (error: Error) => this.options.onReconcile?.(error),
    );
    return run;
  }

  /** True when every forwarder has sent what it saw and the queue holds nothing. */
  get settled(): boolean {
    return this.forwarders.every((f) => f.ready && f.pending === 0 && f.inFlight === 0) && this.queue.idle;
  }

  async stop(): Promise<void> {
    clearInterval(this.reconcileTimer);
    await Promise.all(this.forwarders.map((f) => f.stop({ flushMs: 2000 })));
    await this.reconciling;
    await this.queue.stop();
    await this.eventBridge.stop();
    this.store.close();
  }
}
