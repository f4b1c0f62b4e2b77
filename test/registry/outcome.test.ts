// Where each Service stands after a step, and what its owner is told: the outcomes come from the step that decides,
// and an Event only from a change of outcome (or an action on the entry), carried from step to step through the
// document and the sync state's digests.
import { describe, expect, test } from 'vitest';
import { handEntry, ownedEntry, type RegistryDocument } from '../../lib/registry/document.ts';
import { describeOutcome, NOTE_LIMIT, type OutcomeEvent } from '../../lib/registry/outcome.ts';
import { sharedEntry } from '../../lib/registry/shared.ts';
import { type EntryDecision, type PlannedStep, planStep } from '../../lib/registry/step.ts';
import {
  emptySyncState,
  type Observation,
  parseSyncState,
  type SyncState,
  serializeSyncState,
} from '../../lib/registry/sync-state.ts';

type Svc =
  | { name: string; port: number; shared?: true }
  | { bad: string }
  | { pending: true }
  | { optOut: true }
  | { filtered: true };

const toEntry = (s: Svc): EntryDecision => {
  if ('bad' in s) return { kind: 'invalid', error: s.bad };
  if ('pending' in s) return { kind: 'skipped', reason: 'no ingress yet', cause: 'no-address' };
  if ('optOut' in s) return { kind: 'skipped', reason: 'opted out', cause: 'opted-out' };
  if ('filtered' in s) return { kind: 'skipped', reason: 'type ClusterIP', cause: 'filtered' };
  return {
    kind: 'entry',
    entry: { name: s.name, description: '', endpoints: [`h:${s.port}`] },
    ...(s.shared ? { shared: true } : {}),
  };
};

let rv = 0;
const seen = (key: string, value: Svc | null): Observation<Svc> => ({
  key,
  resourceVersion: String(++rv),
  value,
});

/** Runs steps one after another, each on the document and state the last one left, as the store does. */
class World {
  document: RegistryDocument;
  state: SyncState = emptySyncState;
  constructor(document: RegistryDocument = { entries: [] }) {
    this.document = document;
  }
  step(observations: Observation<Svc>[], extra = {}): PlannedStep<Svc> {
    const result = planStep({
      document: this.document,
      state: this.state,
      observations,
      owner: 'c',
      policy: 'sync',
      toEntry,
      now: 1000,
      ...extra,
    });
    if (!result.refused) {
      this.document = result.document;
      // The state travels through its bytes, as in ZooKeeper.
      this.state = parseSyncState(serializeSyncState(result.state));
    }
    return result;
  }
}

const told = (events: readonly OutcomeEvent[]) => events.map((e) => [e.service, e.reason, e.type]);
const handMade = (name: string) => ({ name, description: 'by hand', endpoints: ['db:1'] });

describe('outcomes', () => {
  test('one per decided Service, named as status prints them', () => {
    const world = new World({ entries: [handEntry(handMade('taken'))] });
    const result = world.step([
      seen('ns/a', { name: 'a', port: 1 }),
      seen('ns/b', { bad: 'annotation x is "y"' }),
      seen('ns/c', { pending: true }),
      seen('ns/d', { name: 'taken', port: 1 }),
      seen('ns/e', { optOut: true }),
      seen('ns/f', { filtered: true }),
    ]);
    const lines = [...result.outcomes].map(([key, o]) => `${key} ${describeOutcome(key, o)}`).sort();
    expect(lines).toEqual([
      'ns/a published "a" h:1',
      'ns/b invalid: annotation x is "y"',
      'ns/c skipped (no load balancer address yet): no ingress yet',
      'ns/d conflict: "taken" is held by a hand-made entry',
      'ns/e skipped (opted out): opted out',
      'ns/f skipped (filtered): type ClusterIP',
    ]);
  });

  test('a Service whose entry is kept while its annotation is wrong says so', () => {
    const world = new World();
    world.step([seen('ns/a', { name: 'a', port: 1 })]);
    const result = world.step([seen('ns/a', { bad: 'bad port' })]);
    expect(describeOutcome('ns/a', result.outcomes.get('ns/a') as never)).toBe(
      'invalid: bad port; it keeps "a"',
    );
  });

  test('a budget refusal and a held deletion are outcomes of their own', () => {
    const world = new World();
    world.step([seen('ns/a', { name: 'a', port: 1 }), seen('ns/b', { name: 'b', port: 1 })]);
    const budgets = { namespaceMaxEntries: 2, namespaceMaxBytes: 1e6, clusterMaxBytes: 1e6 };
    const over = world.step([seen('ns/c', { name: 'c', port: 1 })], { budgets });
    expect(over.outcomes.get('ns/c')?.kind).toBe('over-budget');
    expect(told(over.events)).toEqual([['ns/c', 'OverBudget', 'Warning']]);

    const held = world.step([seen('ns/a', null), seen('ns/b', { pending: true })], { maxDeleteShare: 0.5 });
    expect(held.refused).toBeDefined();
    expect(held.outcomes.get('ns/a')?.kind).toBe('deletion-held');
    // The Service that is gone cannot be told; the one that still exists is, and only of the held removal.
    expect(told(held.events)).toEqual([['ns/b', 'DeletionHeld', 'Warning']]);
  });
});

