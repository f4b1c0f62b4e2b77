import { describe, expect, test } from 'vitest';
import {
  compileEventPattern,
  type EventPattern,
  EventPatternError,
  matchesEventPattern,
} from '../../../lib/local/eventbridge/pattern.ts';

// The sample event of the EventBridge documentation, with a detail that exercises each operator.
const event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 0.5,
    FileName: 'Photo.PNG',
    empty: '',
    nothing: null,
    flag: false,
    tags: ['blue', 'green'],
    location: { city: 'Paris', zip: '75001' },
    items: [{ sku: 'a1', qty: 2 }, { sku: 'b2' }],
  },
};

describe('event patterns', () => {
  test.each<[string, EventPattern, boolean]>([
    ['exact source', { source: ['aws.ec2'] }, true],
    ['exact values are ORed', { source: ['aws.s3', 'aws.ec2'] }, true],
    ['exact mismatch', { source: ['aws.s3'] }, false],
    ['keys are ANDed', { source: ['aws.ec2'], 'detail-type': ['nope'] }, false],
    ['exact match is case-sensitive', { source: ['AWS.EC2'] }, false],
    ['nested detail key', { detail: { state: ['terminated'] } }, true],
    ['deeper nesting', { detail: { location: { city: ['Paris'] } } }, true],
    ['deeper nesting mismatch', { detail: { location: { city: ['Lyon'] } } }, false],
    ['a number matches a number', { detail: { 'c-count': [5] } }, true],
    ['a number does not match its string', { detail: { 'c-count': ['5'] } }, false],
    ['null matches null', { detail: { nothing: [null] } }, true],
    ['empty string matches empty string', { detail: { empty: [''] } }, true],
    ['null and empty string are different', { detail: { empty: [null] } }, false],
    ['boolean', { detail: { flag: [false] } }, true],
    ['an array in the event matches when any element does', { detail: { tags: ['green'] } }, true],
    ['an array in the event, no element matches', { detail: { tags: ['red'] } }, false],
    ['resources array', { resources: [{ prefix: 'arn:aws:ec2:' }] }, true],
    ['objects in an event array', { detail: { items: { sku: ['b2'] } } }, true],
    ['objects in an event array, no match', { detail: { items: { sku: ['c3'] } } }, false],
    ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
    ['prefix mismatch', { time: [{ prefix: '2018' }] }, false],
    ['prefix ignoring case', { detail: { FileName: [{ prefix: { 'equals-ignore-case': 'photo' } }] } }, true],
    ['suffix', { detail: { FileName: [{ suffix: '.PNG' }] } }, true],
    ['suffix is case-sensitive', { detail: { FileName: [{ suffix: '.png' }] } }, false],
    ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, true],
    ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'TERMINATED' }] } }, true],
    ['anything-but a value', { detail: { state: [{ 'anything-but': 'running' }] } }, true],
    ['anything-but the value itself', { detail: { state: [{ 'anything-but': 'terminated' }] } }, false],
    ['anything-but a number', { detail: { 'c-count': [{ 'anything-but': 5 }] } }, false],
    ['anything-but a list', { detail: { state: [{ 'anything-but': ['running', 'terminated'] }] } }, false],
    [
      'anything-but a list, not in it',
      { detail: { state: [{ 'anything-but': ['running', 'pending'] }] } },
      true,
    ],
    ['anything-but a prefix', { region: [{ 'anything-but': { prefix: 'us-' } }] }, false],
    ['anything-but another prefix', { region: [{ 'anything-but': { prefix: 'eu-' } }] }, true],
    ['anything-but a suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.PNG' } }] } }, false],
    [
      'anything-but ignoring case',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'TERMINATED' } }] } },
      false,
    ],
    ['anything-but a wildcard', { detail: { FileName: [{ 'anything-but': { wildcard: '*.PNG' } }] } }, false],
    ['anything-but on a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
    ['exists true', { detail: { state: [{ exists: true }] } }, true],
    ['exists true on a missing field', { detail: { missing: [{ exists: true }] } }, false],
    ['exists false on a missing field', { detail: { missing: [{ exists: false }] } }, true],
    ['exists false on a present field', { detail: { state: [{ exists: false }] } }, false],
    ['exists false under a missing parent', { detail: { nowhere: { deeper: [{ exists: false }] } } }, true],
    ['exists true on an object (not a leaf)', { detail: { location: [{ exists: true }] } }, false],
    ['a missing field matches no value', { detail: { missing: ['x'] } }, false],
    ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['numeric range excluded', { detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } }, false],
    ['numeric equal', { detail: { 'd-count': [{ numeric: ['=', 0.5] }] } }, true],
    ['numeric does not match strings', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
    ['wildcard', { 'detail-type': [{ wildcard: 'EC2 * Notification' }] }, true],
    ['wildcard mismatch', { 'detail-type': [{ wildcard: 'EC2 *Change*' }] }, false],
    ['wildcard with an escaped star', { detail: { state: [{ wildcard: 'term\\*' }] } }, false],
    ['$or: one branch holds', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['terminated'] } }] }, true],
    ['$or: no branch holds', { $or: [{ source: ['aws.s3'] }, { detail: { state: ['running'] } }] }, false],
    ['$or nested under detail', { detail: { $or: [{ 'c-count': [1] }, { 'd-count': [0.5] }] } }, true],
    [
      '$or ANDed with a sibling',
      { source: ['aws.s3'], $or: [{ region: ['us-west-1'] }, { account: ['x'] }] },
      false,
    ],
    ['operators and values mixed in a leaf', { detail: { state: ['running', { prefix: 'term' }] } }, true],
  ])('%s', (_, pattern, expected) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });

  test('a wildcard escape matches a literal star', () => {
    expect(matchesEventPattern({ key: [{ wildcard: 'a\\*b*' }] }, { key: 'a*bcd' })).toBe(true);
    expect(matchesEventPattern({ key: [{ wildcard: 'a\\*b*' }] }, { key: 'axbcd' })).toBe(false);
  });

  test('the project rule shape: source, detail-type and a detail field', () => {
    const pattern = {
      source: ['kube-zk-sync'],
      'detail-type': ['Kubernetes Service observed'],
      detail: { v: [1], cluster: [{ prefix: 'prod-' }] },
    };
    const ours = {
      source: 'kube-zk-sync',
      'detail-type': 'Kubernetes Service observed',
      detail: { v: 1, cluster: 'prod-eu' },
    };
    expect(matchesEventPattern(pattern, ours)).toBe(true);
    expect(matchesEventPattern(pattern, { ...ours, detail: { v: 2, cluster: 'prod-eu' } })).toBe(false);
    expect(matchesEventPattern(pattern, { ...ours, detail: { v: 1, cluster: 'dev' } })).toBe(false);
  });

  test.each<[string, unknown, RegExp]>([
    ['not an object', ['x'], /a JSON object/],
    ['a bare value instead of a list', { source: 'aws.ec2' }, /at source: "aws.ec2" must be a list/],
    ['an empty list', { source: [] }, /at source: an empty list/],
    ['an empty object', { detail: {} }, /at detail: an empty object/],
    [
      'an unknown operator',
      { detail: { a: [{ contains: 'x' }] } },
      /at detail.a: unknown operator "contains"/,
    ],
    ['two operators in one object', { a: [{ prefix: 'x', suffix: 'y' }] }, /exactly one key/],
    ['cidr', { a: [{ cidr: '10.0.0.0/8' }] }, /cidr is not supported/],
    ['a bad numeric', { a: [{ numeric: ['>'] }] }, /numeric takes/],
    ['a bad numeric operator', { a: [{ numeric: ['~', 1] }] }, /"~" 1 is not a comparison/],
    ['exists with a string', { a: [{ exists: 'yes' }] }, /exists takes true or false/],
    ['$or with one branch', { $or: [{ a: ['x'] }] }, /\$or takes a list of at least two/],
    ['a consecutive wildcard', { a: [{ wildcard: 'a**' }] }, /consecutive/],
    ['prefix with a number', { a: [{ prefix: 1 }] }, /prefix takes a string/],
  ])('refuses %s', (_, pattern, message) => {
    expect(() => compileEventPattern(pattern)).toThrow(EventPatternError);
    expect(() => compileEventPattern(pattern)).toThrow(message);
  });
});
