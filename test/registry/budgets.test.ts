import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { applyBudgets, type Budgets } from '../../lib/registry/budgets.ts';
import {
  entryBytes,
  handEntry,
  ownedEntry,
  type RegistryDocument,
  type RegistryEntry,
  type StoredEntry,
} from '../../lib/registry/document.ts';
import { applyPlan, type Policy, planRegistryChanges } from '../../lib/registry/plan.ts';

// Every Service key is `<namespace letter>/<digit>` and every name three characters, so every small entry takes
// the same bytes (UNIT) and a big one exactly BIG more: budgets below are written in those units.
const entry = (service: string, size: 'small' | 'big' = 'small', name = service.replace('/', '.')) => ({
  name,
  description: size === 'big' ? 'x'.repeat(100) : '',
  endpoints: ['h:1'],
});
const mine = (service: string, size?: 'small' | 'big', name?: string) =>
  ownedEntry(entry(service, size, name), { cluster: 'c', service });
const UNIT = entryBytes(mine('a/1'));
const BIG = entryBytes(mine('a/1', 'big')) - UNIT;
const budgets = (b: Partial<Budgets> = {}): Budgets => ({
  namespaceMaxEntries: 1000,
  namespaceMaxBytes: 1000 * UNIT,
  clusterMaxBytes: 1000 * UNIT,
  ...b,
});
const want = (pairs: Record<string, RegistryEntry | null>) => new Map(Object.entries(pairs));

function budgeted(
  current: StoredEntry[],
  desired: Map<string, RegistryEntry | null>,
  limits: Budgets,
  policy: Policy = 'sync',
) {
  const document = { entries: current };
  const { plan, refused } = applyBudgets(
    document,
    planRegistryChanges(document, desired, 'c', policy),
    limits,
  );
  return {
    creates: plan.creates.map((c) => c.service),
    updates: plan.updates.map((u) => u.service),
    deletes: plan.deletes.map((d) => d.service),
    refused: refused.map((r) => `${r.service}: ${/[A-Z_]{8,}/.exec(r.error)?.[0]}`),
  };
}

type Outcome = ReturnType<typeof budgeted>;
const none: Outcome = { creates: [], updates: [], deletes: [], refused: [] };

