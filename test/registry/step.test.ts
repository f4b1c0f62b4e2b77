import { describe, expect, test } from 'vitest';
import { ownedEntry, type RegistryDocument } from '../../lib/registry/document.ts';
import { completeListObservations, type EntryDecision, planStep } from '../../lib/registry/step.ts';
import {
  admitObservations,
  emptySyncState,
  type Observation,
  parseSyncState,
  SyncStateError,
  serializeSyncState,
} from '../../lib/registry/sync-state.ts';

type Svc = { name: string; port: number } | { bad: string } | { skip: string };
const obs = (key: string, rv: string, value: Svc | null): Observation<Svc> => ({
  key,
  resourceVersion: rv,
  value,
});
const toEntry = (s: Svc): EntryDecision =>
  'bad' in s
    ? { kind: 'invalid', error: s.bad }
    : 'skip' in s
      ? { kind: 'skipped', reason: s.skip }
      : { kind: 'entry', entry: { name: s.name, description: '', endpoints: [`h:${s.port}`] } };

const step = (
  document: RegistryDocument,
  state = emptySyncState,
  observations: Observation<Svc>[] = [],
  extra = {},
) => planStep({ document, state, observations, owner: 'c', policy: 'sync', toEntry, now: 1000, ...extra });

describe('admitObservations', () => {
  test('keeps the newest version per key and drops what is older than the state', () => {
    const state = { services: { 'ns/a': '10' }, tombstones: { 'ns/b': { rv: '20', at: 0 } } };
    const { admitted, stale, next } = admitObservations(
      state,
      [
        obs('ns/a', '12', null),
        obs('ns/a', '11', { name: 'a', port: 1 }),
        obs('ns/a', '9', { name: 'a', port: 2 }),
        obs('ns/b', '15', { name: 'b', port: 1 }),
        obs('ns/c', '3', { name: 'c', port: 1 }),
      ],
      100,
    );
    expect([...admitted.values()]).toEqual([
      obs('ns/a', '12', null),
      obs('ns/c', '3', { name: 'c', port: 1 }),
    ]);
    expect(stale).toEqual([obs('ns/b', '15', { name: 'b', port: 1 })]);
    expect(next).toEqual({
      services: { 'ns/c': '3' },
      tombstones: { 'ns/a': { rv: '12', at: 100 }, 'ns/b': { rv: '20', at: 0 } },
    });
  });

  test('admits an observation of the same version again (a reconcile re-maps everything)', () => {
    const { admitted } = admitObservations(
      { services: { 'ns/a': '10' }, tombstones: {} },
      [obs('ns/a', '10', { name: 'a', port: 1 })],
      0,
    );
    expect(admitted.size).toBe(1);
  });

  test('forgets tombstones after their time to live', () => {
    const { next } = admitObservations(
      { services: {}, tombstones: { 'ns/a': { rv: '1', at: 0 } } },
      [],
      10,
      5,
    );
    expect(next.tombstones).toEqual({});
  });

  test('state bytes are deterministic and read back', () => {
    const a = serializeSyncState({ services: { 'x/b': '2', 'x/a': '1' }, tombstones: {} });
    expect(a).toBe(serializeSyncState({ services: { 'x/a': '1', 'x/b': '2' }, tombstones: {} }));
    expect(parseSyncState(a)).toEqual({ services: { 'x/a': '1', 'x/b': '2' }, tombstones: {} });
    expect(() => parseSyncState('[1]')).toThrow(SyncStateError);
  });
});

