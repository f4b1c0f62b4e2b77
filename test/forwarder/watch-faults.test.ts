// The forwarder against every way a watch ends (README, "The forwarder"), with the real @kubernetes/client-node and
// the real EventBridge SDK: after each, a consumer of the delivered events holds exactly the simulator's final state.
import { afterEach, describe, expect, test } from 'vitest';
import { changesMade, startChurn } from '../../lib/local/apiserver/index.ts';
import { eventually } from '../support/cli.ts';
import { expectConverged, metricValue, Rig, settled, watchWithInactivityTimeout } from './rig.ts';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const metrics = async (forwarder: { metrics: { text(): Promise<string> } }) => forwarder.metrics.text();

describe('watch faults during churn', () => {
  test('a watch dropped every second resumes from the last version seen, without relisting', async () => {
    rig = await Rig.start({ services: 300, seed: 11 });
    const forwarder = rig.forwarder();
    await eventually('the first list', () => forwarder.ready);
    const churn = startChurn(rig.sim, { changesPerSecond: 150, durationSeconds: 5, seed: 11 });
    let drops = 0;
    const dropper = setInterval(() => {
      drops += rig?.sim.faults.dropWatches() ?? 0;
    }, 1000);
    await churn.done;
    clearInterval(dropper);
    await expectConverged(rig.consumer, rig.sim);
    expect(drops).toBeGreaterThanOrEqual(3);
    const text = await metrics(forwarder);
    expect(
      metricValue(text, 'kube_zk_sync_forwarder_watch_restarts_total', { reason: 'error' }),
    ).toBeGreaterThanOrEqual(drops);
    // Every drop was resumed from a resourceVersion still in history: no list after the first.
    expect(metricValue(text, 'kube_zk_sync_forwarder_relists_total')).toBe(0);
    // Resuming from the last version seen neither skips nor repeats a change: each version is accepted once.
    expect([...rig.acceptedPerVersion().values()].every((n) => n === 1)).toBe(true);
  });

  test('a stalled watch (headers, then silence) is abandoned after the stall limit and resumed', async () => {
    rig = await Rig.start({ services: 200, seed: 12 });
    const forwarder = rig.forwarder({ watch: { stallMs: 800 } });
    await eventually('the first list', () => forwarder.ready);
    const churn = startChurn(rig.sim, { changesPerSecond: 100, durationSeconds: 4, seed: 12 });
    // One stall of the open watch, then two seconds in which every new watch stalls too.
    await eventually('churn under way', () => changesMade(churn) >= 50);
    await rig.watchesOpen(1);
    expect(rig.sim.faults.stallWatches({ alsoNew: true })).toBe(1);
    await eventually(
      'the stall to be seen',
      async () =>
        metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_watch_restarts_total', {
          reason: 'stall',
        }) >= 2,
    );
    rig.sim.faults.clear();
    await churn.done;
    await expectConverged(rig.consumer, rig.sim);
    expect(metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_relists_total')).toBe(0);
  });

  test('a quiet watch that client-node times out (TimeoutError) is resumed quietly: no relist, no resend', async () => {
    // No bookmarks at all, and client-node's inactivity timeout at 300 ms: a quiet cluster, fast-forwarded.
    rig = await Rig.start({ services: 50, seed: 13, simulator: { bookmarkIntervalMs: 600_000 } });
    const forwarder = rig.forwarder({
      watch: { api: watchWithInactivityTimeout(rig.kubeConfig, 300), stallMs: 5000 },
    });
    await eventually('the first list', () => forwarder.ready);
    await eventually(
      'three timeouts',
      async () =>
        metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_watch_restarts_total', {
          reason: 'timeout',
        }) >= 3,
    );
    const [first] = rig.sim.listServices();
    if (!first) throw new Error('no Service');
    rig.sim.updateService(first.metadata.namespace, first.metadata.name, (s) => {
      s.metadata.labels = { ...s.metadata.labels, touched: 'yes' };
    });
    await expectConverged(rig.consumer, rig.sim);
    await settled(forwarder);
    const text = await metrics(forwarder);
    expect(metricValue(text, 'kube_zk_sync_forwarder_relists_total')).toBe(0);
    expect(metricValue(text, 'kube_zk_sync_forwarder_events_sent_total')).toBe(
      rig.sim.listServices().length + 1,
    );
    expect(rig.sim.stats().requests.list).toBe(1);
  });
});