describe('applyBudgets', () => {
  const table: Array<[string, StoredEntry[], Map<string, RegistryEntry | null>, Budgets, Partial<Outcome>]> =
    [
      [
        'within every budget nothing is cut',
        [mine('a/1')],
        want({ 'a/1': entry('a/1', 'big'), 'a/2': entry('a/2') }),
        budgets({
          namespaceMaxEntries: 2,
          namespaceMaxBytes: 2 * UNIT + BIG,
          clusterMaxBytes: 2 * UNIT + BIG,
        }),
        { creates: ['a/2'], updates: ['a/1'] },
      ],
      [
        'new Services past NAMESPACE_MAX_ENTRIES: the first by key are published, the others refused',
        [],
        want({ 'a/3': entry('a/3'), 'a/1': entry('a/1'), 'a/2': entry('a/2') }),
        budgets({ namespaceMaxEntries: 2 }),
        { creates: ['a/1', 'a/2'], refused: ['a/3: NAMESPACE_MAX_ENTRIES'] },
      ],
      [
        'a published Service keeps its place before new ones, whatever their keys',
        [mine('a/3')],
        want({ 'a/1': entry('a/1'), 'a/2': entry('a/2'), 'a/3': entry('a/3') }),
        budgets({ namespaceMaxEntries: 2 }),
        { creates: ['a/1'], refused: ['a/2: NAMESPACE_MAX_ENTRIES'] },
      ],
      [
        'a budget lowered under what is published unpublishes nothing, and admits nothing new',
        [mine('a/1'), mine('a/2'), mine('a/3')],
        want({ 'a/1': entry('a/1'), 'a/2': entry('a/2'), 'a/3': entry('a/3'), 'a/4': entry('a/4') }),
        budgets({ namespaceMaxEntries: 1, namespaceMaxBytes: UNIT }),
        { refused: ['a/4: NAMESPACE_MAX_ENTRIES'] },
      ],
      [
        'an update past NAMESPACE_MAX_BYTES is refused: the Service keeps the entry it has',
        [mine('a/1')],
        want({ 'a/1': entry('a/1', 'big') }),
        budgets({ namespaceMaxBytes: UNIT + BIG - 1 }),
        { refused: ['a/1: NAMESPACE_MAX_BYTES'] },
      ],
      [
        'a shrinking update is never refused, even over the budget',
        [mine('a/1', 'big'), mine('a/2', 'big')],
        want({ 'a/1': entry('a/1') }),
        budgets({ namespaceMaxBytes: UNIT }),
        { updates: ['a/1'] },
      ],
      [
        'deletions are never refused',
        [mine('a/1', 'big'), mine('a/2', 'big')],
        want({ 'a/1': null, 'a/2': null }),
        budgets({ namespaceMaxEntries: 1, namespaceMaxBytes: UNIT, clusterMaxBytes: UNIT }),
        { deletes: ['a/1', 'a/2'] },
      ],
      [
        'room freed in the same plan is used',
        [mine('a/1'), mine('a/2', 'big')],
        want({ 'a/1': null, 'a/2': entry('a/2'), 'a/3': entry('a/3', 'big') }),
        budgets({ namespaceMaxEntries: 2, namespaceMaxBytes: 2 * UNIT + BIG }),
        { creates: ['a/3'], updates: ['a/2'], deletes: ['a/1'] },
      ],
      [
        "another namespace's entries do not count against a namespace",
        [mine('b/1'), mine('b/2')],
        want({ 'a/1': entry('a/1') }),
        budgets({ namespaceMaxEntries: 2, namespaceMaxBytes: 2 * UNIT }),
        { creates: ['a/1'] },
      ],
      [
        'CLUSTER_MAX_BYTES refuses the Services that would go past it, by key across namespaces',
        [mine('z/1')],
        want({ 'c/1': entry('c/1'), 'a/1': entry('a/1'), 'b/1': entry('b/1') }),
        budgets({ clusterMaxBytes: 3 * UNIT }),
        { creates: ['a/1', 'b/1'], refused: ['c/1: CLUSTER_MAX_BYTES'] },
      ],
      [
        'CLUSTER_MAX_BYTES lets a published Service grow before a new one is published',
        [mine('z/1')],
        want({ 'a/1': entry('a/1'), 'z/1': entry('z/1', 'big') }),
        // Room for one of the two changes, whichever comes first.
        budgets({ clusterMaxBytes: UNIT + Math.max(UNIT, BIG) }),
        { updates: ['z/1'], refused: ['a/1: CLUSTER_MAX_BYTES'] },
      ],
      [
        'a rename that does not fit is refused whole: the old name stays',
        [mine('a/1', 'small', 'old')],
        want({ 'a/1': entry('a/1', 'big', 'new') }),
        budgets({ namespaceMaxBytes: UNIT }),
        { refused: ['a/1: NAMESPACE_MAX_BYTES'] },
      ],
      [
        'a rename that keeps the old name (upsert-only) counts both',
        [mine('a/1', 'small', 'old')],
        want({ 'a/1': entry('a/1', 'small', 'new') }),
        budgets({ namespaceMaxEntries: 1 }),
        { refused: ['a/1: NAMESPACE_MAX_ENTRIES'] },
      ],
      [
        "hand-made entries and other clusters' do not count",
        [
          handEntry(entry('a/8', 'big')),
          ownedEntry(entry('a/9', 'big'), { cluster: 'other', service: 'a/9' }),
        ],
        want({ 'a/1': entry('a/1') }),
        budgets({ namespaceMaxEntries: 1, namespaceMaxBytes: UNIT, clusterMaxBytes: UNIT }),
        { creates: ['a/1'] },
      ],
    ];
  test.each(table)('%s', (label, current, desired, limits, expected) => {
    const policy = label.includes('upsert-only') ? 'upsert-only' : 'sync';
    expect(budgeted(current, desired, limits, policy)).toEqual({ ...none, ...expected });
  });

  test('a refusal names the Service, the budget, its setting and what the Service keeps', () => {
    const document = { entries: [mine('shop/1')] };
    const plan = planRegistryChanges(
      document,
      want({ 'shop/1': entry('shop/1', 'big'), 'shop/2': entry('shop/2') }),
      'c',
      'sync',
    );
    const limit = entryBytes(mine('shop/1')) + 10;
    const { refused } = applyBudgets(document, plan, budgets({ namespaceMaxBytes: limit }));
    const grown = entryBytes(mine('shop/1', 'big'));
    const both = entryBytes(mine('shop/1')) + entryBytes(mine('shop/2'));
    expect(refused.map((r) => r.error)).toEqual([
      `Service shop/1: over namespace shop's budget: its entry would bring the namespace's entries to ${grown} bytes, more than NAMESPACE_MAX_BYTES (${limit}); it keeps the entry it has`,
      `Service shop/2: over namespace shop's budget: its entry would bring the namespace's entries to ${both} bytes, more than NAMESPACE_MAX_BYTES (${limit}); it is not published`,
    ]);
  });
});

