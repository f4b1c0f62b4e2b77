import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  handEntry,
  ownedEntry,
  parseDocument,
  type RegistryDocument,
  type RegistryEntry,
  readerView,
  serializeDocument,
} from '../../lib/registry/document.ts';
import {
  applyPlan,
  deletionShare,
  nameKey,
  type Policy,
  planHasChanges,
  planRegistryChanges,
} from '../../lib/registry/plan.ts';

const e = (
  name: string,
  endpoint = `${name}.example.com:443`,
  description = `svc ${name}`,
): RegistryEntry => ({
  name,
  description,
  endpoints: [endpoint],
});
const mine = (service: string, entry: RegistryEntry) => ownedEntry(entry, { cluster: 'prod', service });
const theirs = (service: string, entry: RegistryEntry) => ownedEntry(entry, { cluster: 'staging', service });
const doc = (...entries: RegistryDocument['entries'][number][]): RegistryDocument => ({ entries });
const want = (pairs: Record<string, RegistryEntry | null>) => new Map(Object.entries(pairs));

const summary = (current: RegistryDocument, desired: Map<string, RegistryEntry | null>, policy: Policy) => {
  const plan = planRegistryChanges(current, desired, 'prod', policy);
  return {
    creates: plan.creates.map((c) => `${c.service}=${c.entry.name}`),
    updates: plan.updates.map((u) => `${u.service}=${u.after.name}`),
    deletes: plan.deletes.map((d) => `${d.service}=${d.entry.name}`),
    conflicts: plan.conflicts.map((c) => `${c.service}=${c.name} held by ${c.heldBy}`),
    unchanged: plan.unchanged,
  };
};

type Summary = ReturnType<typeof summary>;
const none: Summary = { creates: [], updates: [], deletes: [], conflicts: [], unchanged: 0 };

describe('planRegistryChanges', () => {
  const table: Array<
    [string, RegistryDocument, Map<string, RegistryEntry | null>, Policy, Partial<Summary>]
  > = [
    ['creates a new entry', doc(), want({ 'ns/a': e('a') }), 'sync', { creates: ['ns/a=a'] }],
    [
      'leaves an equal entry alone',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/a': e('a') }),
      'sync',
      { unchanged: 1 },
    ],
    [
      'updates a changed entry',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/a': e('a', 'b:1') }),
      'sync',
      { updates: ['ns/a=a'] },
    ],
    [
      'deletes an entry that is no longer wanted',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/a': null }),
      'sync',
      { deletes: ['ns/a=a'] },
    ],
    [
      'renames: deletes the old name, creates the new',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/a': e('b') }),
      'sync',
      { creates: ['ns/a=b'], deletes: ['ns/a=a'] },
    ],
    [
      'never takes the name of a hand-made entry',
      doc(handEntry(e('a'))),
      want({ 'ns/a': e('a') }),
      'sync',
      { conflicts: ['ns/a=a held by a hand-made entry'] },
    ],
    [
      'never takes the name of another cluster',
      doc(theirs('ns/a', e('a'))),
      want({ 'ns/a': e('a') }),
      'sync',
      { conflicts: ['ns/a=a held by cluster "staging"'] },
    ],
    ['never deletes a hand-made entry', doc(handEntry(e('a'))), want({ 'ns/a': null }), 'sync', {}],
    [
      "never deletes another cluster's entry with the same service key",
      doc(theirs('ns/a', e('a'))),
      want({ 'ns/a': null }),
      'sync',
      {},
    ],
    [
      'leaves out-of-scope entries alone',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/b': e('b') }),
      'sync',
      { creates: ['ns/b=b'] },
    ],
    [
      'an out-of-scope entry keeps its name',
      doc(mine('ns/a', e('x'))),
      want({ 'ns/b': e('x') }),
      'sync',
      { conflicts: ['ns/b=x held by Service ns/a'] },
    ],
    [
      'the current holder keeps a name two Services want',
      doc(mine('ns/b', e('x'))),
      want({ 'ns/a': e('x'), 'ns/b': e('x') }),
      'sync',
      { conflicts: ['ns/a=x held by Service ns/b'], unchanged: 1 },
    ],
    [
      'a free name two Services want goes to the smallest key',
      doc(),
      want({ 'ns/b': e('x'), 'ns/a': e('x', 'other:1') }),
      'sync',
      { creates: ['ns/a=x'], conflicts: ['ns/b=x held by Service ns/a'] },
    ],
    [
      'a name released in the same plan can be taken',
      doc(mine('ns/a', e('x'))),
      want({ 'ns/a': null, 'ns/b': e('x') }),
      'sync',
      { creates: ['ns/b=x'], deletes: ['ns/a=x'] },
    ],
    [
      'a Service that loses a conflict gives up its old name',
      doc(mine('ns/a', e('old')), handEntry(e('x'))),
      want({ 'ns/a': e('x') }),
      'sync',
      { deletes: ['ns/a=old'], conflicts: ['ns/a=x held by a hand-made entry'] },
    ],
    ['upsert-only never deletes', doc(mine('ns/a', e('a'))), want({ 'ns/a': null }), 'upsert-only', {}],
    [
      'upsert-only updates',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/a': e('a', 'b:1') }),
      'upsert-only',
      { updates: ['ns/a=a'] },
    ],
    [
      'upsert-only renames by adding',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/a': e('b') }),
      'upsert-only',
      { creates: ['ns/a=b'] },
    ],
    [
      'upsert-only keeps a kept name taken',
      doc(mine('ns/a', e('x'))),
      want({ 'ns/a': null, 'ns/b': e('x') }),
      'upsert-only',
      { conflicts: ['ns/b=x held by Service ns/a'] },
    ],
    [
      'a lookalike in another case never shadows a hand-made entry',
      doc(handEntry(e('kafka'))),
      want({ 'ns/a': e('Kafka') }),
      'sync',
      { conflicts: ['ns/a=Kafka held by a hand-made entry'] },
    ],
    [
      "nor another cluster's",
      doc(theirs('ns/x', e('web'))),
      want({ 'ns/a': e('WEB') }),
      'sync',
      { conflicts: ['ns/a=WEB held by cluster "staging"'] },
    ],
    [
      'two Services asking for A and a ask for one name',
      doc(),
      want({ 'ns/b': e('a'), 'ns/a': e('A') }),
      'sync',
      { creates: ['ns/a=A'], conflicts: ['ns/b=a held by Service ns/a'] },
    ],
    [
      'the current holder keeps a name asked for in another case',
      doc(mine('ns/b', e('x'))),
      want({ 'ns/a': e('X'), 'ns/b': e('x') }),
      'sync',
      { conflicts: ['ns/a=X held by Service ns/b'], unchanged: 1 },
    ],
    [
      'a change of case is an update of the entry',
      doc(mine('ns/a', e('web'))),
      want({ 'ns/a': e('Web', 'web.example.com:443', 'svc web') }),
      'sync',
      { updates: ['ns/a=Web'] },
    ],
    [
      'upsert-only changes the case without keeping the old spelling',
      doc(mine('ns/a', e('web'))),
      want({ 'ns/a': e('Web', 'web.example.com:443', 'svc web') }),
      'upsert-only',
      { updates: ['ns/a=Web'] },
    ],
    ['create-only creates', doc(), want({ 'ns/a': e('a') }), 'create-only', { creates: ['ns/a=a'] }],
    [
      'create-only never updates',
      doc(mine('ns/a', e('a'))),
      want({ 'ns/a': e('a', 'b:1') }),
      'create-only',
      { unchanged: 1 },
    ],
    ['create-only never deletes', doc(mine('ns/a', e('a'))), want({ 'ns/a': null }), 'create-only', {}],
  ];
  test.each(table)('%s', (_, current, desired, policy, expected) => {
    expect(summary(current, desired, policy)).toEqual({ ...none, ...expected });
  });

  test("deletionShare counts only this cluster's entries", () => {
    const current = doc(
      mine('ns/a', e('a')),
      mine('ns/b', e('b')),
      handEntry(e('h')),
      theirs('ns/c', e('c')),
    );
    const plan = planRegistryChanges(current, want({ 'ns/a': null }), 'prod', 'sync');
    expect(deletionShare(current, plan)).toBe(0.5);
  });
});

