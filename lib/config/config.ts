// The configuration of the sync and reconcile (Lambdas and CLI), read from the environment once at cold start. Both
// read the same settings through this one module, so they can never filter, name or write differently. Every
// problem is reported at once, naming the variable, the value it holds and what is expected.
import type { KubeSource } from '../kube/connect.ts';
import type { EksConnection } from '../kube/eks-token.ts';
import { type MappingConfig, readMappingConfig } from '../kube/mapping-config.ts';
import type { Budgets } from '../registry/budgets.ts';
import { POLICIES, type Policy } from '../registry/plan.ts';
import {
  LIST_PAGE_SIZE,
  ZK_MAX_ATTEMPTS,
  ZK_MAX_DATA_BYTES,
  ZK_SESSION_TIMEOUT_MS,
  ZK_TIMEOUT_MS,
} from '../util/defaults.ts';
import { type Env, Settings } from '../util/settings.ts';
import { connectStringProblem, znodePathProblem } from '../zk/paths.ts';
import { checkClusterId, InvalidClusterIdError } from '../zk/registry-store.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ZkSettings {
  readonly connectString: string;
  readonly sessionTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
  /** The largest document (and sync state) written, in bytes. */
  readonly maxDataBytes: number;
  /** Compare-and-set attempts of one write under contention. */
  readonly maxAttempts: number;
}

/** Where the ZooKeeper digest credentials come from; they never sit in the environment or the template. */
export type CredentialSource =
  | { readonly kind: 'none' }
  | { readonly kind: 'ssm'; readonly setting: string; readonly name: string }
  | { readonly kind: 'secretsmanager'; readonly setting: string; readonly secretId: string };

/** What both the sync and the reconcile need. */
export interface RegistryConfig {
  readonly zk: ZkSettings;
  readonly registryPath: string;
  /** The owner of this cluster's entries in the document. */
  readonly clusterId: string;
  readonly policy: Policy;
  readonly mapping: MappingConfig;
  /** How much of the document one namespace and this cluster may fill. */
  readonly budgets: Budgets;
  /** A reconcile that would delete more than this share of the cluster's entries stops unless forced. */
  readonly maxDeleteShare: number;
  readonly credentials: CredentialSource;
  /**
   * Without credentials, create the znodes anyone may write (ZK_OPEN_ACL=true): for a local ZooKeeper only. Unset,
   * a store without an identity refuses to create them.
   */
  readonly openAcl: boolean;
  /** How long before the Lambda timeout a handler gives up, so that its records go back to the queue whole. */
  readonly timeoutEarlyMs: number;
  /** At most one reconcile request this often when a sync finds damage it cannot repair. */
  readonly repairIntervalMs: number;
  /** The bus a sync puts its reconcile requests on; unset, damage waits for the scheduled damage check. */
  readonly eventBusName?: string;
  /** Kubernetes Events on the Services whose registry outcome changed (lib/kube/service-events.ts). */
  readonly serviceEvents: ServiceEventsSettings;
  /** The EKS cluster the Events are written to (EKS_CLUSTER_NAME…); unset, the sync writes none. */
  readonly eks?: EksConnection;
}

export interface ServiceEventsSettings {
  /** SERVICE_EVENTS (default true). */
  readonly enabled: boolean;
  /** SERVICE_EVENTS_MAX: the most Events one invocation writes; the rest are counted (EventsUnwritten). */
  readonly maxPerBatch: number;
  /** SERVICE_EVENTS_TIMEOUT_MS: how long writing them may take after the registry write, at most. */
  readonly timeoutMs: number;
}

export interface ReconcileConfig extends RegistryConfig {
  readonly kube: KubeSource;
  /** Services per list page (the API's `limit`). */
  readonly listPageSize: number;
}

export const DEFAULTS = {
  policy: 'sync' as Policy,
  maxDeleteShare: 0.5,
  sessionTimeoutMs: ZK_SESSION_TIMEOUT_MS,
  connectTimeoutMs: ZK_TIMEOUT_MS,
  operationTimeoutMs: ZK_TIMEOUT_MS,
  maxAttempts: ZK_MAX_ATTEMPTS,
  maxDataBytes: ZK_MAX_DATA_BYTES,
  timeoutEarlyMs: 10_000,
  listPageSize: LIST_PAGE_SIZE,
  repairIntervalSeconds: 30,
  // About 270 realistic entries (370 bytes: an ELB hostname, two ports) or 7 at the largest an entry may be, in a
  // tenth of the document; 250 entries at most, so that many tiny ones cannot grow the sync state either. More than
  // a team publishes from one namespace, while ten namespaces are needed to fill the document.
  namespaceMaxEntries: 250,
  namespaceMaxBytes: 100_000,
  serviceEventsMax: 50,
  serviceEventsTimeoutMs: 3_000,
  /** CLUSTER_MAX_BYTES unless set, as a share of MAX_DOCUMENT_BYTES: people's own entries always keep the rest. */
  clusterMaxShare: 0.5,
} as const;

