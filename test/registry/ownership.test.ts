import { describe, expect, test } from 'vitest';
import {
  handEntry,
  OWNER_FIELD,
  parseDocument,
  type RegistryDocument,
  readerView,
  serializeDocument,
} from '../../lib/registry/document.ts';
import { describeDamage, inspectDocument, revertedEdits } from '../../lib/registry/ownership.ts';
import {
  completeListObservations,
  type EntryDecision,
  planStep,
  type StepInput,
} from '../../lib/registry/step.ts';
import {
  emptySyncState,
  fingerprint,
  type Observation,
  parseSyncState,
  RELEASED_TTL_MS,
  type SyncState,
  serializeSyncState,
} from '../../lib/registry/sync-state.ts';

type Svc = { name: string; port: number };
const obs = (key: string, rv: string, value: Svc | null, identity?: string): Observation<Svc> => ({
  key,
  resourceVersion: rv,
  value,
  ...(identity ? { identity } : {}),
});
const toEntry = (s: Svc): EntryDecision => ({
  kind: 'entry',
  entry: { name: s.name, description: '', endpoints: [`h:${s.port}`] },
});
const run = (
  document: RegistryDocument,
  state: SyncState,
  observations: Observation<Svc>[],
  extra: Partial<StepInput<Svc>> = {},
) => planStep({ document, state, observations, owner: 'c', policy: 'sync', toEntry, now: 1000, ...extra });

/** What the obvious Go code does: unmarshal into []struct{Name, Description, Endpoints}, marshal back. */
const goRoundTrip = (doc: RegistryDocument): RegistryDocument =>
  parseDocument(
    JSON.stringify(
      parseDocumentReader(doc).map((e) => ({
        name: e.name,
        description: e.description,
        endpoints: e.endpoints,
      })),
    ),
  );
const parseDocumentReader = (doc: RegistryDocument) => doc.entries.map(readerView);

/** A published cluster: Services a (port 1) and b (port 2), as the first sync wrote them. */
function published() {
  const first = run({ entries: [] }, emptySyncState, [
    obs('ns/a', '10', { name: 'a', port: 1 }),
    obs('ns/b', '11', { name: 'b', port: 2 }),
  ]);
  return { document: parseDocument(serializeDocument(first.document)), state: first.state };
}

