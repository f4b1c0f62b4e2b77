// The cluster's identity in every event: the forwarder reads the kube-system namespace's uid on every list and puts
// it in the detail as `clusterUid`, so that the sync can tell a cluster rebuilt under the same id (whose
// resourceVersions start over) from the old one. Best effort: without the permission, events go without it, and the
// log says so once; a transient failure of the read is retried with the list, never sent as "unknown".
import { afterEach, describe, expect, test } from 'vitest';
import { parseServiceEventDetail, type ServiceEventDetail } from '../../lib/events/contract.ts';
import { eventFor } from '../../lib/forwarder/event.ts';
import { ApiServerSimulator, type ServiceInput } from '../../lib/local/apiserver/index.ts';
import type { Logger } from '../../lib/util/log.ts';
import { eventually } from '../support/cli.ts';
import { metricValue, Rig, settled } from './rig.ts';

let rig: Rig | undefined;
const others: ApiServerSimulator[] = [];
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  for (const sim of others.splice(0)) await sim.stop();
});

/** A logger that keeps what it is told. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** Every detail the bus delivered, in order. */
function delivered(r: Rig): ServiceEventDetail[] {
  const details: ServiceEventDetail[] = [];
  r.bridge.subscribe((d) => details.push(parseServiceEventDetail(d.event.detail)));
  return details;
}

const lb = (name: string, ip: string): ServiceInput => ({
  namespace: 'shop',
  name,
  type: 'LoadBalancer',
  ports: [{ name: 'http', port: 80 }],
  ingress: [{ ip }],
});

describe('the event detail', () => {
  const service = {
    metadata: { namespace: 'shop', name: 'cart', resourceVersion: '7' },
    spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
  };
  const at = new Date('2026-01-01T00:00:00Z');

  test('carries the identity the change was seen in, for a Service and for a deletion', () => {
    const observed = eventFor(
      'prod',
      { kind: 'observed', reason: 'watch', object: service, clusterUid: 'uid-1' },
      at,
    );
    expect(JSON.parse(observed.detail)).toMatchObject({
      cluster: 'prod',
      clusterUid: 'uid-1',
      key: 'shop/cart',
    });
    const deleted = eventFor(
      'prod',
      { kind: 'deleted', key: 'shop/cart', resourceVersion: '9', clusterUid: 'uid-1' },
      at,
    );
    expect(JSON.parse(deleted.detail)).toMatchObject({
      clusterUid: 'uid-1',
      reason: 'deleted',
      service: null,
    });
    // The size EventBridge counts includes the field.
    const without = eventFor('prod', { kind: 'observed', reason: 'watch', object: service }, at);
    expect(observed.size - without.size).toBe(Buffer.byteLength(',"clusterUid":"uid-1"'));
  });

  test('has no clusterUid when the identity is unknown', () => {
    const event = eventFor('prod', { kind: 'observed', reason: 'list', object: service }, at);
    expect(JSON.parse(event.detail)).not.toHaveProperty('clusterUid');
  });
});