function credentialSource(p: Settings): CredentialSource {
  const ssm = p.text('ZK_AUTH_SSM_PARAMETER');
  const secret = p.text('ZK_AUTH_SECRET_ID');
  if (ssm !== undefined && secret !== undefined) {
    p.bad(
      'ZK_AUTH_SECRET_ID',
      'ZK_AUTH_SSM_PARAMETER is set too; set one of the two (or neither, for a ZooKeeper without ACLs)',
    );
    return { kind: 'none' };
  }
  // An SSM parameter is named by its path (`/a/b`, or a plain name) or its ARN; GetParameter takes either.
  if (ssm !== undefined) {
    if (!/^(?:arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+|[A-Za-z0-9_./-]{1,2048})$/.test(ssm)) {
      p.bad('ZK_AUTH_SSM_PARAMETER', 'use the name (e.g. /kube-zk-sync/zk-digest) or the ARN of a parameter');
    }
    return { kind: 'ssm', setting: 'ZK_AUTH_SSM_PARAMETER', name: ssm };
  }
  if (secret !== undefined) {
    if (
      !/^(?:arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|[A-Za-z0-9/_+=.@-]{1,512})$/.test(
        secret,
      )
    ) {
      p.bad('ZK_AUTH_SECRET_ID', 'use the name or the ARN of a Secrets Manager secret');
    }
    return { kind: 'secretsmanager', setting: 'ZK_AUTH_SECRET_ID', secretId: secret };
  }
  return { kind: 'none' };
}

/** No budget can be larger than the document: a bigger one would never be reached. */
function readBudgets(p: Settings, documentBytes: number): Budgets {
  const bytes = { min: 1_024, max: documentBytes };
  return {
    namespaceMaxEntries: p.integer('NAMESPACE_MAX_ENTRIES', DEFAULTS.namespaceMaxEntries, {
      min: 1,
      max: 1_000_000,
    }),
    namespaceMaxBytes: p.integer(
      'NAMESPACE_MAX_BYTES',
      Math.min(DEFAULTS.namespaceMaxBytes, documentBytes),
      bytes,
    ),
    clusterMaxBytes: p.integer(
      'CLUSTER_MAX_BYTES',
      Math.floor(documentBytes * DEFAULTS.clusterMaxShare),
      bytes,
    ),
  };
}

function readRegistryConfig(p: Settings): RegistryConfig {
  const connectString = p.required('ZK_CONNECT', 'set it to host:port[,host:port…][/chroot]');
  if (connectString !== '') {
    const problem = connectStringProblem(connectString);
    if (problem) p.bad('ZK_CONNECT', `${problem}; use host:port[,host:port…][/chroot]`);
  }
  const registryPath = p.required(
    'REGISTRY_PATH',
    'set it to the znode of the registry document, e.g. /registry/services',
  );
  if (registryPath !== '') {
    const problem = znodePathProblem(registryPath);
    if (problem) p.bad('REGISTRY_PATH', problem);
    else if (registryPath === '/') p.bad('REGISTRY_PATH', 'the root znode cannot hold the document');
  }
  const clusterId = p.required(
    'CLUSTER_ID',
    "set it to the id that owns this cluster's entries, e.g. prod-eu-1",
  );
  if (clusterId !== '') {
    try {
      checkClusterId(clusterId);
    } catch (error) {
      if (!(error instanceof InvalidClusterIdError)) throw error;
      p.bad('CLUSTER_ID', error.message);
    }
  }
  const policy = p.oneOf('POLICY', POLICIES, DEFAULTS.policy);
  const mapping: MappingConfig = readMappingConfig(p);
  const maxDeleteShare = p.decimal('MAX_DELETE_SHARE', DEFAULTS.maxDeleteShare, {
    min: 0,
    max: 1,
    expected: 'use a share from 0 to 1 (0.5 allows deleting half of the entries)',
  });
  const zk: ZkSettings = {
    connectString,
    sessionTimeoutMs: p.integer('ZK_SESSION_TIMEOUT_MS', DEFAULTS.sessionTimeoutMs, {
      min: 1_000,
      max: 600_000,
    }),
    connectTimeoutMs: p.integer('ZK_CONNECT_TIMEOUT_MS', DEFAULTS.connectTimeoutMs, {
      min: 100,
      max: 600_000,
    }),
    operationTimeoutMs: p.integer('ZK_OPERATION_TIMEOUT_MS', DEFAULTS.operationTimeoutMs, {
      min: 100,
      max: 600_000,
    }),
    // ZooKeeper's packet limit (jute.maxbuffer) can be raised on the servers; 100 MB is far past any sane registry.
    maxDataBytes: p.integer('MAX_DOCUMENT_BYTES', DEFAULTS.maxDataBytes, { min: 1_024, max: 100_000_000 }),
    maxAttempts: p.integer('ZK_MAX_ATTEMPTS', DEFAULTS.maxAttempts, { min: 1, max: 1_000 }),
  };
  const eventBusName = p.text('EVENT_BUS_NAME');
  return {
    zk,
    registryPath,
    clusterId,
    policy,
    mapping,
    budgets: readBudgets(p, zk.maxDataBytes),
    maxDeleteShare,
    credentials: credentialSource(p),
    openAcl: p.boolean('ZK_OPEN_ACL', false),
    timeoutEarlyMs: p.integer('TIMEOUT_EARLY_MS', DEFAULTS.timeoutEarlyMs, { min: 0, max: 900_000 }),
    repairIntervalMs:
      p.integer('REPAIR_INTERVAL_SECONDS', DEFAULTS.repairIntervalSeconds, { min: 1, max: 86_400 }) * 1000,
    ...(eventBusName ? { eventBusName } : {}),
    serviceEvents: {
      enabled: p.boolean('SERVICE_EVENTS', true),
      maxPerBatch: p.integer('SERVICE_EVENTS_MAX', DEFAULTS.serviceEventsMax, { min: 0, max: 1000 }),
      timeoutMs: p.integer('SERVICE_EVENTS_TIMEOUT_MS', DEFAULTS.serviceEventsTimeoutMs, {
        min: 100,
        max: 60_000,
      }),
    },
  };
}

