// What the forwarder tests share: the apiserver simulator, the local EventBridge endpoint, a consumer that applies
// delivered events the way the sync does (highest resourceVersion per key wins, deletions kept as tombstones so a
// late event cannot bring a Service back), and the state it must reach: the simulator's Services, trimmed.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { expect } from 'vitest';
import {
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  parseServiceEventDetail,
  type ServiceEventDetail,
  serviceKey,
  type TrimmedService,
} from '../../lib/events/contract.ts';
import { compareResourceVersions } from '../../lib/events/resource-version.ts';
import { Forwarder, type ForwarderOptions } from '../../lib/forwarder/forwarder.ts';
import { trimService } from '../../lib/kube/trim.ts';
import {
  ApiServerSimulator,
  generateServices,
  type ServiceInput,
  type SimulatorOptions,
} from '../../lib/local/apiserver/index.ts';
import {
  type Delivery,
  LocalEventBridge,
  type LocalEventBridgeOptions,
} from '../../lib/local/eventbridge/server.ts';
import { type Logger, silentLogger } from '../../lib/util/log.ts';
import { eventually } from '../support/cli.ts';

export const RULE = {
  name: 'ServiceEvents',
  pattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] },
};

/** Applies event details as the sync does: per key, the highest resourceVersion wins, deletions included. */
export class Consumer {
  readonly #latest = new Map<string, ServiceEventDetail>();
  applied = 0;

  apply(detail: unknown): void {
    // The consumer validates with the same schema as the sync Lambda: a forwarder event it refuses fails the test.
    const event = parseServiceEventDetail(detail);
    this.applied++;
    const current = this.#latest.get(event.key);
    if (!current || compareResourceVersions(event.resourceVersion, current.resourceVersion) > 0) {
      this.#latest.set(event.key, event);
    }
  }

  /** The Services the consumer believes exist, sorted by key. */
  state(): Record<string, TrimmedService> {
    const live = [...this.#latest.values()].filter((e) => e.service !== null);
    live.sort((a, b) => (a.key < b.key ? -1 : 1));
    return Object.fromEntries(live.map((e) => [e.key, e.service as TrimmedService]));
  }
}

/** The cluster as the consumer should end up seeing it. */
export function clusterState(sim: ApiServerSimulator, filter: (key: string) => boolean = () => true) {
  const services = sim
    .listServices()
    .map((s) => [serviceKey(s.metadata.namespace, s.metadata.name), trimService(s)] as const)
    .filter(([key]) => filter(key));
  services.sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(services);
}

/** Waits until `consumer` sees exactly the cluster, then asserts it (so a failure shows the difference). */
export async function expectConverged(
  consumer: Consumer,
  sim: ApiServerSimulator,
  timeoutMs = 10_000,
  filter?: (key: string) => boolean,
): Promise<void> {
  const same = () => JSON.stringify(consumer.state()) === JSON.stringify(clusterState(sim, filter));
  await eventually('the consumer to reach the simulator state', same, timeoutMs).catch(() => {});
  expect(consumer.state()).toEqual(clusterState(sim, filter));
}

/**
 * Waits until the forwarder has nothing pending or in flight. The endpoint records a call before it answers, so the
 * consumer can have the last event while the forwarder has not yet seen the answer; compare records after this.
 */
export async function settled(forwarder: Forwarder): Promise<void> {
  await eventually(
    'the forwarder to have nothing pending or in flight',
    () => forwarder.pending === 0 && forwarder.inFlight === 0,
  );
}

/** client-node's Watch, with its private 30 s inactivity timeout shortened; checked first, so a rename fails loudly. */
export function watchWithInactivityTimeout(kc: KubeConfig, ms: number): Watch {
  const watch = new Watch(kc);
  expect(Reflect.get(watch, 'requestTimeoutMs')).toBe(30_000);
  Reflect.set(watch, 'requestTimeoutMs', ms);
  return watch;
}

export interface RigOptions {
  readonly services?: number | readonly ServiceInput[];
  readonly seed?: number;
  readonly simulator?: SimulatorOptions;
  readonly bridge?: LocalEventBridgeOptions;
}

/** Short intervals, so each failure is met and survived within a second or two. */
export const FAST: Pick<ForwarderOptions, 'watch' | 'send'> = {
  watch: {
    stallMs: 1000,
    timeoutSeconds: 30,
    pageSize: 100,
    backoff: { initialMs: 50, maxMs: 400 },
    minWatchMs: 200,
  },
  // Long enough that a loaded machine never abandons a call the endpoint then answers: the tests compare the
  // client's record of acceptances with the endpoint's, and an abandoned accepted call is sent twice.
  send: { backoff: { initialMs: 20, maxMs: 200 }, callTimeoutMs: 10_000 },
};

export interface SentCall {
  /** `key@resourceVersion` of each entry. */
  readonly versions: readonly string[];
  readonly accepted: readonly boolean[];
}

export class Rig {
  readonly sim: ApiServerSimulator;
  readonly bridge: LocalEventBridge;
  readonly consumer = new Consumer();
  readonly kubeConfig: KubeConfig;
  readonly #forwarders: Forwarder[] = [];
  readonly #clients: EventBridgeClient[] = [];

