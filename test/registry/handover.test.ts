import { describe, expect, test } from 'vitest';
import {
  handEntry,
  OWNER_FIELD,
  ownedEntry,
  parseDocument,
  readerView,
  serializeDocument,
} from '../../lib/registry/document.ts';
import { adoptEntry, HandoverError, purgeCluster } from '../../lib/registry/handover.ts';
import { fingerprint, type SyncState } from '../../lib/registry/sync-state.ts';

const entry = (name: string, port: number) => ({ name, description: `d ${name}`, endpoints: [`h:${port}`] });
const owned = (cluster: string, name: string, port: number) =>
  ownedEntry(entry(name, port), { cluster, service: `ns/${name}` });
const stateOf = (...names: Array<[string, number]>): SyncState => ({
  services: {},
  tombstones: {},
  owned: Object.fromEntries(
    names.map(([n, p]) => [n, { service: `ns/${n}`, fingerprint: fingerprint(entry(n, p)) }]),
  ),
});
// As stored: a marked entry of cluster a, an entry of a whose marker a round-trip dropped, one of cluster b, one by hand.
const document = parseDocument(
  serializeDocument({
    entries: [
      owned('a', 'web', 1),
      handEntry(entry('api', 2)),
      owned('b', 'shop', 3),
      handEntry(entry('kafka', 9092)),
    ],
  }),
);
const states = [
  { cluster: 'a', state: stateOf(['web', 1], ['api', 2]) },
  { cluster: 'b', state: stateOf(['shop', 3]) },
];

describe('adoptEntry', () => {
  test.each([
    ['web', 'a', 'ns/web'],
    ['api', 'a', 'ns/api'],
    ['shop', 'b', 'ns/shop'],
  ])(
    '%s becomes hand-made, reader fields unchanged, and leaves the state of its cluster',
    (name, cluster, service) => {
      const result = adoptEntry(document, states, name);
      expect(result).toMatchObject({ cluster, service });
      const adopted = result.document.entries.find((e) => e.name === name);
      expect(adopted?.owner).toBeUndefined();
      expect(adopted?.value[OWNER_FIELD]).toBeUndefined();
      expect(readerView(adopted as never)).toEqual(
        readerView(document.entries.find((e) => e.name === name) as never),
      );
      expect(result.state?.owned?.[name]).toBeUndefined();
      const others = Object.keys(states.find((s) => s.cluster === cluster)?.state.owned ?? {}).filter(
        (n) => n !== name,
      );
      expect(Object.keys(result.state?.owned ?? {})).toEqual(others);
    },
  );

  test.each([
    ['kafka', /already hand-made/],
    ['nope', /no entry "nope"/],
  ])('%s is refused', (name, message) => {
    expect(() => adoptEntry(document, states, name)).toThrow(HandoverError);
    expect(() => adoptEntry(document, states, name)).toThrow(message);
  });
});

describe('purgeCluster', () => {
  test('removes the entries of the cluster, marked or owned by its state, and nothing else', () => {
    const a = purgeCluster(document, 'a', states[0]?.state);
    expect(a.removed.map((e) => e.name).sort()).toEqual(['api', 'web']);
    expect(a.document.entries.map((e) => e.name)).toEqual(['kafka', 'shop']);
    // Without its state, only the markers tell: the unmarked entry stays (it reads as hand-made).
    expect(purgeCluster(document, 'a', undefined).removed.map((e) => e.name)).toEqual(['web']);
    expect(purgeCluster(document, 'c', undefined).removed).toEqual([]);
  });
});