/** The sync's configuration; throws one ConfigError naming every bad setting. */
export function parseRegistryConfig(env: Env): RegistryConfig {
  const p = new Settings(env);
  const config = readRegistryConfig(p);
  // The sync reaches the cluster only to write Events, and only on EKS (the Lambda).
  const kube = p.text('EKS_CLUSTER_NAME') === undefined ? undefined : kubeSource(p);
  p.check((problems) => new ConfigError(`invalid kube-zk-sync configuration: ${problems}`));
  if (kube?.kind !== 'eks') return config;
  const { kind: _eks, ...eks } = kube;
  return { ...config, eks };
}

function kubeSource(p: Settings): KubeSource {
  const clusterName = p.text('EKS_CLUSTER_NAME');
  if (clusterName === undefined) {
    for (const name of ['EKS_ENDPOINT', 'EKS_CA_DATA']) {
      if (p.text(name) !== undefined) p.bad(name, 'it needs EKS_CLUSTER_NAME too');
    }
    const file = p.text('KUBECONFIG');
    const context = p.text('KUBE_CONTEXT');
    return { kind: 'kubeconfig', ...(file ? { file } : {}), ...(context ? { context } : {}) };
  }
  if (!/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(clusterName)) {
    p.bad('EKS_CLUSTER_NAME', 'an EKS cluster name is 1–100 letters, digits, "-" or "_"');
  }
  const endpoint = p.required(
    'EKS_ENDPOINT',
    'set it to the cluster endpoint (aws eks describe-cluster … cluster.endpoint)',
  );
  if (endpoint !== '' && !/^https:\/\/[^/\s]+\/?$/.test(endpoint)) {
    p.bad('EKS_ENDPOINT', 'use the https:// URL of the cluster endpoint');
  }
  const caData = p.required(
    'EKS_CA_DATA',
    'set it to the base64 certificate authority (aws eks describe-cluster … cluster.certificateAuthority.data)',
  );
  if (
    caData !== '' &&
    !Buffer.from(caData, 'base64').toString('latin1').includes('-----BEGIN CERTIFICATE-----')
  ) {
    p.bad('EKS_CA_DATA', 'it is not a base64-encoded PEM certificate', `${caData.slice(0, 12)}…`);
  }
  // Lambda sets AWS_REGION; elsewhere AWS_DEFAULT_REGION is the CLI's name for it.
  const region = p.text('AWS_REGION') ?? p.text('AWS_DEFAULT_REGION');
  if (region === undefined) p.bad('AWS_REGION', 'the EKS token is signed for the region of the cluster');
  return { kind: 'eks', clusterName, endpoint, caData, region: region ?? '' };
}

/** The reconcile's configuration: the sync's, plus where the Kubernetes API is. */
export function parseReconcileConfig(env: Env): ReconcileConfig {
  const p = new Settings(env);
  const config = readRegistryConfig(p);
  const kube = kubeSource(p);
  const listPageSize = p.integer('LIST_PAGE_SIZE', DEFAULTS.listPageSize, { min: 1, max: 10_000 });
  p.check((problems) => new ConfigError(`invalid kube-zk-sync reconcile configuration: ${problems}`));
  return { ...config, kube, listPageSize };
}
