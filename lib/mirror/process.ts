// The mirror as one running process: the document watch, the Lease election, the sync loop and the health server,
// started together and stopped together (a leader releases its Lease on the way out, so the other replica takes over
// at once instead of after the lease duration). The CLI command, `kube-zk-sync dev` and the tests all start it here.
import type { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector, leaseApi } from '../kube/leader-election.ts';
import { describeError } from '../util/errors.ts';
import { type HealthServer, startHealthServer } from '../util/health-server.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import type { MirrorConfig } from './config.ts';
import { mirrorKubeApi } from './kube.ts';
import { MirrorMetrics } from './metrics.ts';
import { type DocumentSource, Mirror } from './mirror.ts';

/** Deadline of each API call of the mirror (list page, apply, delete, Lease read and write). */
export const MIRROR_CALL_TIMEOUT_MS = 10_000;

export interface MirrorProcess {
  readonly mirror: Mirror;
  readonly elector: LeaderElector;
  readonly metrics: MirrorMetrics;
  /** Undefined when started without one (port null). */
  readonly health?: HealthServer;
  stop(): Promise<void>;
}

export type MirrorProcessConfig = Omit<
  MirrorConfig,
  'port' | 'logLevel' | 'sessionTimeoutMs' | 'kubeconfig'
> & {
  /** null: no health server. */
  readonly port: number | null;
};

export async function startMirrorProcess(options: {
  readonly config: MirrorProcessConfig;
  readonly source: DocumentSource;
  readonly kubeConfig: KubeConfig;
  readonly logger?: Logger;
  /** Node's process metrics in the registry (once per process). */
  readonly processMetrics?: boolean;
}): Promise<MirrorProcess> {
  const { config } = options;
  const log = options.logger ?? silentLogger;
  const metrics = new MirrorMetrics({ processMetrics: options.processMetrics ?? false });
  let mirror: Mirror | undefined;
  const elector = new LeaderElector({
    api: leaseApi(options.kubeConfig, config.namespace, config.leaseName, MIRROR_CALL_TIMEOUT_MS),
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    observer: {
      startedLeading: (transitions) => {
        log.info('leading: this replica writes', { identity: config.identity, transitions });
        mirror?.nudge();
      },
      stoppedLeading: (reason) => {
        log.warn('not leading any more: this replica stops writing', { reason });
        mirror?.nudge();
      },
      newLeader: (holder) => log.info('following', { leader: holder }),
      failed: (error) => log.warn('lease election failed; retrying', { error: describeError(error) }),
    },
  });
  mirror = new Mirror({
    ...config,
    source: options.source,
    kube: mirrorKubeApi(options.kubeConfig, config.namespace, MIRROR_CALL_TIMEOUT_MS),
    leadership: elector,
    logger: log,
    metrics,
  });
  const running = mirror;
  let health: HealthServer | undefined;
  if (config.port !== null) {
    health = await startHealthServer(
      {
        get healthy() {
          return running.healthy;
        },
        get ready() {
          return running.ready;
        },
        get notReadyReason() {
          return running.notReadyReason;
        },
        get unhealthyReason() {
          return running.unhealthyReason;
        },
        metrics,
      },
      { port: config.port },
    );
  }
  running.start();
  elector.start();
  return {
    mirror: running,
    elector,
    metrics,
    ...(health ? { health } : {}),
    async stop() {
      // The sync loop first, so nothing is written after the Lease is released.
      await running.stop();
      await elector.stop();
      await health?.close();
    },
  };
}
