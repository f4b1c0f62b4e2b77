// The sending side against a misbehaving EventBridge (the local endpoint, the real SDK): throttled calls and failed
// entries lose nothing and resend only what failed; refused entries are dropped and counted; and while everything is
// throttled, the outbox holds at most one event per Service (README, guarantee 6).
import { afterEach, describe, expect, test } from 'vitest';
import { changesMade, startChurn } from '../../lib/local/apiserver/index.ts';
import { eventually } from '../support/cli.ts';
import { expectConverged, metricValue, Rig, settled, versionOf } from './rig.ts';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** Per `key@resourceVersion`, the outcome of each of its sends in order: true accepted, false failed. */
function sendHistory(r: Rig): Map<string, boolean[]> {
  const history = new Map<string, boolean[]>();
  for (const call of r.sends) {
    call.versions.forEach((id, i) => {
      history.set(id, [...(history.get(id) ?? []), call.accepted[i] === true]);
    });
  }
  return history;
}

const hasEntryError = (r: Rig, code: string) =>
  r.bridge.calls.some((c) => c.results?.some((result) => 'ErrorCode' in result && result.ErrorCode === code));

describe('retries', () => {
  test('throttled calls and 50% failed entries: nothing lost, and nothing sent more often than its failures need', async () => {
    rig = await Rig.start({ services: 300, seed: 21 });
    rig.bridge.setFaults({ throttleRate: 0.2, entryFailureRate: 0.5, entryErrorCode: 'ThrottlingException' });
    const forwarder = rig.forwarder();
    await eventually('the first list', () => forwarder.ready);
    const churn = startChurn(rig.sim, { changesPerSecond: 100, durationSeconds: 2, seed: 21 });
    await eventually('half the churn', () => changesMade(churn) >= 100);
    // Half-way, the other retryable code.
    rig.bridge.setFaults({ throttleRate: 0.2, entryFailureRate: 0.5, entryErrorCode: 'InternalFailure' });
    await churn.done;
    await expectConverged(rig.consumer, rig.sim, 15_000);
    await settled(forwarder);

    const history = sendHistory(rig);
    const outcomes = [...history.values()];
    // The client's record agrees with the endpoint's: every acceptance the client saw, the endpoint made.
    const accepted = rig.bridge.calls.flatMap((c) => c.results ?? []).filter((r) => 'EventId' in r).length;
    expect(outcomes.flat().filter(Boolean).length).toBe(accepted);
    // Faults really happened: whole calls throttled, and entries failed with both retryable codes.
    expect(rig.bridge.calls.some((c) => c.error === 'ThrottlingException')).toBe(true);
    expect(hasEntryError(rig, 'ThrottlingException')).toBe(true);
    expect(hasEntryError(rig, 'InternalFailure')).toBe(true);
    expect(outcomes.filter((o) => o.includes(false)).length).toBeGreaterThan(100);
    // A version is sent again only after its previous send failed, and never after it was accepted: at most one
    // acceptance, and it is the last send. (A version that failed and was then replaced by a newer one of the same
    // Service is not resent at all.)
    const extra = [...history].filter(
      ([, o]) => o.filter(Boolean).length > 1 || o.slice(0, -1).some(Boolean),
    );
    expect(extra).toEqual([]);

    const text = await forwarder.metrics.text();
    const failedSends = outcomes.flat().filter((ok) => !ok).length;
    const retried = metricValue(text, 'kube_zk_sync_forwarder_events_retried_total');
    const coalesced = metricValue(text, 'kube_zk_sync_forwarder_events_coalesced_total');
    // Every failed send was either put back (retried) or replaced by a newer version of its Service (coalesced).
    expect(retried).toBeGreaterThan(0);
    expect(retried).toBeLessThanOrEqual(failedSends);
    expect(retried + coalesced).toBeGreaterThanOrEqual(failedSends);
    expect(
      metricValue(text, 'kube_zk_sync_forwarder_events_failed_total', { code: 'ThrottlingException' }),
    ).toBe(0);
    expect(metricValue(text, 'kube_zk_sync_forwarder_events_sent_total')).toBe(accepted);
  });

  test('an entry refused with a non-retryable code is logged, counted and dropped; the rest go through', async () => {
    rig = await Rig.start({ services: 100, seed: 22 });
    const [victim] = rig.sim.listServices();
    if (!victim) throw new Error('no Service');
    const victimKey = `${victim.metadata.namespace}/${victim.metadata.name}`;
    rig.bridge.setFaults({
      failEntry: (entry) =>
        versionOf(entry.Detail).startsWith(`${victimKey}@`) ? 'AccessDeniedException' : undefined,
    });
    const logged: { message: string; fields: unknown }[] = [];
    const forwarder = rig.forwarder({
      logger: {
        debug() {},
        info() {},
        warn() {},
        error: (message, fields) => logged.push({ message, fields }),
      },
    });
    await expectConverged(rig.consumer, rig.sim, 10_000, (key) => key !== victimKey);
    await settled(forwarder);
    expect(rig.consumer.state()[victimKey]).toBeUndefined();
    // Sent once, refused, never resent.
    const victimSends = [...sendHistory(rig)].filter(([id]) => id.startsWith(`${victimKey}@`));
    expect(victimSends.map(([, o]) => o)).toEqual([[false]]);
    const text = await forwarder.metrics.text();
    expect(
      metricValue(text, 'kube_zk_sync_forwarder_events_failed_total', { code: 'AccessDeniedException' }),
    ).toBe(1);
    expect(logged).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ key: victimKey, code: 'AccessDeniedException' }),
      }),
    ]);
  });
});

describe('memory bound', () => {
  test('with EventBridge throttling every call, thousands of changes leave at most one pending event per Service', async () => {
    const services = 150;
    rig = await Rig.start({ services, seed: 23 });
    const total = rig.sim.listServices().length;
    rig.bridge.setFaults({ throttleRate: 1 });
    const forwarder = rig.forwarder({ send: { backoff: { initialMs: 20, maxMs: 100 } } });
    await eventually('the first list', () => forwarder.ready);
    let maxPending = 0;
    const sample = setInterval(() => {
      maxPending = Math.max(maxPending, forwarder.pending);
    }, 5);
    // 4000 updates, in slices so the watch delivers them while the outbox is full.
    const all = rig.sim.listServices();
    for (let i = 0; i < 4000; i++) {
      const s = all[i % all.length];
      if (!s) continue;
      rig.sim.updateService(s.metadata.namespace, s.metadata.name, (d) => {
        d.metadata.labels = { ...d.metadata.labels, revision: String(i) };
      });
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 10));
    }
    await eventually(
      'every update to reach the forwarder',
      async () =>
        metricValue(await forwarder.metrics.text(), 'kube_zk_sync_forwarder_events_seen_total', {
          reason: 'watch',
        }) === 4000,
    );
    clearInterval(sample);
    const text = await forwarder.metrics.text();
    maxPending = Math.max(maxPending, forwarder.pending);
    expect(metricValue(text, 'kube_zk_sync_forwarder_events_sent_total')).toBe(0);
    expect(maxPending).toBeGreaterThan(total / 2);
    expect(maxPending).toBeLessThanOrEqual(total);
    expect(forwarder.pending + forwarder.inFlight).toBeLessThanOrEqual(total + 40);

    // EventBridge recovers: the latest state of every Service arrives, in about one event per Service.
    rig.bridge.setFaults({});
    await expectConverged(rig.consumer, rig.sim);
    expect(rig.consumer.applied).toBeLessThanOrEqual(total + 40);
  });
});
