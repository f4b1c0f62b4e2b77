import { describe, expect, test } from 'vitest';
import {
  DocumentError,
  handEntry,
  ownedEntry,
  parseDocument,
  readerView,
  serializeDocument,
} from '../../lib/registry/document.ts';

describe('parseDocument', () => {
  test.each([
    ['{"name":"x"}', 'must be a JSON array of services, but it is an object'],
    ['"text"', 'but it is a string'],
    ['null', 'but it is null'],
    ['[1]', 'element 0 of the registry document is not an object'],
    ['[{"name":"a"},{"description":"no name"}]', 'element 1 of the registry document has no string "name"'],
    ['[{"name":"a"}', 'not valid JSON'],
  ])('refuses %s', (text, message) => {
    expect(() => parseDocument(text)).toThrow(DocumentError);
    expect(() => parseDocument(text)).toThrow(message);
  });

  test('an empty znode is an empty registry', () => {
    expect(parseDocument('').entries).toEqual([]);
    expect(parseDocument(Buffer.alloc(0)).entries).toEqual([]);
  });

  test('keeps the exact text of every element, however it is formatted', () => {
    const elements = [
      '{ "name" : "kafka",\n    "endpoints":["k1:9092"], "extra": {"nested": [1, "]},{"]}, "description": "q\\"uote" }',
      '{"name":"solr","endpoints":[],"description":"","weight":3}',
      '{\n\t"name": "zeta" ,"description":"d", "endpoints": ["z:1"]\n}',
    ];
    const text = `\n  [ ${elements[0]} ,\n${elements[1]},${elements[2]}\n ]  \n`;
    const doc = parseDocument(text);
    expect(doc.entries.map((e) => e.text)).toEqual(elements);
    expect(doc.entries.map((e) => e.name)).toEqual(['kafka', 'solr', 'zeta']);
    expect(doc.entries[0]?.value.extra).toEqual({ nested: [1, ']},{'] });
  });

  test('recognises the ownership marker and nothing else as ownership', () => {
    const doc = parseDocument(
      JSON.stringify([
        { name: 'a', description: '', endpoints: [], 'kube-zk-sync': { cluster: 'prod', service: 'ns/a' } },
        { name: 'b', description: '', endpoints: [], 'kube-zk-sync': 'prod' },
        { name: 'c', description: '', endpoints: [] },
      ]),
    );
    expect(doc.entries.map((e) => e.owner)).toEqual([
      { cluster: 'prod', service: 'ns/a' },
      undefined,
      undefined,
    ]);
  });
});

describe('serializeDocument', () => {
  test('sorts by name, one entry a line, and reads back the same', () => {
    const doc = {
      entries: [
        ownedEntry(
          { name: 'web.default', description: 'w', endpoints: ['a.example.com:80'] },
          { cluster: 'c', service: 'default/web' },
        ),
        handEntry({ name: 'kafka', description: 'queue', endpoints: ['k1:9092', 'k2:9092'] }),
      ],
    };
    const text = serializeDocument(doc);
    expect(text).toBe(
      '[\n' +
        '  {"name":"kafka","description":"queue","endpoints":["k1:9092","k2:9092"]},\n' +
        '  {"name":"web.default","description":"w","endpoints":["a.example.com:80"],"kube-zk-sync":{"cluster":"c","service":"default/web"}}\n' +
        ']\n',
    );
    const again = parseDocument(text);
    expect(serializeDocument(again)).toBe(text);
    expect(again.entries.map(readerView)).toEqual([
      { name: 'kafka', description: 'queue', endpoints: ['k1:9092', 'k2:9092'] },
      { name: 'web.default', description: 'w', endpoints: ['a.example.com:80'] },
    ]);
  });

  test('an empty registry is an empty array', () => {
    expect(serializeDocument({ entries: [] })).toBe('[]\n');
  });
});