describe('events on transitions', () => {
  test('each change once, in order, and nothing for a step that changes nothing', () => {
    const world = new World({ entries: [handEntry(handMade('db'))] });
    const table: Array<[Svc, Array<[string, string, string]>]> = [
      [{ pending: true }, [['ns/a', 'Skipped', 'Normal']]],
      [{ pending: true }, []],
      [{ name: 'a', port: 1 }, [['ns/a', 'Published', 'Normal']]],
      [{ name: 'a', port: 1 }, []],
      [{ name: 'a', port: 2 }, [['ns/a', 'Updated', 'Normal']]],
      [{ bad: 'annotation name is ""' }, [['ns/a', 'Invalid', 'Warning']]],
      [{ bad: 'annotation name is ""' }, []],
      // Fixed: the entry it kept all along is published again, news to its owner.
      [{ name: 'a', port: 2 }, [['ns/a', 'Published', 'Normal']]],
      [{ name: 'db', port: 2 }, [['ns/a', 'NameConflict', 'Warning']]],
      [{ name: 'db', port: 2 }, []],
      [{ optOut: true }, [['ns/a', 'Skipped', 'Normal']]],
      [{ name: 'a', port: 3 }, [['ns/a', 'Published', 'Normal']]],
      // Filtered out: its entry goes, and it is told why; then nothing more.
      [{ filtered: true }, [['ns/a', 'Removed', 'Normal']]],
      [{ filtered: true }, []],
    ];
    for (const [value, expected] of table) {
      expect(told(world.step([seen('ns/a', value)]).events), JSON.stringify(value)).toEqual(expected);
    }
  });

  test('a conflict names the name and who holds it: a person, another cluster, another Service', () => {
    const world = new World({
      entries: [handEntry(handMade('db')), ownedEntry(handMade('q'), { cluster: 'other', service: 'x/q' })],
    });
    const result = world.step([
      seen('ns/a', { name: 'db', port: 1 }),
      seen('ns/b', { name: 'q', port: 1 }),
      seen('ns/c', { name: 'same', port: 1 }),
      seen('ns/d', { name: 'same', port: 2 }),
    ]);
    const notes = Object.fromEntries(result.events.map((e) => [e.service, e.note]));
    expect(notes['ns/a']).toBe('conflict: "db" is held by a hand-made entry');
    expect(notes['ns/b']).toBe('conflict: "q" is held by cluster "other"');
    expect(notes['ns/d']).toBe('conflict: "same" is held by Service ns/c');
  });

  test('a quiet cluster, a reconcile of an unchanged one, and a deleted Service tell nobody', () => {
    const world = new World();
    world.step([seen('ns/a', { name: 'a', port: 1 }), seen('ns/b', { filtered: true })]);
    expect(world.step([]).events).toEqual([]);
    expect(
      world.step([seen('ns/a', { name: 'a', port: 1 }), seen('ns/b', { filtered: true })]).events,
    ).toEqual([]);
    expect(world.step([seen('ns/a', null)]).events).toEqual([]);
  });

  test('an entry already published when Events began is not announced again', () => {
    const world = new World({
      entries: [
        ownedEntry({ name: 'a', description: '', endpoints: ['h:1'] }, { cluster: 'c', service: 'ns/a' }),
      ],
    });
    expect(world.step([seen('ns/a', { name: 'a', port: 1 })]).events).toEqual([]);
  });

  test("a contribution to a shared entry is the Service's published entry: its endpoints, not the union", () => {
    const other = { cluster: 'x', service: 'ns/a', description: 'x', endpoints: ['x:1'] };
    const world = new World({ entries: [sharedEntry('a', { contributions: [other] })] });
    const joined = world.step([seen('ns/a', { name: 'a', port: 1, shared: true })]);
    expect(told(joined.events)).toEqual([['ns/a', 'Published', 'Normal']]);
    expect(joined.events[0]?.note).toBe('published as "a" h:1');
    // Published already (the contribution is in the document): nothing to tell.
    expect(world.step([seen('ns/a', { name: 'a', port: 1, shared: true })]).events).toEqual([]);
    expect(world.step([seen('ns/a', { bad: 'x' })]).events.map((e) => e.note)).toEqual([
      'invalid: x; it keeps "a"',
    ]);
  });

  test('the same problem again has the same series key; another problem another', () => {
    const world = new World();
    const first = world.step([seen('ns/a', { bad: 'x' })]).events[0];
    world.step([seen('ns/a', { pending: true })]);
    const again = world.step([seen('ns/a', { bad: 'x' })]).events[0];
    const other = world.step([seen('ns/a', { bad: 'y' })]).events[0];
    expect(again?.seriesKey).toBe(first?.seriesKey);
    expect(other?.seriesKey).not.toBe(first?.seriesKey);
  });

  test('the state keeps a short digest only for Services in scope that are not published', () => {
    const world = new World();
    world.step([
      seen('ns/a', { name: 'a', port: 1 }),
      seen('ns/b', { bad: 'x' }),
      seen('ns/c', { filtered: true }),
      seen('ns/d', { pending: true }),
    ]);
    expect(Object.keys(world.state.outcomes ?? {}).sort()).toEqual(['ns/b', 'ns/d']);
    expect(Object.values(world.state.outcomes ?? {}).every((d) => d.length === 8)).toBe(true);
    world.step([seen('ns/b', null), seen('ns/d', { name: 'd', port: 1 })]);
    expect(world.state.outcomes).toBeUndefined();
  });

  test('a note is cut to the 1 kB events.k8s.io allows', () => {
    const world = new World();
    const [event] = world.step([seen('ns/a', { bad: 'x'.repeat(5000) })]).events;
    expect(event?.note.length).toBe(NOTE_LIMIT);
  });
});