describe('410 Gone', () => {
  /**
   * The forwarder misses changes (its watches stall), history is compacted past them, and the next watch meets 410
   * in `shape`: only a relist can find the Services deleted meanwhile.
   */
  async function goneScenario(shape: 'stream' | 'http') {
    rig = await Rig.start({ services: 200, seed: shape === 'stream' ? 14 : 15 });
    const { sim } = rig;
    const forwarder = rig.forwarder({ watch: { stallMs: 800 } });
    await eventually('the first list', () => forwarder.ready);
    sim.faults.stallWatches({ alsoNew: true });
    const churn = startChurn(sim, { changesPerSecond: 200, durationSeconds: 1, seed: 3 });
    await churn.done;
    const victims = sim.listServices().slice(0, 5);
    for (const s of victims) sim.deleteService(s.metadata.namespace, s.metadata.name);
    sim.compact();
    // Compaction alone gives the stream shape; for the HTTP shape the next watch is refused with the status.
    sim.faults.clear();
    if (shape === 'http') sim.faults.goneOnNextWatch(1, { shape: 'http' });
    await eventually(
      'a relist',
      async () => metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_relists_total') >= 1,
    );
    const more = startChurn(sim, { changesPerSecond: 100, durationSeconds: 1, seed: 4 });
    await more.done;
    await expectConverged(rig.consumer, sim);
    const text = await metrics(forwarder);
    expect(
      metricValue(text, 'kube_zk_sync_forwarder_watch_restarts_total', { reason: 'gone' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'kube_zk_sync_forwarder_events_seen_total', { reason: 'deleted' }),
    ).toBeGreaterThanOrEqual(victims.length);
  }

  test('in the stream (an ERROR event with a 410 Status): relist, and deletions for the keys that vanished', () =>
    goneScenario('stream'));

  test('as the HTTP status of the watch request: the same', () => goneScenario('http'));
  test('410 on every watch, even right after a list: relists back off instead of looping', async () => {
    rig = await Rig.start({ services: 100, seed: 19 });
    const forwarder = rig.forwarder();
    await eventually('the first list', () => forwarder.ready);
    const started = Date.now();
    rig.sim.faults.goneOnNextWatch(5, { shape: 'http' });
    rig.sim.faults.dropWatches();
    await eventually(
      'five relists',
      async () => metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_relists_total') >= 5,
    );
    // Backoff from 50 ms doubling (to 400 ms), each wait at least half its ceiling: well over 375 ms for five.
    expect(Date.now() - started).toBeGreaterThanOrEqual(375);
    // The first list and five relists, each of its pages (100 Services a page), and nothing more.
    expect(rig.sim.stats().requests.list).toBe(6 * Math.ceil(rig.sim.listServices().length / 100));
    await expectConverged(rig.consumer, rig.sim);
  });
});

describe('API errors on list', () => {
  test('5xx on the first list: retried with backoff until it succeeds', async () => {
    rig = await Rig.start({ services: 200, seed: 16 });
    rig.sim.faults.failNext(4, { on: 'list', status: 503 });
    const forwarder = rig.forwarder();
    await eventually('the first list', () => forwarder.ready);
    await expectConverged(rig.consumer, rig.sim);
    expect(metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_list_failures_total')).toBe(4);
  });

  test('a list page that hangs is abandoned at the page timeout and the list retried', async () => {
    rig = await Rig.start({ services: 100, seed: 18 });
    rig.sim.faults.setLatency(5000);
    const forwarder = rig.forwarder({ watch: { listPageTimeoutMs: 300 } });
    await eventually(
      'two abandoned lists',
      async () => metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_list_failures_total') >= 2,
    );
    expect(forwarder.ready).toBe(false);
    rig.sim.faults.setLatency(0);
    await eventually('the first list', () => forwarder.ready);
    await expectConverged(rig.consumer, rig.sim);
  });

  test('5xx in the middle of a relist: the list is retried, and nothing is deleted from a partial one', async () => {
    rig = await Rig.start({ services: 400, seed: 17 });
    const { sim } = rig;
    const forwarder = rig.forwarder({ watch: { pageSize: 50 } });
    await eventually('the first list', () => forwarder.ready);
    await expectConverged(rig.consumer, sim);
    await settled(forwarder);
    // A relist of 10 pages where about one page in eight fails: most attempts break off partway.
    sim.faults.failRandomly(0.12, { on: 'list', status: 500 });
    sim.faults.goneOnNextWatch(1, { shape: 'http' });
    sim.faults.dropWatches();
    await eventually(
      'a relist that completes',
      async () => metricValue(await metrics(forwarder), 'kube_zk_sync_forwarder_relists_total') >= 1,
      15_000,
    );
    sim.faults.clear();
    const text = await metrics(forwarder);
    expect(metricValue(text, 'kube_zk_sync_forwarder_list_failures_total')).toBeGreaterThanOrEqual(1);
    // Nothing changed in the cluster, so a correct forwarder reports no deletion and resends nothing.
    expect(metricValue(text, 'kube_zk_sync_forwarder_events_seen_total', { reason: 'deleted' })).toBe(0);
    expect(metricValue(text, 'kube_zk_sync_forwarder_events_sent_total')).toBe(sim.listServices().length);
    await expectConverged(rig.consumer, sim);
  });
});
