// The configuration of the sync and reconcile (Lambdas and CLI), read from the environment once at cold start. Both
// read the same settings through this one module, so they can never filter, name or write differently. Every
// problem is reported at once, naming the variable, the value it holds and what is expected.
import type { KubeSource } from '../kube/connect.ts';
import { type MappingConfig, MappingConfigError, parseMappingConfig } from '../kube/mapping-config.ts';
import { POLICIES, type Policy } from '../registry/plan.ts';
import { connectStringProblem, znodePathProblem } from '../zk/paths.ts';
import { checkClusterId, InvalidClusterIdError } from '../zk/registry-store.ts';
import { DEFAULT_MAX_DATA_BYTES } from '../zk/store.ts';

export type Env = Readonly<Record<string, string | undefined>>;

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
  /** A reconcile that would delete more than this share of the cluster's entries stops unless forced. */
  readonly maxDeleteShare: number;
  readonly credentials: CredentialSource;
  /** How long before the Lambda timeout a handler gives up, so that its records go back to the queue whole. */
  readonly timeoutEarlyMs: number;
  /** At most one reconcile request this often when a sync finds damage it cannot repair. */
  readonly repairIntervalMs: number;
  /** The bus a sync puts its reconcile requests on; unset, damage waits for the scheduled damage check. */
  readonly eventBusName?: string;
}

export interface ReconcileConfig extends RegistryConfig {
  readonly kube: KubeSource;
  /** Services per list page (the API's `limit`). */
  readonly listPageSize: number;
}

export const DEFAULTS = {
  policy: 'sync' as Policy,
  maxDeleteShare: 0.5,
  sessionTimeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  operationTimeoutMs: 5_000,
  maxAttempts: 25,
  maxDataBytes: DEFAULT_MAX_DATA_BYTES,
  timeoutEarlyMs: 10_000,
  listPageSize: 500,
  repairIntervalSeconds: 30,
} as const;

