// Shared entries, pure: several clusters' steps on one document, each changing only its contribution; the conflicts
// that keep a shared name from merging an unshared one; the guards per cluster; the state's record of a contribution.
import { describe, expect, test } from 'vitest';
import { formatEntry, formatTable } from '../../lib/cli/commands/registry.ts';
import { applyBudgets } from '../../lib/registry/budgets.ts';
import {
  handEntry,
  ownedEntry,
  parseDocument,
  type RegistryDocument,
  readerView,
  serializeDocument,
} from '../../lib/registry/document.ts';
import { registerByHand } from '../../lib/registry/hand-edits.ts';
import { adoptEntry, HandoverError, purgeCluster, withManagers } from '../../lib/registry/handover.ts';
import { deletionShare, planRegistryChanges } from '../../lib/registry/plan.ts';
import { type EntryDecision, planStep } from '../../lib/registry/step.ts';
import {
  emptySyncState,
  type Observation,
  parseSyncState,
  type SyncState,
  serializeSyncState,
} from '../../lib/registry/sync-state.ts';

/** A Service: its name, its endpoints, whether it shares, and the description its cluster gives it. */
type Svc = { name: string; endpoints: string[]; shared?: boolean; description?: string };
const toEntry = (s: Svc): EntryDecision => ({
  kind: 'entry',
  entry: { name: s.name, description: s.description ?? '', endpoints: [...s.endpoints].sort() },
  ...(s.shared === false ? {} : { shared: true }),
});

/** One cluster: its sync state, carried from step to step. */
class Cluster {
  state: SyncState = emptySyncState;
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  step(document: RegistryDocument, observations: Observation<Svc>[], extra = {}) {
    const planned = planStep({
      document: parseDocument(serializeDocument(document)),
      state: this.state,
      observations,
      owner: this.id,
      policy: 'sync',
      toEntry,
      now: 1000,
      ...extra,
    });
    if (!planned.refused) this.state = parseSyncState(serializeSyncState(planned.state));
    return { ...planned, document: parseDocument(serializeDocument(planned.document)) };
  }
}

const web = (endpoints: string[], extra: Partial<Svc> = {}): Svc => ({
  name: 'web.shop',
  endpoints,
  ...extra,
});
const see = (rv: string, value: Svc | null, key = 'shop/web'): Observation<Svc> => ({
  key,
  resourceVersion: rv,
  value,
});
const view = (doc: RegistryDocument, name = 'web.shop') => {
  const e = doc.entries.find((x) => x.name === name);
  return e && readerView(e);
};

