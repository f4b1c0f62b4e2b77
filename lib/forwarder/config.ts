// The forwarder's settings: a flag wins over its environment variable, which wins over the default. Everything is
// checked at start and every problem is reported at once, naming the flag and the variable, so a broken Deployment
// fails its first start with one readable line instead of crash-looping on the first bad value found.
import { LabelSelectorError, parseLabelSelector } from '../kube/label-selector.ts';
import {
  LIST_PAGE_SIZE,
  SEND_CONCURRENCY,
  WATCH_STALL_SECONDS,
  WATCH_TIMEOUT_SECONDS,
} from '../util/defaults.ts';
import { LOG_LEVELS, type LogLevel } from '../util/log.ts';
import { type Env, PROCESS_SETTINGS, settingsFromFlags } from '../util/settings.ts';

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
  kubeconfig: PROCESS_SETTINGS.kubeconfig,
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
  port: PROCESS_SETTINGS.port,
  stallSeconds: {
    flag: '--stall-seconds',
    arg: 'seconds',
    env: 'STALL_SECONDS',
    help: 'abandon and resume a watch that delivers nothing (not even a bookmark) for this long',
    default: WATCH_STALL_SECONDS,
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
    default: WATCH_TIMEOUT_SECONDS,
  },
  pageSize: {
    flag: '--page-size',
    arg: 'n',
    env: 'LIST_PAGE_SIZE',
    help: 'Services per list page',
    default: LIST_PAGE_SIZE,
  },
  sendConcurrency: {
    flag: '--send-concurrency',
    arg: 'n',
    env: 'SEND_CONCURRENCY',
    help: 'PutEvents calls in flight at once',
    default: SEND_CONCURRENCY,
  },
  logLevel: { ...PROCESS_SETTINGS.logLevel, default: 'info' as LogLevel },
} as const;

export type ForwarderFlags = Partial<Record<keyof typeof SETTINGS, string | undefined>>;

type Key = keyof typeof SETTINGS;

export function parseForwarderConfig(flags: ForwarderFlags, env: Env): ForwarderConfig {
  const settings = settingsFromFlags(SETTINGS, flags, env);
  const text = (key: Key) => settings.text(SETTINGS[key].env);
  const bad = (key: Key, expected: string) => settings.bad(SETTINGS[key].env, expected);
  const required = (key: Key) => settings.required(SETTINGS[key].env, `set it to the ${SETTINGS[key].help}`);
  const integer = (
    key: 'port' | 'stallSeconds' | 'flushSeconds' | 'watchTimeoutSeconds' | 'pageSize' | 'sendConcurrency',
    min: number,
    max: number,
  ) => settings.integer(SETTINGS[key].env, SETTINGS[key].default, { min, max });

  const clusterId = required('clusterId');
  if (clusterId.length > 128) bad('clusterId', 'use at most 128 characters');
  const eventBusName = required('eventBus');
  const region = required('region');
  if (region && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    bad('region', 'use an AWS region name, like eu-west-1');
  const eventBridgeEndpoint = text('eventbridgeEndpoint');
  if (eventBridgeEndpoint !== undefined && !URL.canParse(eventBridgeEndpoint)) {
    bad('eventbridgeEndpoint', 'use a URL, like http://127.0.0.1:4010');
  }
  const namespace = settings.namespace(SETTINGS.namespace.env);
  const labelSelector = text('labelSelector');
  if (labelSelector !== undefined) {
    try {
      parseLabelSelector(labelSelector);
    } catch (error) {
      if (!(error instanceof LabelSelectorError)) throw error;
      bad('labelSelector', error.message);
    }
  }
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
    logLevel: settings.oneOf(SETTINGS.logLevel.env, LOG_LEVELS, SETTINGS.logLevel.default),
  };
  settings.check(
    (problems) => new ForwarderConfigError(`the forwarder is not configured right: ${problems}`),
  );
  return config;
}