// Random clusters: a few namespaces, small and big entries, budgets around what they need.
const serviceArb = fc
  .tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 5 }))
  .map(([n, i]) => `${n}/${i}`);
const sizeArb = fc.constantFrom<'small' | 'big'>('small', 'big');
const docArb = fc
  .uniqueArray(fc.tuple(serviceArb, sizeArb), { selector: ([s]) => s, maxLength: 8 })
  .map((pairs) => ({ entries: pairs.map(([s, size]) => mine(s, size)) }));
const desiredArb = fc
  .uniqueArray(fc.tuple(serviceArb, fc.option(sizeArb, { nil: null })), {
    selector: ([s]) => s,
    maxLength: 10,
  })
  .map((pairs) => new Map(pairs.map(([s, size]) => [s, size === null ? null : entry(s, size)])));
const budgetsArb = fc.record({
  namespaceMaxEntries: fc.integer({ min: 0, max: 4 }),
  namespaceMaxBytes: fc.integer({ min: 0, max: 4 * UNIT + 2 * BIG }),
  clusterMaxBytes: fc.integer({ min: 0, max: 8 * UNIT + 4 * BIG }),
});

function usage(document: RegistryDocument) {
  const namespaces = new Map<string, { entries: number; bytes: number }>();
  let cluster = 0;
  for (const e of document.entries) {
    if (e.owner?.cluster !== 'c') continue;
    const namespace = e.owner.service.split('/')[0] as string;
    const u = namespaces.get(namespace) ?? { entries: 0, bytes: 0 };
    namespaces.set(namespace, { entries: u.entries + 1, bytes: u.bytes + entryBytes(e) });
    cluster += entryBytes(e);
  }
  return { namespaces, cluster };
}

describe('budget properties', () => {
  test('no budget is exceeded that was not already, and nothing published is removed for a budget', () => {
    fc.assert(
      fc.property(docArb, desiredArb, budgetsArb, (current, desired, limits) => {
        const plan = planRegistryChanges(current, desired, 'c', 'sync');
        const cut = applyBudgets(current, plan, limits);
        const next = applyPlan(current, cut.plan);
        const before = usage(current);
        const after = usage(next);
        for (const [namespace, u] of after.namespaces) {
          const was = before.namespaces.get(namespace) ?? { entries: 0, bytes: 0 };
          expect(u.entries).toBeLessThanOrEqual(Math.max(was.entries, limits.namespaceMaxEntries));
          expect(u.bytes).toBeLessThanOrEqual(Math.max(was.bytes, limits.namespaceMaxBytes));
        }
        expect(after.cluster).toBeLessThanOrEqual(Math.max(before.cluster, limits.clusterMaxBytes));
        // Every deletion of the plan stays; a Service that is refused keeps what it had.
        expect(cut.plan.deletes.length).toBeGreaterThanOrEqual(
          plan.deletes.filter((d) => !cut.refused.some((r) => r.service === d.service)).length,
        );
        for (const r of cut.refused) {
          const held = (d: RegistryDocument) =>
            d.entries
              .filter((e) => e.owner?.service === r.service)
              .map((e) => e.text ?? JSON.stringify(e.value));
          expect(held(next)).toEqual(held(current));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a budget never flaps: planning again from the result changes nothing and refuses the same Services', () => {
    fc.assert(
      fc.property(docArb, desiredArb, budgetsArb, (current, desired, limits) => {
        const first = applyBudgets(current, planRegistryChanges(current, desired, 'c', 'sync'), limits);
        const next = applyPlan(current, first.plan);
        const again = applyBudgets(next, planRegistryChanges(next, desired, 'c', 'sync'), limits);
        expect(again.plan.creates.length + again.plan.updates.length + again.plan.deletes.length).toBe(0);
        expect(again.refused.map((r) => r.service)).toEqual(first.refused.map((r) => r.service));
      }),
      { numRuns: 500 },
    );
  });
});