class Problems {
  readonly list: string[] = [];
  readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }
  /** The value of a setting, or undefined when it is unset or blank. */
  get(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }
  bad(name: string, value: string | undefined, why: string): void {
    this.list.push(value === undefined ? `${name} is not set: ${why}` : `${name}="${value}": ${why}`);
  }
  required(name: string, what: string): string {
    const value = this.get(name);
    if (value === undefined) this.bad(name, undefined, what);
    return value ?? '';
  }
  integer(name: string, fallback: number, min: number, max: number): number {
    const text = this.get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      this.bad(name, text, `use a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }
  throwIfAny(what: string): void {
    if (this.list.length > 0) throw new ConfigError(`invalid ${what} configuration: ${this.list.join('; ')}`);
  }
}

function credentialSource(p: Problems): CredentialSource {
  const ssm = p.get('ZK_AUTH_SSM_PARAMETER');
  const secret = p.get('ZK_AUTH_SECRET_ID');
  if (ssm !== undefined && secret !== undefined) {
    p.bad(
      'ZK_AUTH_SECRET_ID',
      secret,
      'ZK_AUTH_SSM_PARAMETER is set too; set one of the two (or neither, for a ZooKeeper without ACLs)',
    );
    return { kind: 'none' };
  }
  // An SSM parameter is named by its path (`/a/b`, or a plain name) or its ARN; GetParameter takes either.
  if (ssm !== undefined) {
    if (!/^(?:arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+|[A-Za-z0-9_./-]{1,2048})$/.test(ssm)) {
      p.bad(
        'ZK_AUTH_SSM_PARAMETER',
        ssm,
        'use the name (e.g. /kube-zk-sync/zk-digest) or the ARN of a parameter',
      );
    }
    return { kind: 'ssm', setting: 'ZK_AUTH_SSM_PARAMETER', name: ssm };
  }
  if (secret !== undefined) {
    if (
      !/^(?:arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|[A-Za-z0-9/_+=.@-]{1,512})$/.test(
        secret,
      )
    ) {
      p.bad('ZK_AUTH_SECRET_ID', secret, 'use the name or the ARN of a Secrets Manager secret');
    }
    return { kind: 'secretsmanager', setting: 'ZK_AUTH_SECRET_ID', secretId: secret };
  }
  return { kind: 'none' };
}

function readRegistryConfig(p: Problems): RegistryConfig {
  const connectString = p.required('ZK_CONNECT', 'set it to host:port[,host:port…][/chroot]');
  if (connectString !== '') {
    const problem = connectStringProblem(connectString);
    if (problem) p.bad('ZK_CONNECT', connectString, `${problem}; use host:port[,host:port…][/chroot]`);
  }
  const registryPath = p.required(
    'REGISTRY_PATH',
    'set it to the znode of the registry document, e.g. /registry/services',
  );
  if (registryPath !== '') {
    const problem = znodePathProblem(registryPath);
    if (problem) p.bad('REGISTRY_PATH', registryPath, problem);
    else if (registryPath === '/')
      p.bad('REGISTRY_PATH', registryPath, 'the root znode cannot hold the document');
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
      p.bad('CLUSTER_ID', clusterId, error.message);
    }
  }
  let policy: Policy = DEFAULTS.policy;
  const policyText = p.get('POLICY');
  if (policyText !== undefined) {
    if ((POLICIES as readonly string[]).includes(policyText)) policy = policyText as Policy;
    else p.bad('POLICY', policyText, `use one of ${POLICIES.join(', ')}`);
  }
  let mapping: MappingConfig | undefined;
  try {
    mapping = parseMappingConfig(p.env);
  } catch (error) {
    if (!(error instanceof MappingConfigError)) throw error;
    p.list.push(error.message.replace(/^invalid mapping configuration: /, ''));
  }
  let maxDeleteShare: number = DEFAULTS.maxDeleteShare;
  const shareText = p.get('MAX_DELETE_SHARE');
  if (shareText !== undefined) {
    const share = Number(shareText);
    if (!/^\d*\.?\d+$/.test(shareText) || share > 1) {
      p.bad(
        'MAX_DELETE_SHARE',
        shareText,
        'use a share from 0 to 1 (0.5 allows deleting half of the entries)',
      );
    } else maxDeleteShare = share;
  }
  const zk: ZkSettings = {
    connectString,
    sessionTimeoutMs: p.integer('ZK_SESSION_TIMEOUT_MS', DEFAULTS.sessionTimeoutMs, 1_000, 600_000),
    connectTimeoutMs: p.integer('ZK_CONNECT_TIMEOUT_MS', DEFAULTS.connectTimeoutMs, 100, 600_000),
    operationTimeoutMs: p.integer('ZK_OPERATION_TIMEOUT_MS', DEFAULTS.operationTimeoutMs, 100, 600_000),
    // ZooKeeper's packet limit (jute.maxbuffer) can be raised on the servers; 100 MB is far past any sane registry.
    maxDataBytes: p.integer('MAX_DOCUMENT_BYTES', DEFAULTS.maxDataBytes, 1_024, 100_000_000),
    maxAttempts: p.integer('ZK_MAX_ATTEMPTS', DEFAULTS.maxAttempts, 1, 1_000),
  };
  return {
    zk,
    registryPath,
    clusterId,
    policy,
    mapping: mapping as MappingConfig,
    maxDeleteShare,
    credentials: credentialSource(p),
    timeoutEarlyMs: p.integer('TIMEOUT_EARLY_MS', DEFAULTS.timeoutEarlyMs, 0, 900_000),
    repairIntervalMs: p.integer('REPAIR_INTERVAL_SECONDS', DEFAULTS.repairIntervalSeconds, 1, 86_400) * 1000,
    ...(p.get('EVENT_BUS_NAME') ? { eventBusName: p.get('EVENT_BUS_NAME') as string } : {}),
  };
}

/** The sync's configuration; throws one ConfigError naming every bad setting. */
export function parseRegistryConfig(env: Env): RegistryConfig {
  const p = new Problems(env);
  const config = readRegistryConfig(p);
  p.throwIfAny('kube-zk-sync');
  return config;
}

function kubeSource(p: Problems): KubeSource {
  const clusterName = p.get('EKS_CLUSTER_NAME');
  if (clusterName === undefined) {
    for (const name of ['EKS_ENDPOINT', 'EKS_CA_DATA']) {
      if (p.get(name) !== undefined) p.bad(name, p.get(name), 'it needs EKS_CLUSTER_NAME too');
    }
    const file = p.get('KUBECONFIG');
    const context = p.get('KUBE_CONTEXT');
    return { kind: 'kubeconfig', ...(file ? { file } : {}), ...(context ? { context } : {}) };
  }
  if (!/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(clusterName)) {
    p.bad('EKS_CLUSTER_NAME', clusterName, 'an EKS cluster name is 1–100 letters, digits, "-" or "_"');
  }
  const endpoint = p.required(
    'EKS_ENDPOINT',
    'set it to the cluster endpoint (aws eks describe-cluster … cluster.endpoint)',
  );
  if (endpoint !== '' && !/^https:\/\/[^/\s]+\/?$/.test(endpoint)) {
    p.bad('EKS_ENDPOINT', endpoint, 'use the https:// URL of the cluster endpoint');
  }
  const caData = p.required(
    'EKS_CA_DATA',
    'set it to the base64 certificate authority (aws eks describe-cluster … cluster.certificateAuthority.data)',
  );
  if (
    caData !== '' &&
    !Buffer.from(caData, 'base64').toString('latin1').includes('-----BEGIN CERTIFICATE-----')
  ) {
    p.bad('EKS_CA_DATA', `${caData.slice(0, 12)}…`, 'it is not a base64-encoded PEM certificate');
  }
  // Lambda sets AWS_REGION; elsewhere AWS_DEFAULT_REGION is the CLI's name for it.
  const region = p.get('AWS_REGION') ?? p.get('AWS_DEFAULT_REGION');
  if (region === undefined)
    p.bad('AWS_REGION', undefined, 'the EKS token is signed for the region of the cluster');
  return { kind: 'eks', clusterName, endpoint, caData, region: region ?? '' };
}

/** The reconcile's configuration: the sync's, plus where the Kubernetes API is. */
export function parseReconcileConfig(env: Env): ReconcileConfig {
  const p = new Problems(env);
  const config = readRegistryConfig(p);
  const kube = kubeSource(p);
  const listPageSize = p.integer('LIST_PAGE_SIZE', DEFAULTS.listPageSize, 1, 10_000);
  p.throwIfAny('kube-zk-sync reconcile');
  return { ...config, kube, listPageSize };
}
