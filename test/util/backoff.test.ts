// The one backoff curve: exponential, capped, jittered between half and all of the step, with the random source
// pinned so each row is exact.
import { describe, expect, test } from 'vitest';
import { Backoff, backoffDelay } from '../../lib/util/backoff.ts';

const pinned = (value: number) => () => value;

describe('backoffDelay', () => {
  test.each([
    // failures, initialMs, maxMs, random, delay
    [0, 100, 10_000, 0, 50],
    [0, 100, 10_000, 0.999_999, 100],
    [0, 100, 10_000, 0.5, 75],
    [1, 100, 10_000, 0, 100],
    [3, 100, 10_000, 0, 400],
    [3, 100, 10_000, 0.5, 600],
    [6, 100, 10_000, 0.999_999, 6400],
    // capped: the ceiling stops at maxMs, and the jitter still keeps at least half of it
    [7, 100, 10_000, 0, 5000],
    [7, 100, 10_000, 0.999_999, 10_000],
    [1_000, 100, 10_000, 0, 5000],
    // the ZooKeeper retry's curve
    [0, 10, 1_000, 0, 5],
    [10, 10, 1_000, 0.5, 750],
    // a negative count is the first retry
    [-1, 100, 10_000, 0, 50],
  ])(
    'after %i failures from %i ms (max %i), random %d: %i ms',
    (failures, initialMs, maxMs, random, delay) => {
      expect(backoffDelay(failures, { initialMs, maxMs, random: pinned(random) })).toBe(delay);
    },
  );

  test('never below half and never above all of the capped step, whatever the random source says', () => {
    for (let failures = 0; failures < 40; failures++) {
      const ceiling = Math.min(30_000, 500 * 2 ** failures);
      for (const random of [0, 0.25, 0.5, 0.75, 0.999_999]) {
        const delay = backoffDelay(failures, { initialMs: 500, maxMs: 30_000, random: pinned(random) });
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  test('uses Math.random when no source is given', () => {
    const delays = new Set(
      Array.from({ length: 50 }, () => backoffDelay(10, { initialMs: 100, maxMs: 100_000 })),
    );
    expect(delays.size).toBeGreaterThan(1);
  });
});

describe('Backoff', () => {
  test('counts failures, grows, and starts over on reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: pinned(0) });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect(backoff.failures).toBe(5);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(50);
  });

  test.each([
    [0, 100],
    [-1, 100],
    [100, 50],
    [Number.NaN, 100],
  ])('refuses initialMs %d with maxMs %d', (initialMs, maxMs) => {
    expect(() => new Backoff({ initialMs, maxMs })).toThrow(RangeError);
  });

  test('wait resolves true after the delay, and false at once when the signal aborts', async () => {
    const backoff = new Backoff({ initialMs: 1, maxMs: 1, random: pinned(0) });
    expect(await backoff.wait()).toBe(true);
    const long = new Backoff({ initialMs: 60_000, maxMs: 60_000 });
    const stop = new AbortController();
    const waiting = long.wait(stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
  });
});
