// The forwarder's settings: a flag wins over its environment variable, which wins over the default. Everything is
// checked at start and every problem is reported at once, naming the flag and the variable, so a broken Deployment
// fails its first start with one readable line instead of crash-looping on the first bad value found.
import type { Env } from '../config/config.ts';
import { LabelSelectorError, parseLabelSelector } from '../kube/label-selector.ts';
import { isLogLevel, type LogLevel } from './log.ts';

export class ForwarderConfigError extends Error {
  override readonly name = 'ForwarderConfigError';
}

export interface ForwarderConfig {
  readonly clusterId: string;
  readonly eventBusName: string;
  readonly region: string;
  /** Another PutEvents endpoint (a local one for development); undefined means AWS. */
  readonly eventBridgeEndpoint?: string;
  /** A kubeconfig file; undefined means $KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  readonly kubeconfig?: string;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly port: number;
  readonly stallSeconds: number;
  readonly flushSeconds: number;
  readonly watchTimeoutSeconds: number;
  readonly pageSize: number;
  readonly sendConcurrency: number;
  readonly logLevel: LogLevel;
}

/** Every setting: its flag (commander's camelCase option name), variable, default and meaning. */
export const SETTINGS = {
  kubeconfig: {
    flag: '--kubeconfig',
    arg: 'file',
    env: 'KUBECONFIG',
    help: 'kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account',
  },
  clusterId: {
    flag: '--cluster-id',
    arg: 'id',
    env: 'CLUSTER_ID',
    help: 'cluster id carried by every event',
    required: true,
  },
  eventBus: {
    flag: '--event-bus',
    arg: 'name',
    env: 'EVENT_BUS_NAME',
    help: 'EventBridge bus name or ARN',
    required: true,
  },
  region: {
    flag: '--region',
    arg: 'region',
    env: 'AWS_REGION',
    help: 'AWS region of the bus',
    required: true,
  },
  eventbridgeEndpoint: {
    flag: '--eventbridge-endpoint',
    arg: 'url',
    env: 'EVENTBRIDGE_ENDPOINT',
    help: 'PutEvents endpoint URL instead of AWS (a local endpoint)',
  },
  namespace: {
    flag: '--namespace',
    arg: 'namespace',
    env: 'WATCH_NAMESPACE',
    help: 'watch only this namespace; default: all',
  },
  labelSelector: {
    flag: '--label-selector',
    arg: 'selector',
    env: 'LABEL_SELECTOR',
    help: 'watch only Services matching this label selector',
  },
  port: {
    flag: '--port',
    arg: 'port',
    env: 'HTTP_PORT',
    help: 'port of /healthz, /readyz and /metrics',
    default: 8080,
  },
  stallSeconds: {
    flag: '--stall-seconds',
    arg: 'seconds',
    env: 'STALL_SECONDS',
    help: 'abandon and resume a watch that delivers nothing (not even a bookmark) for this long',
    default: 45,
  },
  flushSeconds: {
    flag: '--flush-seconds',
    arg: 'seconds',
    env: 'FLUSH_SECONDS',
    help: 'on SIGTERM, time allowed to send what is pending',
    default: 20,
  },
  watchTimeoutSeconds: {
    flag: '--watch-timeout-seconds',
    arg: 'seconds',
    env: 'WATCH_TIMEOUT_SECONDS',
    help: 'timeoutSeconds asked of each watch',
    default: 300,
  },
  pageSize: {
    flag: '--page-size',
    arg: 'n',
    env: 'LIST_PAGE_SIZE',
    help: 'Services per list page',
    default: 500,
  },
  sendConcurrency: {
    flag: '--send-concurrency',
    arg: 'n',
    env: 'SEND_CONCURRENCY',
    help: 'PutEvents calls in flight at once',
    default: 4,
  },
  logLevel: {
    flag: '--log-level',
    arg: 'level',
    env: 'LOG_LEVEL',
    help: 'debug, info, warn or error',
    default: 'info',
  },
} as const;

export type ForwarderFlags = Partial<Record<keyof typeof SETTINGS, string | undefined>>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function parseForwarderConfig(flags: ForwarderFlags, env: Env): ForwarderConfig {
  const problems: string[] = [];
  const raw = (name: keyof typeof SETTINGS): string | undefined => {
    const value = flags[name] ?? env[SETTINGS[name].env];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const where = (name: keyof typeof SETTINGS) => `${SETTINGS[name].flag} / ${SETTINGS[name].env}`;
  const required = (name: keyof typeof SETTINGS): string => {
    const value = raw(name);
    if (value === undefined) problems.push(`${where(name)} is required: the ${SETTINGS[name].help}`);
    return value ?? '';
  };
  const integer = (
    name: 'port' | 'stallSeconds' | 'flushSeconds' | 'watchTimeoutSeconds' | 'pageSize' | 'sendConcurrency',
    min: number,
    max: number,
  ): number => {
    const value = raw(name);
    if (value === undefined) return SETTINGS[name].default;
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) {
      problems.push(`${where(name)} must be a whole number from ${min} to ${max}, not "${value}"`);
      return SETTINGS[name].default;
    }
    return n;
  };

  const clusterId = required('clusterId');
  if (clusterId.length > 128) problems.push(`${where('clusterId')} must be at most 128 characters`);
  const eventBusName = required('eventBus');
  const region = required('region');
  if (region && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    problems.push(`${where('region')} "${region}" is not an AWS region name (like eu-west-1)`);
  }
  const eventBridgeEndpoint = raw('eventbridgeEndpoint');
  if (eventBridgeEndpoint !== undefined && !URL.canParse(eventBridgeEndpoint)) {
    problems.push(`${where('eventbridgeEndpoint')} "${eventBridgeEndpoint}" is not a URL`);
  }
  const namespace = raw('namespace');
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
    problems.push(`${where('namespace')} "${namespace}" is not a namespace name`);
  }
  const labelSelector = raw('labelSelector');
  if (labelSelector !== undefined) {
    try {
      parseLabelSelector(labelSelector);
    } catch (error) {
      if (!(error instanceof LabelSelectorError)) throw error;
      problems.push(`${where('labelSelector')}: ${error.message}`);
    }
  }
  const logLevel = raw('logLevel') ?? SETTINGS.logLevel.default;
  if (!isLogLevel(logLevel))
    problems.push(`${where('logLevel')} must be debug, info, warn or error, not "${logLevel}"`);
  const config: ForwarderConfig = {
    clusterId,
    eventBusName,
    region,
    ...(eventBridgeEndpoint !== undefined ? { eventBridgeEndpoint } : {}),
    // $KUBECONFIG itself is left to client-node's default loading, which also reads a list of files.
    ...(flags.kubeconfig?.trim() ? { kubeconfig: flags.kubeconfig.trim() } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(labelSelector !== undefined ? { labelSelector } : {}),
    port: integer('port', 0, 65535),
    stallSeconds: integer('stallSeconds', 1, 3600),
    flushSeconds: integer('flushSeconds', 0, 3600),
    watchTimeoutSeconds: integer('watchTimeoutSeconds', 1, 3600),
    pageSize: integer('pageSize', 1, 10_000),
    sendConcurrency: integer('sendConcurrency', 1, 64),
    logLevel: isLogLevel(logLevel) ? logLevel : 'info',
  };
  if (problems.length > 0) {
    throw new ForwarderConfigError(`the forwarder is not configured right: ${problems.join('; ')}`);
  }
  return config;
}