describe('the forwarder', () => {
  test("puts the kube-system namespace's uid in every event: list, watch and deletion", async () => {
    rig = await Rig.start({ services: 40, seed: 61, simulator: { clusterUid: 'cluster-uid-a' } });
    const details = delivered(rig);
    const { logger, lines } = recordingLogger();
    const forwarder = rig.forwarder({ logger });
    await eventually('the first list', () => forwarder.ready);
    const [first, second] = rig.sim.listServices();
    if (!first || !second) throw new Error('no Service');
    rig.sim.updateService(first.metadata.namespace, first.metadata.name, (s) => {
      s.metadata.labels = { ...s.metadata.labels, touched: 'yes' };
    });
    rig.sim.deleteService(second.metadata.namespace, second.metadata.name);
    await eventually('the update and the deletion', () =>
      ['watch', 'deleted'].every((reason) => details.some((d) => d.reason === reason)),
    );
    await settled(forwarder);
    expect(new Set(details.map((d) => d.reason))).toEqual(new Set(['list', 'watch', 'deleted']));
    expect(details.every((d) => d.clusterUid === 'cluster-uid-a')).toBe(true);
    expect(lines.find((l) => l.message === 'listed Services')?.fields).toMatchObject({
      clusterUid: 'cluster-uid-a',
    });
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  test('without permission on the namespace (403): events without it, said once in the log, re-read on every relist', async () => {
    rig = await Rig.start({ services: 40, seed: 62 });
    rig.sim.faults.forbidNamespaces();
    const details = delivered(rig);
    const { logger, lines } = recordingLogger();
    const forwarder = rig.forwarder({ logger });
    await eventually('the first list', () => forwarder.ready);
    // Two relists (410 on the watch): each reads the namespace again.
    rig.sim.faults.goneOnNextWatch(2, { shape: 'http' });
    rig.sim.faults.dropWatches();
    await eventually(
      'two relists',
      async () => metricValue(await forwarder.metrics.text(), 'kube_zk_sync_forwarder_relists_total') >= 2,
    );
    rig.sim.createService(lb('after-relists', '203.0.113.9'));
    await eventually('the new Service', () => details.some((d) => d.key === 'shop/after-relists'));
    await settled(forwarder);
    expect(details.length).toBeGreaterThan(40);
    expect(details.filter((d) => d.clusterUid !== undefined)).toEqual([]);
    expect(rig.sim.stats().faults.forbidden).toBeGreaterThanOrEqual(3);
    const warnings = lines.filter((l) => l.level === 'warn' && l.message.includes('cluster identity'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields.why).toMatch(/HTTP 403: namespaces "kube-system" is forbidden/);
  });

  test('a transient failure of the read is retried with the list: no event goes out without the identity', async () => {
    rig = await Rig.start({ services: 40, seed: 63, simulator: { clusterUid: 'cluster-uid-c' } });
    rig.sim.faults.failNext(2, { on: 'get', status: 503 });
    const details = delivered(rig);
    const { logger, lines } = recordingLogger();
    const forwarder = rig.forwarder({ logger });
    await eventually('the first list', () => forwarder.ready);
    await settled(forwarder);
    expect(metricValue(await forwarder.metrics.text(), 'kube_zk_sync_forwarder_list_failures_total')).toBe(2);
    expect(details.length).toBeGreaterThan(0);
    expect(details.every((d) => d.clusterUid === 'cluster-uid-c')).toBe(true);
    expect(lines.filter((l) => l.message.includes('cluster identity'))).toEqual([]);
  });

  test('a new cluster behind the same endpoint: the relist sends every Service again, with the new identity', async () => {
    // The same names created in the same order get the same resourceVersions in the new cluster: only the identity
    // tells that they are other objects.
    const before = [lb('cart', '203.0.113.1'), lb('pay', '203.0.113.2'), lb('ship', '203.0.113.3')];
    const after = [lb('cart', '198.51.100.1'), lb('pay', '198.51.100.2'), lb('ship', '198.51.100.3')];
    rig = await Rig.start({ services: before, seed: 64, simulator: { clusterUid: 'old-cluster' } });
    const details = delivered(rig);
    const { logger, lines } = recordingLogger();
    const forwarder = rig.forwarder({ logger });
    await eventually('the first list', () => forwarder.ready);
    await settled(forwarder);
    const port = Number(new URL(rig.sim.url).port);
    await rig.sim.stop();

    const rebuilt = new ApiServerSimulator({ bookmarkIntervalMs: 200, clusterUid: 'new-cluster' });
    others.push(rebuilt);
    for (const input of after) rebuilt.createService(input);
    // Its apiserver knows nothing of the old cluster's versions: the resumed watch gets 410 and the forwarder relists.
    rebuilt.faults.goneOnNextWatch(1, { shape: 'http' });
    await rebuilt.start({ port });
    expect(rebuilt.listServices().map((s) => s.metadata.resourceVersion)).toEqual(
      before.map((_, i) => String(i + 2)),
    );
    await eventually('every Service of the new cluster', () =>
      after.every((s) => details.some((d) => d.key === `shop/${s.name}` && d.clusterUid === 'new-cluster')),
    );
    await settled(forwarder);
    const fromNew = details.filter((d) => d.clusterUid === 'new-cluster');
    expect(fromNew.map((d) => [d.key, d.service?.status?.loadBalancer?.ingress])).toEqual(
      after.map((s) => [`shop/${s.name}`, s.ingress]),
    );
    expect(details.filter((d) => d.clusterUid === undefined)).toEqual([]);
    expect(lines.find((l) => l.message.startsWith('the cluster identity changed'))?.fields).toEqual({
      from: 'old-cluster',
      to: 'new-cluster',
    });
  });
});