describe('ownership that survives other writers', () => {
  test('the state records what the cluster wrote, and reads back', () => {
    const { state } = published();
    expect(state.owned).toEqual({
      a: { service: 'ns/a', fingerprint: fingerprint({ name: 'a', description: '', endpoints: ['h:1'] }) },
      b: { service: 'ns/b', fingerprint: fingerprint({ name: 'b', description: '', endpoints: ['h:2'] }) },
    });
    expect(parseSyncState(serializeSyncState(state))).toEqual(state);
  });

  test('a compact state that breaks its layout is refused, naming the field', () => {
    expect(() => parseSyncState('{"v":2,"services":{},"tombstones":{"ns/a":["7"]}}')).toThrow(
      /tombstones\.ns\/a: Too small/,
    );
    expect(() => parseSyncState('{"v":2,"services":{},"tombstones":{},"owned":{"a":["ns/a",5]}}')).toThrow(
      /owned\.a\.1: /,
    );
  });

  test('entries whose marker a round-trip dropped stay the cluster’s: updated, deleted, and re-marked', () => {
    const { document, state } = published();
    const dropped = goRoundTrip(document);
    expect(dropped.entries.every((e) => e.owner === undefined)).toBe(true);
    const next = run(dropped, state, [obs('ns/a', '20', { name: 'a', port: 9 }), obs('ns/b', '21', null)]);
    expect(next.plan.conflicts).toEqual([]);
    expect(next.document.entries.map(readerView)).toEqual([
      { name: 'a', description: '', endpoints: ['h:9'] },
    ]);
    expect(next.document.entries[0]?.value[OWNER_FIELD]).toEqual({ cluster: 'c', service: 'ns/a' });
    expect(next.repaired.map((d) => d.kind).sort()).toEqual(['unmarked', 'unmarked']);
  });

  test('a lost marker alone is written back on the next write, with nothing else asked', () => {
    const { document, state } = published();
    const next = run(goRoundTrip(document), state, [obs('ns/a', '5', { name: 'a', port: 7 })]);
    expect(next.stale).toHaveLength(1);
    expect(next.changed).toBe(true);
    expect(next.document.entries.map((e) => e.owner?.service)).toEqual(['ns/a', 'ns/b']);
    expect(serializeDocument(next.document)).toBe(serializeDocument(document));
    expect(next.requestReconcile).toBe(false);
  });

  test('a hand edit of a Service in the batch is reverted; one outside it is left for a reconcile', () => {
    const { document, state } = published();
    const edited = parseDocument(
      serializeDocument(document).replace('"h:1"', '"evil:1"').replace('"h:2"', '"evil:2"'),
    );
    const next = run(edited, state, [obs('ns/a', '20', { name: 'a', port: 1 })], {
      repairIntervalMs: 30_000,
    });
    expect(next.repaired).toEqual([{ kind: 'edited', name: 'a', service: 'ns/a' }]);
    expect(next.unrepaired).toEqual([{ kind: 'edited', name: 'b', service: 'ns/b' }]);
    const endpoints = (name: string) =>
      next.document.entries.map(readerView).find((e) => e.name === name)?.endpoints;
    expect(endpoints('a')).toEqual(['h:1']);
    expect(endpoints('b')).toEqual(['evil:2']);
    expect(next.requestReconcile).toBe(true);
    // The unrepaired entry keeps the fingerprint the cluster wrote: the damage stays visible until repaired.
    expect(next.state.owned?.b).toEqual(state.owned?.b);
    // Asked once per interval, whatever the number of batches that see it.
    const again = run(next.document, next.state, [], { repairIntervalMs: 30_000, now: 20_000 });
    expect(again.unrepaired).toHaveLength(1);
    expect(again.requestReconcile).toBe(false);
    const later = run(next.document, next.state, [], { repairIntervalMs: 30_000, now: 40_000 });
    expect(later.requestReconcile).toBe(true);
  });

  test('a vanished entry comes back with its Service’s next event, or is left for a reconcile', () => {
    const { state } = published();
    const wiped: RegistryDocument = {
      entries: [handEntry({ name: 'kafka', description: '', endpoints: ['k:1'] })],
    };
    const next = run(wiped, state, [obs('ns/a', '12', { name: 'a', port: 1 })], { repairIntervalMs: 1 });
    expect(next.document.entries.map((e) => e.name)).toEqual(['kafka', 'a']);
    expect(next.unrepaired).toEqual([{ kind: 'vanished', name: 'b', service: 'ns/b' }]);
    expect(next.state.owned?.b).toEqual(state.owned?.b);
    expect(next.requestReconcile).toBe(true);
  });

  test('a blind overwrite that brings back a deleted Service’s entry is undone from its tombstone', () => {
    const { document, state } = published();
    const deleted = run(document, state, [obs('ns/b', '30', null)]);
    expect(deleted.document.entries.map((e) => e.name)).toEqual(['a']);
    // Somebody writes back the copy they read before the deletion.
    const next = run(document, deleted.state, []);
    expect(next.repaired).toEqual([{ kind: 'unexpected', name: 'b', service: 'ns/b' }]);
    expect(next.document.entries.map((e) => e.name)).toEqual(['a']);
  });

  test('an old copy brought back without its marker is recognised as the cluster’s, and removed again', () => {
    const { document, state } = published();
    // b is updated (port 2 → 3) before it is deleted: an old copy may hold either version.
    const updated = run(document, state, [obs('ns/b', '20', { name: 'b', port: 3 })]);
    const deleted = run(updated.document, updated.state, [obs('ns/b', '30', null)]);
    expect(deleted.state.released?.b).toMatchObject({ service: 'ns/b' });
    // A Go service writes back, without a version, the copy it read before the update: markers gone.
    const ghost = run(goRoundTrip(document), deleted.state, []);
    expect(ghost.repaired).toContainEqual({ kind: 'unexpected', name: 'b', service: 'ns/b' });
    expect(ghost.document.entries.map((e) => e.name)).toEqual(['a']);
    // And the copy read after it.
    const newer = run(goRoundTrip(updated.document), deleted.state, []);
    expect(newer.document.entries.map((e) => e.name)).toEqual(['a']);
    // An entry of that name with content the cluster never wrote is someone else's (a person's, a service's that
    // appends itself, another cluster's whose marker a round-trip dropped): kept.
    for (const other of [
      handEntry({ name: 'b', description: 'mine', endpoints: [] }),
      handEntry({ name: 'b', description: 'Kubernetes Service ns/b (cluster d)', endpoints: ['h:9'] }),
    ]) {
      const withOther = { entries: [...deleted.document.entries, other] };
      expect(
        run(withOther, deleted.state, [])
          .document.entries.map((e) => e.name)
          .sort(),
      ).toEqual(['a', 'b']);
    }
    // Recognised for an hour only.
    const late = run(goRoundTrip(document), deleted.state, [], { now: 1000 + RELEASED_TTL_MS + 1 });
    expect(late.repaired.filter((d) => d.kind === 'unexpected')).toEqual([]);
  });

  test('a reconcile removes an old copy of a deleted Service’s entry even when its tombstone is below the floor', () => {
    const { document, state } = published();
    const deleted = run(document, state, [obs('ns/b', '30', null)]);
    const floored = run(deleted.document, deleted.state, [], {
      complete: { listVersion: '40', listedAt: 500 },
    });
    expect(floored.state.tombstones).toEqual({});
    const copy = goRoundTrip(document);
    const observations = completeListObservations<Svc>(
      [{ key: 'ns/a', resourceVersion: '10', value: { name: 'a', port: 1 } }],
      '50',
      copy,
      floored.state,
      'c',
    );
    const result = run(copy, floored.state, observations, {
      complete: { listVersion: '50', listedAt: 2000 },
    });
    expect(result.document.entries.map((e) => e.name)).toEqual(['a']);
    expect(result.unrepaired).toEqual([]);
  });

  test('a reset keeps what the syncs applied after the list: nothing deleted comes back, nothing created goes', () => {
    const { document, state } = published();
    // While a reconcile lists at 50 (a and b there), syncs apply b deleted at 60 and n created at 55.
    const synced = run(document, state, [obs('ns/b', '60', null), obs('ns/n', '55', { name: 'n', port: 5 })]);
    const listed = [
      { key: 'ns/a', resourceVersion: '10', value: { name: 'a', port: 1 } },
      { key: 'ns/b', resourceVersion: '11', value: { name: 'b', port: 2 } },
    ];
    const observations = completeListObservations<Svc>(listed, '50', synced.document, synced.state, 'c');
    const reset = run(synced.document, synced.state, observations, {
      complete: { listVersion: '50', listedAt: 500 },
      resetState: 'asked for',
    });
    expect(reset.restarted).toBe('asked for');
    expect(reset.document.entries.map((e) => e.name).sort()).toEqual(['a', 'n']);
  });

  test('under create-only a hand edit is left as it is, and not reported as reverted', () => {
    const { document, state } = published();
    const edited = parseDocument(serializeDocument(document).replace('"h:1"', '"by-hand:1"'));
    const result = run(edited, state, [obs('ns/a', '20', { name: 'a', port: 1 })], { policy: 'create-only' });
    expect(result.document.entries.map(readerView).find((e) => e.name === 'a')?.endpoints).toEqual([
      'by-hand:1',
    ]);
    expect(result.repaired).toEqual([]);
    expect(result.unrepaired).toEqual([]);
  });

  test('a Service whose repair a budget refuses keeps its ownership, and the damage stays reported', () => {
    const { document, state } = published();
    const wiped = { entries: document.entries.filter((e) => e.name !== 'b') };
    const budgets = { namespaceMaxEntries: 1, namespaceMaxBytes: 1_000_000, clusterMaxBytes: 1_000_000 };
    const result = run(wiped, state, [obs('ns/b', '12', { name: 'b', port: 2 })], { budgets });
    expect(result.document.entries.map((e) => e.name)).toEqual(['a']);
    expect(result.state.owned?.b).toEqual(state.owned?.b);
    expect(result.unrepaired).toEqual([{ kind: 'vanished', name: 'b', service: 'ns/b' }]);
  });

  test('a hand-made entry is never taken, whatever the state', () => {
    const { document, state } = published();
    const withKafka = {
      entries: [...document.entries, handEntry({ name: 'kafka', description: '', endpoints: [] })],
    };
    const next = run(withKafka, state, [obs('ns/k', '40', { name: 'kafka', port: 1 })]);
    expect(next.plan.conflicts).toEqual([{ service: 'ns/k', name: 'kafka', heldBy: 'a hand-made entry' }]);
  });

  test('without recorded ownership the markers alone decide, as before', () => {
    const { document } = published();
    const inspection = inspectDocument(goRoundTrip(document), emptySyncState, 'c', 0);
    expect(inspection.damage).toEqual([]);
    expect(inspection.document.entries.every((e) => e.owner === undefined)).toBe(true);
  });
});