describe('a shared entry', () => {
  test('is the union of the contributions, with the description of the cluster whose id sorts first', () => {
    const east = new Cluster('east');
    const west = new Cluster('west');
    let doc = west.step({ entries: [] }, [
      see('1', web(['b:443', 'c:443'], { description: 'from west' })),
    ]).document;
    doc = east.step(doc, [see('7', web(['a:443', 'b:443'], { description: 'from east' }))]).document;
    expect(view(doc)).toEqual({
      name: 'web.shop',
      description: 'from east',
      endpoints: ['a:443', 'b:443', 'c:443'],
    });
    expect(doc.entries[0]?.shared?.contributions.map((c) => [c.cluster, c.service])).toEqual([
      ['east', 'shop/web'],
      ['west', 'shop/web'],
    ]);
    expect(doc.entries[0]?.owner).toBeUndefined();

    // Each cluster changes only its own part; an endpoint both serve stays while one does.
    doc = east.step(doc, [see('8', web(['d:443'], { description: 'from east' }))]).document;
    expect(view(doc)?.endpoints).toEqual(['b:443', 'c:443', 'd:443']);
    doc = west.step(doc, [see('2', null)]).document;
    expect(view(doc)).toEqual({ name: 'web.shop', description: 'from east', endpoints: ['d:443'] });
    // The last contributor leaving removes it.
    doc = east.step(doc, [see('9', null)]).document;
    expect(doc.entries).toEqual([]);
  });

  test('is never merged into a hand-made entry, nor an unshared entry into it, nor it into an unshared one', () => {
    const hand: RegistryDocument = {
      entries: [handEntry({ name: 'web.shop', description: 'people', endpoints: ['h:1'] })],
    };
    const east = new Cluster('east');
    const held = east.step(hand, [see('1', web(['a:1']))]);
    expect(held.changed).toBe(false);
    expect(held.plan.conflicts[0]?.heldBy).toMatch(/a hand-made entry, which is not shared/);

    const unshared = east.step({ entries: [] }, [see('1', web(['a:1'], { shared: false }))]).document;
    const west = new Cluster('west');
    const mixed = west.step(unshared, [see('1', web(['b:1']))]);
    expect(mixed.changed).toBe(false);
    expect(mixed.plan.conflicts[0]?.heldBy).toMatch(/cluster "east", which is not shared/);

    // An entry without a marker may be a shared one whose marker a writer dropped: the cluster asks for a reconcile,
    // which decides the Service again once the entry's clusters wrote it back. An unshared claim has nothing to wait for.
    expect(
      new Cluster('fresh').step(hand, [see('1', web(['a:1']))], { repairIntervalMs: 1 }).requestReconcile,
    ).toBe(true);
    expect(
      new Cluster('other').step(hand, [see('1', web(['a:1'], { shared: false }))], { repairIntervalMs: 1 })
        .requestReconcile,
    ).toBe(false);

    const shared = new Cluster('north').step({ entries: [] }, [see('1', web(['n:1']))]).document;
    const late = new Cluster('south').step(shared, [see('1', web(['s:1'], { shared: false }))]);
    expect(late.changed).toBe(false);
    expect(late.plan.conflicts[0]?.heldBy).toMatch(
      /a shared entry \(contributors north:shop\/web\); .* never merges/,
    );
  });

  test('a Service moves its own entry in and out of sharing, and others may then join', () => {
    const east = new Cluster('east');
    let doc = east.step({ entries: [] }, [see('1', web(['a:1'], { shared: false }))]).document;
    expect(doc.entries[0]?.owner).toEqual({ cluster: 'east', service: 'shop/web' });
    const into = east.step(doc, [see('2', web(['a:1']))]);
    doc = into.document;
    expect(doc.entries[0]?.shared?.contributions.map((c) => c.cluster)).toEqual(['east']);
    expect(view(doc)?.endpoints).toEqual(['a:1']);
    expect(into.plan.creates).toHaveLength(1);
    expect(into.plan.deletes).toHaveLength(1);
    doc = new Cluster('west').step(doc, [see('1', web(['b:1']))]).document;
    expect(view(doc)?.endpoints).toEqual(['a:1', 'b:1']);
    // Out again is refused while another cluster contributes.
    const out = east.step(doc, [see('3', web(['a:1'], { shared: false }))]);
    expect(out.plan.conflicts).toHaveLength(1);
    expect(view(out.document)?.endpoints).toEqual(['b:1']);
    // Its only contributor takes it back unshared: readers see the same entry.
    const north = new Cluster('north');
    const alone = north.step({ entries: [] }, [see('1', web(['n:1']))]).document;
    const back = north.step(alone, [see('2', web(['n:1'], { shared: false }))]);
    expect(back.plan.conflicts).toEqual([]);
    expect(back.document.entries[0]?.owner).toEqual({ cluster: 'north', service: 'shop/web' });
    expect(view(back.document)).toEqual(view(alone));
  });

  test('one contribution per cluster: a second Service of the cluster asking for the name is a conflict', () => {
    const east = new Cluster('east');
    const doc = east.step({ entries: [] }, [see('1', web(['a:1']))]).document;
    const second = east.step(doc, [see('2', web(['z:1']), 'other/web')]);
    expect(second.plan.conflicts).toEqual([
      { service: 'other/web', name: 'web.shop', heldBy: 'a shared entry (contributors east:shop/web)' },
    ]);
    expect(view(second.document)?.endpoints).toEqual(['a:1']);
  });

  test('survives a writer that drops the marker: each cluster writes its part back from its state', () => {
    const east = new Cluster('east');
    const west = new Cluster('west');
    let doc = east.step({ entries: [] }, [see('1', web(['a:1', 'x:1']))]).document;
    doc = west.step(doc, [see('1', web(['b:1', 'x:1']))]).document;
    const dropped: RegistryDocument = { entries: doc.entries.map((e) => handEntry(readerView(e))) };
    // East writes first (a change of its own): west's endpoints stay, unattributed until west writes.
    const first = east.step(dropped, [see('2', web(['a:1', 'c:1', 'x:1']))]);
    expect(first.repaired.map((d) => d.kind)).toEqual(['unmarked']);
    expect(view(first.document)?.endpoints).toEqual(['a:1', 'b:1', 'c:1', 'x:1']);
    expect(first.document.entries[0]?.shared?.unattributed).toEqual(['b:1']);
    const second = west.step(first.document, []);
    expect(second.repaired.map((d) => d.kind)).toEqual(['edited']);
    expect(second.document.entries[0]?.shared).toEqual({
      contributions: [
        { cluster: 'east', service: 'shop/web', description: '', endpoints: ['a:1', 'c:1', 'x:1'] },
        { cluster: 'west', service: 'shop/web', description: '', endpoints: ['b:1', 'x:1'] },
      ],
    });
    // A hand edit of the readers' fields is put back from the marker by any contributor's write.
    const edited = parseDocument(
      serializeDocument(second.document).replace(
        '"endpoints":["a:1","b:1","c:1","x:1"]',
        '"endpoints":["evil:1"]',
      ),
    );
    const reverted = east.step(edited, []);
    expect(view(reverted.document)?.endpoints).toEqual(['a:1', 'b:1', 'c:1', 'x:1']);
  });

  test('a cluster budget counts the contribution as an entry of its own', () => {
    const east = new Cluster('east');
    const doc = east.step({ entries: [] }, [see('1', web(['a:1']))]).document;
    const plan = planRegistryChanges(
      doc,
      new Map([
        ['shop/web', { ...readerView(doc.entries[0] as never), endpoints: ['a:1', 'b:1'], shared: true }],
      ]),
      'east',
      'sync',
    );
    // Charged as an entry of its own, and its endpoints once more (the union holds them too).
    const contributionBytes =
      JSON.stringify(
        ownedEntry(
          { name: 'web.shop', description: '', endpoints: ['a:1'] },
          { cluster: 'east', service: 'shop/web' },
        ).value,
      ).length +
      4 +
      JSON.stringify(['a:1']).length;
    const tight = applyBudgets(doc, plan, {
      namespaceMaxEntries: 10,
      namespaceMaxBytes: 10_000,
      clusterMaxBytes: contributionBytes + 6,
    });
    expect(tight.refused.map((r) => r.service)).toEqual(['shop/web']);
    const roomy = applyBudgets(doc, plan, {
      namespaceMaxEntries: 10,
      namespaceMaxBytes: 10_000,
      clusterMaxBytes: contributionBytes + 12,
    });
    expect(roomy.refused).toEqual([]);
  });

  test("the deletion guard counts contributions; purge removes one cluster's part only", () => {
    const east = new Cluster('east');
    const west = new Cluster('west');
    let doc = east.step({ entries: [] }, [
      see('1', web(['a:1'])),
      see('1', { name: 'api.shop', endpoints: ['p:1'], shared: false }, 'shop/api'),
    ]).document;
    doc = west.step(doc, [see('1', web(['b:1']))]).document;
    const leaving = planRegistryChanges(doc, new Map([['shop/web', null]]), 'east', 'sync');
    expect(deletionShare(doc, leaving)).toBe(0.5);
    const refused = east.step(doc, [see('2', null)], { maxDeleteShare: 0.4 });
    expect(refused.refused).toMatch(/refusing to delete 1 of this cluster's entries \(50%/);

    const purged = purgeCluster(doc, 'east', east.state);
    expect(purged.removed.map((e) => e.name).sort()).toEqual(['api.shop', 'web.shop']);
    expect(purged.document.entries.map((e) => view({ entries: [e] }, e.name))).toEqual([
      { name: 'web.shop', description: '', endpoints: ['b:1'] },
    ]);
    // Without the marker, the state says what was the cluster's.
    const dropped: RegistryDocument = { entries: doc.entries.map((e) => handEntry(readerView(e))) };
    const blind = purgeCluster(dropped, 'west', west.state);
    expect(view(blind.document)?.endpoints).toEqual(['a:1']);
    expect(blind.document.entries.find((e) => e.name === 'api.shop')?.owner).toBeUndefined();
  });

  test('people see its contributors, cannot take it over by hand, and its state records the contribution', () => {
    const east = new Cluster('east');
    const west = new Cluster('west');
    let doc = east.step({ entries: [] }, [see('1', web(['a:1']))]).document;
    doc = west.step(doc, [see('1', web(['b:1']))]).document;
    const states = [
      { cluster: 'east', state: east.state },
      { cluster: 'west', state: west.state },
    ];
    const dropped: RegistryDocument = { entries: doc.entries.map((e) => handEntry(readerView(e))) };
    expect(withManagers(dropped, states).entries[0]?.shared?.contributions.map((c) => c.cluster)).toEqual([
      'east',
      'west',
    ]);
    expect(() => adoptEntry(doc, states, 'web.shop')).toThrow(HandoverError);
    expect(
      formatEntry(doc.entries[0] as never)
        .split('\n')
        .slice(2),
    ).toEqual(['contributions:', '  east (Service shop/web): a:1', '  west (Service shop/web): b:1']);
    expect(formatTable(doc.entries)).toMatch(/shared:east:shop\/web,west:shop\/web/);
    const edit = registerByHand(doc, { name: 'web.shop', endpoints: ['h:1'], force: true });
    expect(edit.outcome === 'refused' && edit.refusal.reason).toBe('shared');

    const text = serializeSyncState(east.state);
    expect(JSON.parse(text)).toMatchObject({ v: 3, contributions: { 'web.shop': ['', 'a:1'] } });
    expect(parseSyncState(text)).toEqual(east.state);
    // A cluster that shares nothing writes the layout the version before sharing reads.
    const plain = new Cluster('plain');
    plain.step({ entries: [] }, [see('1', web(['a:1'], { shared: false }))]);
    expect(JSON.parse(serializeSyncState(plain.state)).v).toBe(2);
  });
});
