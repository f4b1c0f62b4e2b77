// The forwarder as a process (`kube-zk-sync forwarder`, as the pod runs it): health, readiness and metrics over HTTP,
// SIGTERM flushing what is pending, a kill and restart during churn, two replicas at once, and configuration errors.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { changesMade, startChurn } from '../../lib/local/apiserver/index.ts';
import { eventually, runCli, startCli } from '../support/cli.ts';
import { Consumer, clusterState, expectConverged, metricTotal, metricValue, Rig } from './rig.ts';

let rig: Rig | undefined;
let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-forwarder-'));
});

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rig?.stop();
  rig = undefined;
  await rm(dir, { recursive: true, force: true });
});

interface RunningForwarder {
  child: ChildProcess;
  lines: string[];
  errors: string[];
  exited: Promise<number | null>;
  /** The log lines as objects. */
  logs(): { msg: string; [field: string]: unknown }[];
  /** The health server's URL, once it listens. */
  url(): Promise<string>;
}

async function startForwarder(r: Rig, env: Record<string, string> = {}): Promise<RunningForwarder> {
  const kubeconfig = join(dir, 'kubeconfig');
  await r.sim.writeKubeconfig(kubeconfig);
  const config = r.bridge.clientConfig();
  const { child, lines, errors } = startCli(['forwarder', '--kubeconfig', kubeconfig, '--port', '0'], {
    CLUSTER_ID: 'test-cluster',
    EVENT_BUS_NAME: 'services',
    AWS_REGION: config.region,
    EVENTBRIDGE_ENDPOINT: config.endpoint,
    AWS_ACCESS_KEY_ID: config.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
    STALL_SECONDS: '2',
    LOG_LEVEL: 'info',
    ...env,
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as { msg: string; [field: string]: unknown }];
      } catch {
        return [];
      }
    });
  const url = async () => {
    let found: string | undefined;
    await eventually('the health server to listen', () => {
      found = logs().find((l) => l.msg === 'health and metrics listening')?.url as string | undefined;
      if (child.exitCode !== null) throw new Error(`the forwarder exited: ${errors.join('\n')}`);
      return found !== undefined;
    });
    return found as string;
  };
  return { child, lines, errors, exited, logs, url };
}

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
};