test('Services that may never be published (their namespace is excluded) leave no version in the state', () => {
  const result = run(
    { entries: [] },
    emptySyncState,
    [
      obs('ns/a', '5', { name: 'a', port: 1 }),
      obs('kube-system/x', '6', null),
      obs('kube-system/y', '7', { name: 'y', port: 1 }),
    ],
    {
      tracks: (key) => key.startsWith('ns/'),
    },
  );
  expect(result.state.services).toEqual({ 'ns/a': '5' });
  expect(result.state.tombstones).toEqual({});
});

describe('the floor: a complete list bounds the state', () => {
  const complete = (listVersion: string, listedAt = 500, identity?: string) => ({
    complete: { listVersion, listedAt, ...(identity ? { identity } : {}) },
  });
  /** A reconcile: the listed Services, and every other Service of the cluster as gone at the list's version. */
  const list = (
    document: RegistryDocument,
    state: SyncState,
    listed: Observation<Svc>[],
    listVersion: string,
    listedAt: number,
    identity?: string,
    extra: Partial<StepInput<Svc>> = {},
  ) =>
    run(
      document,
      state,
      completeListObservations(
        listed.map((o) => ({ key: o.key, resourceVersion: o.resourceVersion, value: o.value as Svc })),
        listVersion,
        document,
        state,
        'c',
      ),
      { ...complete(listVersion, listedAt, identity), ...extra },
    );

  test('versions and tombstones the list covers are dropped; older events for unknown Services stay stale', () => {
    const { document, state } = published();
    const gone = run(document, state, [obs('ns/b', '30', null), obs('ns/z', '31', { name: 'z', port: 3 })]);
    const listed = run(
      gone.document,
      gone.state,
      [obs('ns/a', '10', { name: 'a', port: 1 })],
      complete('50'),
    );
    expect(listed.state.services).toEqual({});
    expect(listed.state.tombstones).toEqual({});
    expect(listed.state.floor).toBe('50');
    // A replay of b's creation (rv 11) cannot bring it back although its tombstone is gone.
    const replay = run(listed.document, listed.state, [obs('ns/b', '11', { name: 'b', port: 2 })]);
    expect(replay.stale).toHaveLength(1);
    expect(replay.document.entries.map((e) => e.name)).not.toContain('b');
    // A Service created after the list is applied.
    const created = run(listed.document, listed.state, [obs('ns/n', '51', { name: 'n', port: 5 })]);
    expect(created.document.entries.map((e) => e.name)).toContain('n');
  });

  test('a new identity restarts the state; the sync sets aside events of the other incarnation', () => {
    const { document, state } = published();
    const first = run(
      document,
      state,
      [obs('ns/a', '10', { name: 'a', port: 1 })],
      complete('50', 500, 'uid-1'),
    );
    expect(first.state.identity).toBe('uid-1');
    const sync = run(first.document, first.state, [obs('ns/a', '3', { name: 'a', port: 4 }, 'uid-2')], {
      repairIntervalMs: 1,
    });
    expect(sync.mismatched).toHaveLength(1);
    expect(sync.requestReconcile).toBe(true);
    expect(sync.document.entries.map(readerView)[0]?.endpoints).toEqual(['h:1']);
    const rebuilt = list(
      first.document,
      first.state,
      [obs('ns/a', '3', { name: 'a', port: 4 })],
      '4',
      900,
      'uid-2',
    );
    expect(rebuilt.restarted).toMatch(/identity changed from uid-1 to uid-2/);
    expect(rebuilt.document.entries.map(readerView)).toEqual([
      { name: 'a', description: '', endpoints: ['h:4'] },
    ]);
    expect(rebuilt.state).toMatchObject({ floor: '4', identity: 'uid-2' });
  });

  test('an older list taken after the floor restarts the state; one taken before it is superseded', () => {
    const { document, state } = published();
    const first = run(document, state, [obs('ns/a', '10', { name: 'a', port: 1 })], complete('50', 500));
    const overlap = run(first.document, first.state, [], complete('40', 400));
    expect(overlap.refused).toMatch(/newer complete list/);
    expect(overlap.changed).toBe(false);
    const restored = list(first.document, first.state, [obs('ns/a', '8', { name: 'a', port: 8 })], '9', 2000);
    expect(restored.restarted).toMatch(/went back from 50 to 9/);
    expect(restored.document.entries.map(readerView)).toEqual([
      { name: 'a', description: '', endpoints: ['h:8'] },
    ]);
  });

  test('the deletion guard still holds when the state restarts', () => {
    const { document, state } = published();
    const result = list(document, { ...state, identity: 'old' }, [], '5', 500, 'new', {
      maxDeleteShare: 0.5,
    });
    expect(result.refused).toMatch(/refusing to delete 2/);
    expect(result.changed).toBe(false);
  });
});

describe('what the log says of damage', () => {
  test.each([
    [
      { kind: 'edited', name: 'web.shop', service: 'shop/web' },
      true,
      'reverted a hand edit of web.shop (Service shop/web)',
    ],
    [
      { kind: 'vanished', name: 'web.shop', service: 'shop/web' },
      true,
      'entry "web.shop" (Service shop/web) was removed by another writer; repaired',
    ],
    [
      { kind: 'unmarked', name: 'web.shop', service: 'shop/web' },
      false,
      'entry "web.shop" (Service shop/web) lost its ownership marker; a reconcile repairs it',
    ],
  ] as const)('%j, repaired %s', (damage, repaired, line) => {
    expect(describeDamage(damage, repaired)).toBe(line);
  });

  test('only reverted edits count as reverted', () => {
    expect(
      revertedEdits([
        { kind: 'edited', name: 'a', service: 'ns/a' },
        { kind: 'unmarked', name: 'b', service: 'ns/b' },
      ]),
    ).toBe(1);
  });
});
