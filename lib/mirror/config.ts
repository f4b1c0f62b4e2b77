// The mirror's settings: a flag wins over its environment variable, which wins over the default; every problem is
// reported at once, naming the flag and the variable (as the forwarder's). The ZooKeeper options (--zk, --path,
// --auth-file, --timeout) are the CLI's shared ones.
import { timingsProblem } from '../kube/leader-election.ts';
import { LOG_LEVELS, type LogLevel } from '../util/log.ts';
import { type Env, PROCESS_SETTINGS, settingsFromFlags } from '../util/settings.ts';
import { checkClusterId, InvalidClusterIdError } from '../zk/registry-store.ts';

export class MirrorConfigError extends Error {
  override readonly name = 'MirrorConfigError';
}

export interface MirrorConfig {
  readonly clusterId: string;
  readonly namespace: string;
  readonly includeClusters: readonly string[];
  readonly prune: boolean;
  readonly maxDeleteShare: number;
  readonly kubeconfig?: string;
  readonly leaseName: string;
  /** This replica's name in the Lease (the pod name). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly resyncMs: number;
  readonly sessionTimeoutMs: number;
  readonly port: number;
  readonly concurrency: number;
  readonly logLevel: LogLevel;
}

export const MIRROR_SETTINGS = {
  clusterId: {
    flag: '--cluster-id',
    arg: 'id',
    env: 'CLUSTER_ID',
    help: "this cluster's id: its own entries are never mirrored, and it names the mirror's objects",
    required: true,
  },
  namespace: {
    flag: '--namespace',
    arg: 'namespace',
    env: 'MIRROR_NAMESPACE',
    help: 'the one namespace the Services, EndpointSlices and the Lease are written in',
    default: 'registry',
  },
  includeClusters: {
    flag: '--include-clusters',
    arg: 'ids',
    env: 'INCLUDE_CLUSTERS',
    help: "other clusters whose entries are mirrored too (comma list, or * for all); default: only people's entries",
  },
  prune: {
    flag: '--prune',
    arg: 'true|false',
    env: 'PRUNE',
    help: "delete the mirror's Services that no entry asks for; false for a first rollout",
    default: true,
  },
  maxDeleteShare: {
    flag: '--max-delete-share',
    arg: 'share',
    env: 'MAX_DELETE_SHARE',
    help: "hold deletions that would remove more than this share (0–1) of the mirror's Services",
    default: 0.5,
  },
  kubeconfig: PROCESS_SETTINGS.kubeconfig,
  leaseName: {
    flag: '--lease-name',
    arg: 'name',
    env: 'LEASE_NAME',
    help: 'the Lease the replicas elect their one writer with',
    default: 'kube-zk-sync-mirror',
  },
  identity: {
    flag: '--identity',
    arg: 'name',
    env: 'POD_NAME',
    help: "this replica's name in the Lease; default: the host name",
  },
  leaseDurationSeconds: {
    flag: '--lease-duration-seconds',
    arg: 'seconds',
    env: 'LEASE_DURATION_SECONDS',
    help: 'how long a lease holds; a follower takes over within this after the leader stops renewing',
    default: 15,
  },
  renewDeadlineSeconds: {
    flag: '--renew-deadline-seconds',
    arg: 'seconds',
    env: 'RENEW_DEADLINE_SECONDS',
    help: 'a leader that could not renew for this long stops writing',
    default: 10,
  },
  retryPeriodSeconds: {
    flag: '--retry-period-seconds',
    arg: 'seconds',
    env: 'RETRY_PERIOD_SECONDS',
    help: 'how often the leader renews and followers try',
    default: 2,
  },
  resyncSeconds: {
    flag: '--resync-seconds',
    arg: 'seconds',
    env: 'RESYNC_SECONDS',
    help: 'list the namespace afresh at least this often (repairs objects others changed or deleted)',
    default: 60,
  },
  sessionTimeoutSeconds: {
    flag: '--session-timeout-seconds',
    arg: 'seconds',
    env: 'ZK_SESSION_TIMEOUT_SECONDS',
    help: 'ZooKeeper session timeout: a connection silent this long is replaced',
    default: 15,
  },
  port: PROCESS_SETTINGS.port,
  concurrency: {
    flag: '--concurrency',
    arg: 'n',
    env: 'WRITE_CONCURRENCY',
    help: 'applies and deletes in flight at once',
    default: 8,
  },
  logLevel: { ...PROCESS_SETTINGS.logLevel, default: 'info' as LogLevel },
} as const;

export type MirrorFlags = Partial<Record<keyof typeof MIRROR_SETTINGS, string | undefined>>;

export function parseMirrorConfig(flags: MirrorFlags, env: Env, hostname: string): MirrorConfig {
  const S = MIRROR_SETTINGS;
  const settings = settingsFromFlags(S, flags, env);
  const clusterId = settings.required(S.clusterId.env, `set it to ${S.clusterId.help}`);
  if (clusterId) {
    try {
      checkClusterId(clusterId);
    } catch (error) {
      if (!(error instanceof InvalidClusterIdError)) throw error;
      settings.bad(S.clusterId.env, error.message.replace(/^invalid cluster id "[^"]*": /, ''));
    }
  }
  const namespace = settings.namespace(S.namespace.env) ?? S.namespace.default;
  const includeClusters = settings.list(S.includeClusters.env) ?? [];
  if (clusterId && includeClusters.includes(clusterId))
    settings.bad(S.includeClusters.env, "this cluster's own entries are never mirrored; leave its id out");
  const seconds = (
    key:
      | 'leaseDurationSeconds'
      | 'renewDeadlineSeconds'
      | 'retryPeriodSeconds'
      | 'resyncSeconds'
      | 'sessionTimeoutSeconds',
    min: number,
    max: number,
  ) => settings.integer(S[key].env, S[key].default, { min, max }) * 1000;
  const timings = {
    leaseDurationMs: seconds('leaseDurationSeconds', 2, 3600),
    renewDeadlineMs: seconds('renewDeadlineSeconds', 1, 3600),
    retryPeriodMs: seconds('retryPeriodSeconds', 1, 3600),
  };
  const config: MirrorConfig = {
    clusterId,
    namespace,
    includeClusters,
    prune: settings.boolean(S.prune.env, S.prune.default),
    maxDeleteShare: settings.decimal(S.maxDeleteShare.env, S.maxDeleteShare.default, {
      min: 0,
      max: 1,
      expected: 'use a share from 0 to 1 (0.5 allows deleting half of the Services at once)',
    }),
    ...(flags.kubeconfig?.trim() ? { kubeconfig: flags.kubeconfig.trim() } : {}),
    leaseName: settings.text(S.leaseName.env) ?? S.leaseName.default,
    identity: settings.text(S.identity.env) ?? hostname,
    ...timings,
    resyncMs: seconds('resyncSeconds', 1, 86_400),
    sessionTimeoutMs: seconds('sessionTimeoutSeconds', 1, 600),
    port: settings.integer(S.port.env, S.port.default, { min: 0, max: 65535 }),
    concurrency: settings.integer(S.concurrency.env, S.concurrency.default, { min: 1, max: 64 }),
    logLevel: settings.oneOf(S.logLevel.env, LOG_LEVELS, S.logLevel.default),
  };
  const problem = timingsProblem(timings);
  if (problem) settings.bad(S.leaseDurationSeconds.env, problem);
  settings.check((problems) => new MirrorConfigError(`the mirror is not configured right: ${problems}`));
  return config;
}
