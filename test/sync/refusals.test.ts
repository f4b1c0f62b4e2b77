// What the sync does with events it must not apply and writes it must not make: events older than the tombstones,
// a corrupt document or sync state, and a result over the size limit. Nothing is written, and the report says why.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { parseRegistryConfig } from '../../lib/config/config.ts';
import { serviceKey } from '../../lib/events/contract.ts';
import { ApiServerSimulator, generateServices } from '../../lib/local/apiserver/index.ts';
import { parseSyncState, SyncStateError } from '../../lib/registry/sync-state.ts';
import { judgeRecord, MAX_EVENT_AGE_MS, syncBatch } from '../../lib/sync/batch.ts';
import { registryFromConfig, registryTarget } from '../../lib/sync/target.ts';
import { syncStatePath } from '../../lib/zk/registry-store.ts';
import { eventBridgeEvent, forwarderDetail, serviceRecord, sqsRecord } from './fixtures.ts';

const CLUSTER = 'refusals';
const connectString = inject('zkConnect');
const simulator = new ApiServerSimulator();
const services = generateServices(10, { seed: 3 })
  .filter((s) => s.type === 'LoadBalancer' && s.ingress)
  .map((s) => simulator.createService(s));
const at = (i: number) => {
  const service = services[i];
  if (!service) throw new Error(`the generator made no Service ${i}`);
  return service;
};
const opened: Array<{ close(): void }> = [];
afterAll(() => {
  for (const s of opened) s.close();
});

function setup(extra: Record<string, string> = {}) {
  const config = parseRegistryConfig({
    ZK_CONNECT: connectString,
    REGISTRY_PATH: `/refusals/${randomUUID()}`,
    CLUSTER_ID: CLUSTER,
    ZK_OPEN_ACL: 'true',
    ...extra,
  });
  const { store, registry } = registryFromConfig(config);
  opened.push(store);
  return { config, store, registry, target: registryTarget(config) };
}

describe('events older than the tombstones', () => {
  test('are ignored, so a DLQ replayed days later cannot bring back a deleted Service', async () => {
    const { store, registry, target, config } = setup();
    const service = at(0);
    const old = forwarderDetail(CLUSTER, service);
    const observedLongAgo = {
      ...old,
      observedAt: new Date(Date.now() - MAX_EVENT_AGE_MS - 3600_000).toISOString(),
    };
    const deleted = simulator.deleteService(service.metadata.namespace, service.metadata.name);
    // The deletion is applied, then its tombstone expires (the state is rewritten without it, as pruning does).
    await syncBatch([serviceRecord(CLUSTER, deleted, 'deleted')], { registry, target });
    const statePath = syncStatePath(config.registryPath, CLUSTER);
    await store.update([statePath], () => ({
      data: [Buffer.from('{"services":{},"tombstones":{}}\n')],
      result: 0,
    }));
    const before = await store.read(config.registryPath);

    const result = await syncBatch([sqsRecord(eventBridgeEvent(observedLongAgo), 'old-one')], {
      registry,
      target,
    });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.report).toMatchObject({ ignored: 1, applied: 0, written: false });
    expect(result.ignoredReasons[0]?.reason).toMatch(
      /observed 49 hours ago, longer than tombstones are kept \(48 hours\)/,
    );
    expect((await store.read(config.registryPath)).version).toBe(before.version);
    const { document } = await registry.read();
    expect(document.entries.map((e) => e.owner?.service)).not.toContain(
      serviceKey(service.metadata.namespace, service.metadata.name),
    );
  });

  test('judgeRecord takes a recent event', () => {
    const service = at(1);
    const body = JSON.stringify(eventBridgeEvent(forwarderDetail(CLUSTER, service)));
    expect(judgeRecord(body, CLUSTER).kind).toBe('valid');
    expect(judgeRecord(body, CLUSTER, Date.now() + MAX_EVENT_AGE_MS + 1000).kind).toBe('ignored');
  });
});

describe('refused writes', () => {
  test('a corrupt document: every record comes back, the document is untouched, the report says refused', async () => {
    const { store, registry, target, config } = setup();
    await store.update([config.registryPath], () => ({
      data: [Buffer.from('{"not": "an array"}')],
      result: 0,
    }));
    const records = services.slice(0, 3).map((s) => serviceRecord(CLUSTER, s));
    const result = await syncBatch(records, { registry, target });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    expect(result.report.refused).toBe('DocumentError');
    expect((await store.read(config.registryPath)).data?.toString()).toBe('{"not": "an array"}');
  });

  test('a corrupt sync state is refused with a clear error, not a crash', async () => {
    const { store, registry, target, config } = setup();
    const statePath = syncStatePath(config.registryPath, CLUSTER);
    await store.update([statePath], () => ({
      data: [Buffer.from('{"services":{},"tombstones":{"a/b":null}}')],
      result: 0,
    }));
    const result = await syncBatch([serviceRecord(CLUSTER, at(0))], { registry, target });
    expect(result.report.refused).toBe('SyncStateError');
    expect(result.report.error).toMatch(/tombstone of a\/b is not/);
    expect(() => parseSyncState('{"services":{"a/b":7},"tombstones":{}}')).toThrow(SyncStateError);
  });

  test('a result over the size limit: nothing written, the report carries the refused sizes, a reconcile is asked for', async () => {
    // Budgets as large as the limit: what is refused here is the write, not Services.
    const { store, registry, target, config } = setup({
      MAX_DOCUMENT_BYTES: '2000',
      NAMESPACE_MAX_BYTES: '2000',
      CLUSTER_MAX_BYTES: '2000',
    });
    const records = services.map((s) => serviceRecord(CLUSTER, s));
    const asked: string[] = [];
    const result = await syncBatch(records, {
      registry,
      target,
      requestReconcile: async (why) => {
        asked.push(why);
      },
    });
    expect(result.report.refused).toBe('DataTooLargeError');
    // Each part of the refused request by its own name: the document-size alarm must not blame the state.
    expect(result.report.documentBytes).toBeGreaterThan(1000);
    expect(result.report.stateBytes).toBeGreaterThan(0);
    expect(result.report.documentBytes + result.report.stateBytes).toBeGreaterThan(2000);
    // A state grown with the changes since the last reconcile shrinks when a reconcile raises its floor.
    expect(result.report.reconcileRequested).toBe(true);
    expect(asked).toEqual([expect.stringMatching(/exceed the limit of 2000 bytes/)]);
    expect((await store.read(config.registryPath)).version).toBe(-1);
  });
});
