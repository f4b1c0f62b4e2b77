// What the watch loop does after each way a watch can end. The loop itself meets these ends against the apiserver
// simulator in watch-faults.test.ts.
import { describe, expect, test } from 'vitest';
import { afterWatchEnd, type WatchEnd, type WatchEndReason } from '../../lib/forwarder/watch-decision.ts';

const MIN_WATCH_MS = 1000;
const end = (reason: WatchEndReason, progress: boolean, lastedMs = 60_000): WatchEnd => ({
  reason,
  progress,
  lastedMs,
});

describe('afterWatchEnd', () => {
  test.each<[string, WatchEnd, { next: string; backOff: boolean; resetBackoff: boolean; level: string }]>([
    [
      'a clean end after events: resume at once',
      end('end', true),
      { next: 'resume', backOff: false, resetBackoff: true, level: 'debug' },
    ],
    [
      'a clean end of a long watch that saw nothing (a quiet cluster): resume at once',
      end('end', false),
      { next: 'resume', backOff: false, resetBackoff: false, level: 'debug' },
    ],
    [
      'a clean end right away with nothing delivered (a server closing every watch): back off, then resume',
      end('end', false, 10),
      { next: 'resume', backOff: true, resetBackoff: false, level: 'debug' },
    ],
    [
      'a clean end exactly at the minimum: resume at once',
      end('end', false, MIN_WATCH_MS),
      { next: 'resume', backOff: false, resetBackoff: false, level: 'debug' },
    ],
    [
      "client-node's inactivity timeout on a quiet cluster: resume at once",
      end('timeout', false),
      { next: 'resume', backOff: false, resetBackoff: false, level: 'debug' },
    ],
    [
      'an inactivity timeout right away: back off, then resume',
      end('timeout', false, 5),
      { next: 'resume', backOff: true, resetBackoff: false, level: 'debug' },
    ],
    [
      'a stall after events: back off (afresh), then resume',
      end('stall', true),
      { next: 'resume', backOff: true, resetBackoff: true, level: 'warn' },
    ],
    [
      'a stall with nothing delivered: back off, then resume',
      end('stall', false),
      { next: 'resume', backOff: true, resetBackoff: false, level: 'warn' },
    ],
    [
      'an error after events: back off (afresh), then resume',
      end('error', true),
      { next: 'resume', backOff: true, resetBackoff: true, level: 'warn' },
    ],
    [
      'an error at once (refused, 5xx): back off, then resume',
      end('error', false, 1),
      { next: 'resume', backOff: true, resetBackoff: false, level: 'warn' },
    ],
    [
      '410 Gone after events: relist at once',
      end('gone', true),
      { next: 'relist', backOff: false, resetBackoff: true, level: 'info' },
    ],
    [
      '410 Gone with nothing delivered (even a fresh list is too old): back off, then relist',
      end('gone', false),
      { next: 'relist', backOff: true, resetBackoff: false, level: 'info' },
    ],
    [
      '410 Gone at once: back off, then relist',
      end('gone', false, 1),
      { next: 'relist', backOff: true, resetBackoff: false, level: 'info' },
    ],
  ])('%s', (_, watchEnd, expected) => {
    const { why: _why, ...decision } = afterWatchEnd(watchEnd, MIN_WATCH_MS);
    expect(decision).toEqual(expected);
  });

  test.each<[WatchEndReason, RegExp]>([
    ['end', /^watch ended; resuming$/],
    ['timeout', /^watch ended; resuming$/],
    ['stall', /^watch failed; resuming after a backoff$/],
    ['error', /^watch failed; resuming after a backoff$/],
    ['gone', /410 Gone.*listing again/],
  ])('says why after %s', (reason, why) => {
    expect(afterWatchEnd(end(reason, false), MIN_WATCH_MS).why).toMatch(why);
  });
});
