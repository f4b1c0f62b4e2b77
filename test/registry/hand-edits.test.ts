// register and deregister on their own: every way an edit by hand ends, on documents written out as text.
import { describe, expect, test } from 'vitest';
import { parseDocument, serializeDocument } from '../../lib/registry/document.ts';
import {
  type DeregisterRequest,
  deregisterByHand,
  type HandEdit,
  type RegisterRequest,
  registerByHand,
} from '../../lib/registry/hand-edits.ts';

const solr = '{"name":"solr","description":"Search","endpoints":["s1:8983"],"team":"search","tier":1}';
const web =
  '{"name":"web","description":"w","endpoints":["lb:80"],"kube-zk-sync":{"cluster":"prod","service":"default/web"}}';
/** A hand-made entry in its owner's own formatting, which every write must keep. */
const kafka = '{ "name": "kafka",  "description": "", "endpoints": ["k:9092"] }';
const documentOf = (...entries: string[]) => parseDocument(`[${entries.join(',')}]`);

type Expected =
  | { readonly outcome: 'created' | 'updated' | 'removed'; readonly text: string }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'refused'; readonly reason: string; readonly message: string };

/** What an edit did, with its document as the bytes that would be written. */
const seen = (edit: HandEdit): Expected => {
  if (edit.outcome === 'refused')
    return { outcome: 'refused', reason: edit.refusal.reason, message: edit.refusal.message };
  if (edit.outcome === 'unchanged') return edit;
  return { outcome: edit.outcome, text: serializeDocument(edit.document) };
};

const lines = (...entries: string[]) => `[\n${entries.map((e) => `  ${e}`).join(',\n')}\n]\n`;

describe('registerByHand', () => {
  test.each<[string, string[], RegisterRequest, Expected]>([
    [
      'a new name in an empty document: created, endpoints sorted and unique, no description',
      [],
      { name: 'db', endpoints: ['db2:5432', 'db1:5432', 'db2:5432'] },
      {
        outcome: 'created',
        text: lines('{"name":"db","description":"","endpoints":["db1:5432","db2:5432"]}'),
      },
    ],
    [
      'a new name next to other entries: they are kept byte for byte',
      [kafka, web],
      { name: 'db', endpoints: ['db:5432'], description: 'Postgres' },
      {
        outcome: 'created',
        text: lines('{"name":"db","description":"Postgres","endpoints":["db:5432"]}', kafka, web),
      },
    ],
    [
      'the same endpoints and no description: unchanged',
      [solr],
      { name: 'solr', endpoints: ['s1:8983'] },
      { outcome: 'unchanged' },
    ],
    [
      'the same entry with its endpoints in another order: unchanged',
      ['{"name":"solr","description":"Search","endpoints":["a:1","b:2"]}'],
      { name: 'solr', endpoints: ['b:2', 'a:1'], description: 'Search' },
      { outcome: 'unchanged' },
    ],
    [
      'new endpoints, no description: updated, the description and the fields people added kept',
      [solr, kafka],
      { name: 'solr', endpoints: ['s2:8983'] },
      {
        outcome: 'updated',
        text: lines(
          kafka,
          '{"name":"solr","description":"Search","endpoints":["s2:8983"],"team":"search","tier":1}',
        ),
      },
    ],
    [
      'a new description: updated',
      [solr],
      { name: 'solr', endpoints: ['s1:8983'], description: 'Solr' },
      {
        outcome: 'updated',
        text: lines('{"name":"solr","description":"Solr","endpoints":["s1:8983"],"team":"search","tier":1}'),
      },
    ],
    [
      "a cluster's entry: refused, the name is taken",
      [web],
      { name: 'web', endpoints: ['x:1'] },
      {
        outcome: 'refused',
        reason: 'taken-by-cluster',
        message:
          'refusing to overwrite "web": it is managed by cluster "prod" (Service default/web) and the next sync ' +
          'would undo it',
      },
    ],
    [
      "a cluster's entry and an invalid request: the name taken is the first refusal",
      [web],
      { name: 'web', endpoints: ['no-port'] },
      {
        outcome: 'refused',
        reason: 'taken-by-cluster',
        message:
          'refusing to overwrite "web": it is managed by cluster "prod" (Service default/web) and the next sync ' +
          'would undo it',
      },
    ],
    [
      "a cluster's entry, forced: taken over, the marker dropped",
      [web, kafka],
      { name: 'web', endpoints: ['x:1'], force: true },
      { outcome: 'updated', text: lines(kafka, '{"name":"web","description":"w","endpoints":["x:1"]}') },
    ],
    [
      "a cluster's entry, forced with the same content: updated all the same, since it becomes hand-made",
      [web],
      { name: 'web', endpoints: ['lb:80'], force: true },
      { outcome: 'updated', text: lines('{"name":"web","description":"w","endpoints":["lb:80"]}') },
    ],
    [
      'an invalid name: refused',
      [],
      { name: 'bad name!', endpoints: ['h:1'] },
      {
        outcome: 'refused',
        reason: 'invalid',
        message:
          'entry "bad name!" is invalid: the name "bad name!" may only contain letters, digits, ".", "_" and ' +
          '"-", and must start and end with a letter or digit',
      },
    ],
    [
      'invalid endpoints: refused with every problem',
      [solr],
      { name: 'solr', endpoints: ['h:99999', 'no-port'] },
      {
        outcome: 'refused',
        reason: 'invalid',
        message:
          'entry "solr" is invalid: the endpoint "h:99999" has port 99999, outside 1–65535; the endpoint ' +
          '"no-port" is not host:port',
      },
    ],
    [
      'no endpoints: refused',
      [],
      { name: 'db', endpoints: [] },
      { outcome: 'refused', reason: 'invalid', message: 'entry "db" is invalid: there are no endpoints' },
    ],
  ])('%s', (_, entries, request, expected) => {
    expect(seen(registerByHand(documentOf(...entries), request))).toEqual(expected);
  });
});

