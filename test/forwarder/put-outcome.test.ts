// What becomes of each event after a PutEvents call, from the answers EventBridge gives. The sender meets them
// against the local EventBridge endpoint in eventbridge-faults.test.ts.
import { describe, expect, test } from 'vitest';
import {
  afterPutEvents,
  afterPutEventsError,
  type PutEventsOutcome,
  type PutEventsResultEntry,
} from '../../lib/forwarder/put-outcome.ts';

const ok: PutEventsResultEntry = {};
const failed = (code: string, message = `${code} message`): PutEventsResultEntry => ({
  ErrorCode: code,
  ErrorMessage: message,
});

/** An outcome as plain data: the events by fate, and the counts. */
const plain = (outcome: PutEventsOutcome<string>) => ({
  sent: outcome.sent,
  resend: outcome.resend,
  dropped: outcome.dropped.map((d) => `${d.event}:${d.code}`),
  failures: Object.fromEntries(outcome.failures),
  call: outcome.call,
});

describe('afterPutEvents', () => {
  test.each<[string, string[], PutEventsResultEntry[], ReturnType<typeof plain>]>([
    [
      'every event accepted: all done',
      ['a', 'b', 'c'],
      [ok, ok, ok],
      { sent: ['a', 'b', 'c'], resend: [], dropped: [], failures: {}, call: 'ok' },
    ],
    [
      'one throttled: resend it, the others done',
      ['a', 'b', 'c'],
      [ok, failed('ThrottlingException'), ok],
      { sent: ['a', 'c'], resend: ['b'], dropped: [], failures: {}, call: 'partial' },
    ],
    [
      'an internal failure: resend',
      ['a', 'b'],
      [failed('InternalFailure'), ok],
      { sent: ['b'], resend: ['a'], dropped: [], failures: {}, call: 'partial' },
    ],
    [
      'an answer shorter than the request: the events without a result are resent',
      ['a', 'b', 'c'],
      [ok],
      { sent: ['a'], resend: ['b', 'c'], dropped: [], failures: {}, call: 'partial' },
    ],
    [
      'no results at all: every event resent',
      ['a', 'b'],
      [],
      { sent: [], resend: ['a', 'b'], dropped: [], failures: {}, call: 'partial' },
    ],
    [
      'a malformed detail: dropped and counted by its code',
      ['a', 'b'],
      [failed('MalformedDetail'), ok],
      {
        sent: ['b'],
        resend: [],
        dropped: ['a:MalformedDetail'],
        failures: { MalformedDetail: 1 },
        call: 'partial',
      },
    ],
    [
      'refusals of several kinds: each dropped, counted per code',
      ['a', 'b', 'c', 'd'],
      [failed('AccessDeniedException'), failed('InvalidArgument'), failed('AccessDeniedException'), ok],
      {
        sent: ['d'],
        resend: [],
        dropped: ['a:AccessDeniedException', 'b:InvalidArgument', 'c:AccessDeniedException'],
        failures: { AccessDeniedException: 2, InvalidArgument: 1 },
        call: 'partial',
      },
    ],
    [
      'all three fates in one answer',
      ['a', 'b', 'c'],
      [failed('NotAuthorizedForSourceException'), failed('ThrottlingException'), ok],
      {
        sent: ['c'],
        resend: ['b'],
        dropped: ['a:NotAuthorizedForSourceException'],
        failures: { NotAuthorizedForSourceException: 1 },
        call: 'partial',
      },
    ],
  ])('%s', (_, batch, results, expected) => {
    expect(plain(afterPutEvents(batch, results))).toEqual(expected);
  });

  test("a dropped event keeps EventBridge's message for the log", () => {
    const outcome = afterPutEvents(['a'], [failed('MalformedDetail', 'Detail is malformed.')]);
    expect(outcome.dropped).toEqual([
      { event: 'a', code: 'MalformedDetail', message: 'Detail is malformed.' },
    ]);
  });
});

/** An error as the SDK throws it. */
const sdkError = (name: string, status?: number, extra: object = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}),
    ...extra,
  });

describe('afterPutEventsError', () => {
  const resendAll = { sent: [], resend: ['a', 'b'], dropped: [], failures: {}, call: 'error' as const };
  const dropAll = (code: string) => ({
    sent: [],
    resend: [],
    dropped: [`a:${code}`, `b:${code}`],
    failures: { [code]: 2 },
    call: 'error' as const,
  });
  test.each<[string, unknown, boolean, ReturnType<typeof plain>]>([
    ['throttled (400 ThrottlingException)', sdkError('ThrottlingException', 400), false, resendAll],
    ['a limit exceeded', sdkError('LimitExceededException', 400), false, resendAll],
    ['429 Too Many Requests', sdkError('SomethingElse', 429), false, resendAll],
    ['a server error', sdkError('InternalException', 500), false, resendAll],
    ['503 Service Unavailable', sdkError('ServiceUnavailable', 503), false, resendAll],
    ['a call that timed out', sdkError('TimeoutError'), false, resendAll],
    ['a refused connection: no answer, nothing decided', sdkError('Error'), false, resendAll],
    ['credentials not available yet', sdkError('CredentialsProviderError', 400), false, resendAll],
    ['an error the SDK marks retryable', sdkError('Whatever', 400, { $retryable: {} }), false, resendAll],
    [
      'a request EventBridge refuses (400 ValidationException)',
      sdkError('ValidationException', 400),
      false,
      dropAll('ValidationException'),
    ],
    ['access denied (403)', sdkError('AccessDeniedException', 403), false, dropAll('AccessDeniedException')],
    [
      'a refusal met while stopping: nothing decided, kept to be sent',
      sdkError('ValidationException', 400),
      true,
      resendAll,
    ],
  ])('%s', (_, error, stopping, expected) => {
    expect(plain(afterPutEventsError(['a', 'b'], error, stopping))).toEqual(expected);
  });
});