describe('planStep', () => {
  test('a late event never brings back a deleted Service', () => {
    const first = step({ entries: [] }, emptySyncState, [
      obs('ns/a', '5', { name: 'a', port: 1 }),
      obs('ns/a', '7', null),
    ]);
    expect(first.document.entries).toEqual([]);
    const late = step(first.document, first.state, [obs('ns/a', '5', { name: 'a', port: 1 })]);
    expect(late.stale).toHaveLength(1);
    expect(late.changed).toBe(false);
    expect(late.document.entries).toEqual([]);
  });

  test('an invalid Service keeps its entry, a skipped one loses it', () => {
    const current = {
      entries: [
        ownedEntry({ name: 'a', description: '', endpoints: ['h:1'] }, { cluster: 'c', service: 'ns/a' }),
        ownedEntry({ name: 'b', description: '', endpoints: ['h:1'] }, { cluster: 'c', service: 'ns/b' }),
      ],
    };
    const result = step(current, emptySyncState, [
      obs('ns/a', '2', { bad: 'port "x" not found' }),
      obs('ns/b', '2', { skip: 'no ingress yet' }),
    ]);
    expect(result.invalid).toEqual([{ key: 'ns/a', error: 'port "x" not found' }]);
    expect(result.skipped).toEqual([{ key: 'ns/b', reason: 'no ingress yet' }]);
    expect(result.document.entries.map((e) => e.name)).toEqual(['a']);
  });

  test('an invalid Service gives back a name the name policy does not allow it, and keeps one it does', () => {
    const current = {
      entries: [
        ownedEntry({ name: 'kafka', description: '', endpoints: ['h:1'] }, { cluster: 'c', service: 'ns/a' }),
        ownedEntry({ name: 'b.ns', description: '', endpoints: ['h:1'] }, { cluster: 'c', service: 'ns/b' }),
      ],
    };
    const nameRefusal = (_service: string, name: string) =>
      name === 'kafka' ? 'kafka is reserved' : undefined;
    const result = step(
      current,
      emptySyncState,
      [obs('ns/a', '2', { bad: 'the name "kafka" is reserved' }), obs('ns/b', '2', { bad: 'no port "x"' })],
      { nameRefusal },
    );
    expect(result.document.entries.map((e) => e.name)).toEqual(['b.ns']);
    expect(result.invalid).toEqual([
      {
        key: 'ns/a',
        error: `the name "kafka" is reserved; its entry "kafka" is removed, as its name is not the Service's`,
      },
      { key: 'ns/b', error: 'no port "x"' },
    ]);
  });

  test('a budget refuses Services alone: the rest of the step goes ahead', () => {
    const result = step(
      { entries: [] },
      emptySyncState,
      [
        obs('ns/c', '1', { name: 'c', port: 1 }),
        obs('ns/a', '1', { name: 'a', port: 1 }),
        obs('ns/b', '1', { name: 'b', port: 1 }),
        obs('other/d', '1', { name: 'd', port: 1 }),
      ],
      { budgets: { namespaceMaxEntries: 2, namespaceMaxBytes: 1e6, clusterMaxBytes: 1e6 } },
    );
    expect(result.document.entries.map((e) => e.name)).toEqual(['a', 'b', 'd']);
    expect(result.invalid).toEqual([
      {
        key: 'ns/c',
        error:
          "Service ns/c: over namespace ns's budget: its Services have 2 entries, and NAMESPACE_MAX_ENTRIES is 2; it is not published",
      },
    ]);
    // Its version is applied all the same: the refusal is a decision about this version, not a failure to retry.
    expect(result.state.services['ns/c']).toBe('1');
  });

  test('the deletion guard refuses a plan that deletes too much, unless forced', () => {
    const current = {
      entries: ['a', 'b', 'c'].map((n) =>
        ownedEntry({ name: n, description: '', endpoints: ['h:1'] }, { cluster: 'c', service: `ns/${n}` }),
      ),
    };
    const gone = [obs('ns/a', '9', null), obs('ns/b', '9', null)];
    const refused = step(current, emptySyncState, gone, { maxDeleteShare: 0.5 });
    expect(refused.refused).toMatch(/refusing to delete 2 of this cluster's entries \(67%/);
    expect(refused.changed).toBe(false);
    expect(refused.state).toBe(emptySyncState);
    const forced = step(current, emptySyncState, gone, { maxDeleteShare: 0.5, force: true });
    expect(forced.refused).toBeUndefined();
    expect(forced.document.entries.map((e) => e.name)).toEqual(['c']);
  });
});

describe('completeListObservations', () => {
  test('a Service missing from a complete list is gone at the list version, unless it is newer than the list', () => {
    const document = {
      entries: [
        ownedEntry({ name: 'a', description: '', endpoints: ['h:1'] }, { cluster: 'c', service: 'ns/a' }),
        ownedEntry({ name: 'x', description: '', endpoints: ['h:1'] }, { cluster: 'other', service: 'ns/x' }),
      ],
    };
    const state = { services: { 'ns/a': '5', 'ns/new': '120' }, tombstones: {} };
    const listed = [{ key: 'ns/b', resourceVersion: '90', value: { name: 'b', port: 1 } }];
    const observations = completeListObservations<Svc>(listed, '100', document, state, 'c');
    expect(observations).toEqual([listed[0], obs('ns/a', '100', null), obs('ns/new', '100', null)]);
    const result = planStep({ document, state, observations, owner: 'c', policy: 'sync', toEntry, now: 0 });
    expect(result.stale.map((o) => o.key)).toEqual(['ns/new']);
    expect(result.document.entries.map((e) => e.name).sort()).toEqual(['b', 'x']);
  });
});