describe('deregisterByHand', () => {
  test.each<[string, string[], DeregisterRequest, Expected]>([
    [
      'a hand-made entry: removed, the others kept byte for byte',
      [solr, kafka, web],
      { name: 'solr' },
      { outcome: 'removed', text: lines(kafka, web) },
    ],
    [
      'the last entry: removed, an empty document left',
      [solr],
      { name: 'solr' },
      { outcome: 'removed', text: '[]\n' },
    ],
    [
      'a name that is not there: refused',
      [solr],
      { name: 'nope' },
      { outcome: 'refused', reason: 'not-found', message: 'no entry named "nope"' },
    ],
    [
      'an empty document: refused',
      [],
      { name: 'solr', force: true },
      { outcome: 'refused', reason: 'not-found', message: 'no entry named "solr"' },
    ],
    [
      "a cluster's entry: refused, it is not hand-made",
      [web],
      { name: 'web' },
      {
        outcome: 'refused',
        reason: 'not-hand-made',
        message:
          'refusing to remove "web": it is managed by cluster "prod" (Service default/web) and the next sync ' +
          'would undo it',
      },
    ],
    [
      "a cluster's entry, forced: removed",
      [web, kafka],
      { name: 'web', force: true },
      { outcome: 'removed', text: lines(kafka) },
    ],
  ])('%s', (_, entries, request, expected) => {
    expect(seen(deregisterByHand(documentOf(...entries), request))).toEqual(expected);
  });
});

test('an edit leaves the document it was given as it was', () => {
  const doc = documentOf(solr, web);
  const before = serializeDocument(doc);
  registerByHand(doc, { name: 'web', endpoints: ['x:1'], force: true });
  registerByHand(doc, { name: 'db', endpoints: ['x:1'] });
  deregisterByHand(doc, { name: 'solr' });
  expect(serializeDocument(doc)).toBe(before);
});