describe('forwarder process', () => {
  test('/healthz, /readyz (only after the first complete list) and /metrics', async () => {
    rig = await Rig.start({ services: 100, seed: 31 });
    // A slow apiserver, so the window before the first list completes can be seen.
    rig.sim.faults.setLatency(1500);
    const forwarder = await startForwarder(rig);
    const url = await forwarder.url();
    expect(await get(`${url}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    expect((await get(`${url}/readyz`)).status).toBe(503);
    rig.sim.faults.setLatency(0);
    await eventually('readiness', async () => (await get(`${url}/readyz`)).status === 200);
    await expectConverged(rig.consumer, rig.sim);
    const total = rig.sim.listServices().length;
    // The consumer can have the last event before the forwarder has the answer to its call.
    await eventually('the last call answered', async () => {
      const body = (await get(`${url}/metrics`)).body;
      return (
        metricValue(body, 'kube_zk_sync_forwarder_in_flight_events') === 0 &&
        metricValue(body, 'kube_zk_sync_forwarder_pending_events') === 0
      );
    });
    const metrics = await get(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metricValue(metrics.body, 'kube_zk_sync_forwarder_events_seen_total', { reason: 'list' })).toBe(
      total,
    );
    expect(metricValue(metrics.body, 'kube_zk_sync_forwarder_events_sent_total')).toBe(total);
    expect(metricValue(metrics.body, 'kube_zk_sync_forwarder_pending_events')).toBe(0);
    expect(metricValue(metrics.body, 'kube_zk_sync_forwarder_services')).toBe(total);
    expect(metricValue(metrics.body, 'kube_zk_sync_forwarder_seconds_since_last_send')).toBeLessThan(10);
    for (const name of [
      'events_failed_total',
      'events_retried_total',
      'events_coalesced_total',
      'watch_restarts_total',
      'relists_total',
      'list_failures_total',
      'in_flight_events',
      'put_events_calls_total',
    ]) {
      expect(metrics.body).toContain(`# TYPE kube_zk_sync_forwarder_${name} `);
    }
    // Node's own process metrics, for memory alerts.
    expect(metricValue(metrics.body, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect((await get(`${url}/nothing`)).status).toBe(404);
    forwarder.child.kill('SIGTERM');
    expect(await forwarder.exited).toBe(0);
  });

  test('SIGTERM stops the watch and flushes what is pending before exiting', async () => {
    rig = await Rig.start({ services: 300, seed: 32 });
    // A slow EventBridge and one call at a time: at SIGTERM most of the first list is still pending.
    rig.bridge.setFaults({ latencyMs: 25 });
    const forwarder = await startForwarder(rig, { SEND_CONCURRENCY: '1', FLUSH_SECONDS: '15' });
    await eventually('the first list', () => forwarder.logs().some((l) => l.msg === 'listed Services'));
    forwarder.child.kill('SIGTERM');
    const deliveredAtSignal = rig.bridge.deliveries.length;
    const total = rig.sim.listServices().length;
    expect(deliveredAtSignal).toBeLessThan(total / 2);
    expect(await forwarder.exited).toBe(0);
    // Everything observed before the signal arrived, exactly once.
    expect(rig.consumer.state()).toEqual(clusterState(rig.sim));
    expect(rig.bridge.deliveries.length).toBe(total);
    expect(forwarder.logs().at(-1)).toMatchObject({ msg: 'forwarder stopped', flushed: true, unsent: 0 });
  });

  test('SIGTERM with EventBridge refusing everything: exits at the flush deadline, status 3, saying what is unsent', async () => {
    rig = await Rig.start({ services: 50, seed: 33 });
    rig.bridge.setFaults({ throttleRate: 1 });
    const forwarder = await startForwarder(rig, { FLUSH_SECONDS: '1' });
    await eventually('the first list', () => forwarder.logs().some((l) => l.msg === 'listed Services'));
    const signalled = Date.now();
    forwarder.child.kill('SIGTERM');
    expect(await forwarder.exited).toBe(3);
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(forwarder.logs().at(-1)).toMatchObject({ msg: 'forwarder stopped', flushed: false });
    expect(forwarder.logs().at(-1)?.unsent).toBeGreaterThan(0);
  });

  test('killed (no flush) and restarted during churn: the final state arrives, except deletions no forwarder saw', async () => {
    rig = await Rig.start({ services: 300, seed: 34 });
    const { sim } = rig;
    // The churn goes through a recorder, to know at which resourceVersion each Service was deleted.
    const deletedAt = new Map<string, number>();
    const recorded = {
      listServices: () => sim.listServices(),
      getService: (ns: string, name: string) => sim.getService(ns, name),
      createService: (input: Parameters<typeof sim.createService>[0]) => sim.createService(input),
      updateService: (ns: string, name: string, mutate: Parameters<typeof sim.updateService>[2]) =>
        sim.updateService(ns, name, mutate),
      deleteService: (ns: string, name: string) => {
        const deleted = sim.deleteService(ns, name);
        deletedAt.set(`${ns}/${name}`, Number(sim.resourceVersion));
        return deleted;
      },
    };
    const first = await startForwarder(rig);
    await eventually('the first list', () => first.logs().some((l) => l.msg === 'listed Services'));
    const churn = startChurn(recorded, { changesPerSecond: 100, durationSeconds: 4, seed: 34 });
    await eventually('churn under way', () => changesMade(churn) >= 100);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = changesMade(churn);
    await eventually('changes while no forwarder runs', () => changesMade(churn) >= atKill + 100);
    const second = await startForwarder(rig);
    await churn.done;
    await eventually('the restarted forwarder to list', () =>
      second.logs().some((l) => l.msg === 'listed Services'),
    );
    const relistedAt = Number(second.logs().find((l) => l.msg === 'listed Services')?.resourceVersion);
    // Deletions the restarted forwarder watches happen (the churn may have ended before it listed).
    for (const s of sim.listServices().slice(0, 5))
      recorded.deleteService(s.metadata.namespace, s.metadata.name);

    // Every Service that exists arrives at its final version, including those changed while nothing watched.
    const expected = clusterState(sim);
    await eventually('every Service at its final version', () =>
      Object.entries(expected).every(
        ([key, s]) => JSON.stringify(rig?.consumer.state()[key]) === JSON.stringify(s),
      ),
    );
    // Deletions after the restart's list all arrive: the consumer's extra keys are old ones only.
    const consumer = rig.consumer;
    const lateDeletions = [...deletedAt]
      .filter(([key, rv]) => rv > relistedAt && !(key in expected))
      .map(([key]) => key);
    expect(lateDeletions.length).toBeGreaterThanOrEqual(5);
    const stillThere = () => lateDeletions.filter((key) => key in consumer.state());
    await eventually('the deletions after the restart', () => stillThere().length === 0).catch(() => {});
    expect(stillThere()).toEqual([]);
    // A forwarder that starts knows nothing of what was there before it: a Service deleted while no forwarder ran
    // (or whose deletion died, unsent, with the killed one) cannot be reported by it. Those, and only those, remain
    // for the other replica or the scheduled reconcile to remove.
    const leftOver = Object.keys(rig.consumer.state()).filter((key) => !(key in expected));
    for (const key of leftOver) {
      expect({ key, deletedBeforeTheRestartListed: (deletedAt.get(key) ?? Infinity) <= relistedAt }).toEqual({
        key,
        deletedBeforeTheRestartListed: true,
      });
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  test('one of two replicas killed and restarted during churn: exactly the final state arrives', async () => {
    rig = await Rig.start({ services: 300, seed: 36 });
    const steady = rig.forwarder();
    const first = await startForwarder(rig);
    await eventually(
      'both to list',
      () => steady.ready && first.logs().some((l) => l.msg === 'listed Services'),
    );
    const churn = startChurn(rig.sim, { changesPerSecond: 100, durationSeconds: 4, seed: 36 });
    await eventually('churn under way', () => changesMade(churn) >= 100);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = changesMade(churn);
    await eventually('changes while one replica is down', () => changesMade(churn) >= atKill + 100);
    const second = await startForwarder(rig);
    await churn.done;
    await eventually('the restarted replica to list', () =>
      second.logs().some((l) => l.msg === 'listed Services'),
    );
    await expectConverged(rig.consumer, rig.sim);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  test('a configuration error is one line naming every bad setting, and exit status 2', async () => {
    const result = await runCli(['forwarder', '--port', 'eighty'], {
      CLUSTER_ID: '',
      EVENT_BUS_NAME: '',
      AWS_REGION: '',
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--cluster-id / CLUSTER_ID is not set');
    expect(result.stderr).toContain('--event-bus / EVENT_BUS_NAME is not set');
    expect(result.stderr).toContain('--region / AWS_REGION is not set');
    expect(result.stderr).toContain('--port / HTTP_PORT="eighty": use a whole number');
  });
});

describe('two replicas at once', () => {
  test('the downstream state is the same as with one replica (and as the cluster)', async () => {
    rig = await Rig.start({ services: 300, seed: 35 });
    // Each replica sends to its own bus here, so what one replica alone would have produced can be seen too.
    const byBus = { a: new Consumer(), b: new Consumer() };
    rig.bridge.subscribe((d) => byBus[d.eventBusName as 'a' | 'b']?.apply(d.event.detail));
    const a = rig.forwarder({ eventBusName: 'a' });
    await eventually('replica a to list', () => a.ready);
    const churn = startChurn(rig.sim, { changesPerSecond: 150, durationSeconds: 3, seed: 35 });
    await eventually('churn under way', () => changesMade(churn) >= 75);
    const b = rig.forwarder({ eventBusName: 'b' });
    await eventually('replica b to list', () => b.ready);
    await eventually('more churn with both running', () => changesMade(churn) >= 225);
    // Both replicas meet the same drop; they resume independently.
    await rig.watchesOpen(2);
    expect(rig.sim.faults.dropWatches()).toBe(2);
    await churn.done;
    await expectConverged(rig.consumer, rig.sim);
    await expectConverged(byBus.a, rig.sim);
    await expectConverged(byBus.b, rig.sim);
    expect(b.ready).toBe(true);
    // Each replica's watch ended and was resumed. Usually as an error; on a starved event loop the stall watchdog
    // can give up on the watch first, so any reason counts.
    for (const replica of [a, b]) {
      const text = await replica.metrics.text();
      expect(metricTotal(text, 'kube_zk_sync_forwarder_watch_restarts_total')).toBeGreaterThanOrEqual(1);
    }
    // Both really sent: duplicates reached the consumer and cost nothing.
    expect(rig.consumer.applied).toBeGreaterThan(byBus.a.applied);
  });
});
