import { describe, expect, test } from 'vitest';
import { describeChange, documentChanges } from '../../lib/registry/changes.ts';
import { handEntry, ownedEntry, parseDocument } from '../../lib/registry/document.ts';

const hand = (name: string, ...endpoints: string[]) => handEntry({ name, description: '', endpoints });

describe('documentChanges', () => {
  test('names additions, changes and removals, sorted by name', () => {
    const before = { entries: [hand('b', 'b:1'), hand('c', 'c:1'), hand('d', 'd:1')] };
    const after = { entries: [hand('a', 'a:1'), hand('b', 'b:2'), hand('d', 'd:1')] };
    expect(documentChanges(before, after).map(describeChange)).toEqual(['+ a  a:1', '~ b  b:2', '- c  c:1']);
  });

  test('a change only a reader cannot see (the marker, formatting, extra fields) is no change', () => {
    const entry = { name: 'web', description: 'shop', endpoints: ['w:80'] };
    const before = { entries: [ownedEntry(entry, { cluster: 'a', service: 'shop/web' })] };
    const after = parseDocument('[{"name":"web","description":"shop","endpoints":["w:80"],"x":1}]');
    expect(documentChanges(before, after)).toEqual([]);
  });

  test('a removal shows the endpoints it took away; an entry without endpoints shows a dash', () => {
    const changes = documentChanges({ entries: [hand('q', 'q:1'), hand('e')] }, { entries: [] });
    expect(changes.map(describeChange)).toEqual(['- e  -', '- q  q:1']);
  });

  test('a duplicated name counts by its first entry, as readers take it', () => {
    const before = { entries: [hand('x', 'x:1'), hand('x', 'x:9')] };
    const after = { entries: [hand('x', 'x:1')] };
    expect(documentChanges(before, after)).toEqual([]);
  });
});