// Properties over random documents and wishes: a small alphabet of names makes collisions frequent, in any case.
const names = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'A', 'B');
const services = fc.constantFrom('ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e', 'ns/f');
const entryArb = fc.record({
  name: names,
  description: fc.constantFrom('', 'x', 'y'),
  endpoints: fc.constantFrom(['h:1'], ['h:2'], ['h:1', 'h:2']),
});
const storedArb = fc.oneof(
  entryArb.map((entry) => ({
    ...handEntry(entry),
    text: JSON.stringify({ ...entry, extra: { keep: true } }),
  })),
  fc
    .tuple(services, entryArb, fc.constantFrom('prod', 'staging'))
    .map(([service, entry, cluster]) => ownedEntry(entry, { cluster, service })),
);
// Names are unique in a document, whatever their case (the contract); keep the first of each name.
const docArb = fc.array(storedArb, { maxLength: 8 }).map((entries) => ({
  entries: entries.filter((x, i) => entries.findIndex((y) => nameKey(y.name) === nameKey(x.name)) === i),
}));
const desiredArb = fc
  .array(fc.tuple(services, fc.option(entryArb, { nil: null })), { maxLength: 6 })
  .map((pairs) => new Map(pairs));
const policyArb = fc.constantFrom<Policy>('sync', 'upsert-only', 'create-only');

describe('plan properties', () => {
  test("a plan never changes, removes or takes over an entry that is not this cluster's", () => {
    fc.assert(
      fc.property(docArb, desiredArb, policyArb, (current, desired, policy) => {
        const next = applyPlan(current, planRegistryChanges(current, desired, 'prod', policy));
        const foreign = (d: RegistryDocument) =>
          d.entries
            .filter((x) => x.owner?.cluster !== 'prod')
            .map((x) => serializeDocument({ entries: [x] }));
        expect(foreign(next).sort()).toEqual(foreign(current).sort());
      }),
    );
  });

  test('apply∘plan reaches the desired state, and planning again changes nothing', () => {
    fc.assert(
      fc.property(docArb, desiredArb, (current, desired) => {
        const plan = planRegistryChanges(current, desired, 'prod', 'sync');
        const next = parseDocument(serializeDocument(applyPlan(current, plan)));
        const names = next.entries.map((x) => nameKey(x.name));
        expect(new Set(names).size).toBe(names.length);
        const lost = new Set(plan.conflicts.map((c) => c.service));
        for (const [service, entry] of desired) {
          const held = next.entries.filter((x) => x.owner?.cluster === 'prod' && x.owner.service === service);
          if (entry === null || lost.has(service)) expect(held).toEqual([]);
          else expect(held.map(readerView)).toEqual([entry]);
        }
        expect(planHasChanges(planRegistryChanges(next, desired, 'prod', 'sync'))).toBe(false);
      }),
    );
  });
});