  private constructor(sim: ApiServerSimulator, bridge: LocalEventBridge) {
    this.sim = sim;
    this.bridge = bridge;
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromString(sim.kubeconfig());
    bridge.subscribe((delivery: Delivery) => this.consumer.apply(delivery.event.detail));
  }

  static async start(options: RigOptions = {}): Promise<Rig> {
    const sim = new ApiServerSimulator({
      bookmarkIntervalMs: 200,
      seed: options.seed ?? 1,
      ...options.simulator,
    });
    const services =
      typeof options.services === 'number' || options.services === undefined
        ? generateServices(options.services ?? 200, { seed: options.seed ?? 1 })
        : options.services;
    for (const input of services) sim.createService(input);
    await sim.start();
    const bridge = await LocalEventBridge.start({
      seed: options.seed ?? 1,
      rules: [RULE],
      ...options.bridge,
    });
    return new Rig(sim, bridge);
  }

  /** Every PutEvents call the forwarders' SDK clients made, in the order they were answered. */
  readonly sends: SentCall[] = [];

  /** A real SDK client for the local endpoint; a middleware only records what it sends and what came of it. */
  eventBridgeClient(): EventBridgeClient {
    const client = new EventBridgeClient({ ...this.bridge.clientConfig(), maxAttempts: 1 });
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Entries?: { Detail?: string }[] };
        const versions = (input.Entries ?? []).map((e) => versionOf(e.Detail));
        try {
          const result = await next(args);
          const entries = (result.output as { Entries?: { ErrorCode?: string }[] }).Entries ?? [];
          this.sends.push({ versions, accepted: versions.map((_, i) => !entries[i]?.ErrorCode) });
          return result;
        } catch (error) {
          this.sends.push({ versions, accepted: versions.map(() => false) });
          throw error;
        }
      },
      { step: 'initialize', name: 'recordSends' },
    );
    this.#clients.push(client);
    return client;
  }

  /** A started forwarder with short intervals; stopped (aborted) by stop(). */
  forwarder(options: Partial<ForwarderOptions> & { logger?: Logger } = {}): Forwarder {
    const forwarder = new Forwarder({
      clusterId: 'test-cluster',
      eventBusName: 'services',
      kubeConfig: this.kubeConfig,
      eventBridge: this.eventBridgeClient(),
      logger: silentLogger,
      processMetrics: false,
      ...options,
      watch: { ...FAST.watch, ...options.watch },
      send: { ...FAST.send, ...options.send },
    });
    this.#forwarders.push(forwarder);
    forwarder.start();
    return forwarder;
  }

  /**
   * Waits until exactly `count` watches are open at the simulator. A forwarder is ready once its first list is in and
   * opens its watch only afterwards, so a fault aimed at open watches waits for this; nothing may be awaited between
   * this and the fault.
   */
  async watchesOpen(count: number): Promise<void> {
    await eventually(`${count} open watches at the apiserver`, () => this.sim.stats().openWatches === count);
  }

  /** Entries EventBridge accepted, per `key@resourceVersion`. */
  acceptedPerVersion(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const call of this.bridge.calls) {
      call.entries.forEach((entry, i) => {
        const result = call.results?.[i];
        if (!result || !('EventId' in result)) return;
        const id = versionOf(entry.Detail);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      });
    }
    return counts;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#forwarders.map((f) => f.abort()));
    for (const client of this.#clients) client.destroy();
    await this.bridge.stop();
    await this.sim.stop();
  }
}

/** `key@resourceVersion` of a wire entry's Detail. */
export function versionOf(detail: unknown): string {
  const parsed = JSON.parse(String(detail)) as { key: string; resourceVersion: string };
  return `${parsed.key}@${parsed.resourceVersion}`;
}

/** Sums every sample of a metric from Prometheus text, whatever its labels (0 when absent). */
export function metricTotal(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Reads one sample of a metric from Prometheus text (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text
    .split('\n')
    .find((l) => l.startsWith(wanted ? `${name}{${wanted}}` : `${name} `) || l === name);
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
