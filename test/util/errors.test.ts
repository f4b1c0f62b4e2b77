// Errors in words, from the real shapes that reach the product: our own errors, AWS SDK exceptions, the Kubernetes
// client's ApiException, a fetch that got no answer, ZooKeeper errors, and values that are not errors at all.
import { ParameterNotFound } from '@aws-sdk/client-ssm';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { describeError, httpFailure, messageOf } from '../../lib/util/errors.ts';
import { Codes, ZkError } from '../../lib/zk/session.ts';

const status = (message: string) => JSON.stringify({ kind: 'Status', code: 410, message });
const noAnswer = await fetch('http://127.0.0.1:9/').catch((error: unknown) => error);

const cases: ReadonlyArray<[string, unknown, string, { status?: number; message: string }]> = [
  ['an Error', new Error('boom'), 'boom', { message: 'boom' }],
  ['a named Error', new RangeError('too far'), 'RangeError: too far', { message: 'too far' }],
  [
    'an AWS SDK exception',
    new ParameterNotFound({ message: 'Parameter not found', $metadata: { httpStatusCode: 400 } }),
    'ParameterNotFound (HTTP 400): Parameter not found',
    { status: 400, message: 'Parameter not found' },
  ],
  [
    'an ApiException with a Status body',
    new ApiException(410, 'Gone', status('too old resource version: 1 (2)'), {}),
    'HTTP 410: too old resource version: 1 (2)',
    { status: 410, message: 'too old resource version: 1 (2)' },
  ],
  [
    'an ApiException with a text body',
    new ApiException(503, 'Service Unavailable', 'upstream connect error', {}),
    'HTTP 503: upstream connect error',
    { status: 503, message: 'upstream connect error' },
  ],
  [
    'an ApiException without a body: the first line of its message',
    new ApiException(500, 'Internal', '', {}),
    'HTTP 500: HTTP-Code: 500',
    { status: 500, message: 'HTTP-Code: 500' },
  ],
  [
    "a watch's error with statusCode",
    Object.assign(new Error('Forbidden'), { statusCode: 403 }),
    'HTTP 403: Forbidden',
    { status: 403, message: 'Forbidden' },
  ],
  [
    'a fetch without an answer',
    noAnswer,
    'TypeError: fetch failed: bad port',
    { message: 'fetch failed: bad port' },
  ],
  [
    'a ZooKeeper error: its numeric code is not an HTTP status',
    new ZkError('writing /a: CONNECTION_LOSS', Codes.CONNECTION_LOSS),
    'ZkError: writing /a: CONNECTION_LOSS',
    { message: 'writing /a: CONNECTION_LOSS' },
  ],
  [
    'a timeout',
    new DOMException('The operation timed out', 'TimeoutError'),
    'TimeoutError: The operation timed out',
    {
      message: 'The operation timed out',
    },
  ],
  ['a string', 'gone', 'gone', { message: 'gone' }],
  ['undefined', undefined, 'undefined', { message: 'undefined' }],
  ['null', null, 'null', { message: 'null' }],
];

describe('describeError', () => {
  test.each(cases)('%s', (_, error, described) => {
    expect(describeError(error)).toBe(described);
  });
});

describe('httpFailure', () => {
  test.each(cases)('%s', (_, error, __, failure) => {
    expect(httpFailure(error)).toEqual(failure);
  });
});

describe('messageOf', () => {
  test.each([
    [new Error('the document does not parse'), 'the document does not parse'],
    [new ApiException(410, 'Gone', '', {}), 'HTTP-Code: 410\nMessage: Gone\nBody: ""\nHeaders: {}'],
    [{ message: 'an object with a message' }, 'an object with a message'],
    ['a string', 'a string'],
    [42, '42'],
    [null, 'null'],
  ])('%s', (error, message) => {
    expect(messageOf(error)).toBe(message);
  });
});
