// The outbox on its own: coalescing by resourceVersion, batch limits, and what a retry puts back.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type OutgoingEvent, PendingEvents } from '../../lib/forwarder/outbox.ts';

const ev = (key: string, rv: number, size = 100): OutgoingEvent => ({
  key,
  resourceVersion: String(rv),
  size,
});

describe('coalescing', () => {
  test('one waiting event per key, the newest version wins whatever the arrival order', () => {
    const pending = new PendingEvents();
    expect(pending.offer(ev('a/x', 5))).toBe('added');
    expect(pending.offer(ev('a/x', 9))).toBe('coalesced');
    expect(pending.offer(ev('a/x', 7))).toBe('stale');
    expect(pending.offer(ev('a/x', 9))).toBe('stale');
    expect(pending.size).toBe(1);
    expect(pending.take().map((e) => e.resourceVersion)).toEqual(['9']);
  });

  test('versions compare as numbers, not strings', () => {
    const pending = new PendingEvents();
    pending.offer(ev('a/x', 99));
    expect(pending.offer(ev('a/x', 100))).toBe('coalesced');
    expect(pending.take()[0]?.resourceVersion).toBe('100');
  });

  test('a replaced key keeps its place in line, so a Service that changes all the time is not starved', () => {
    const pending = new PendingEvents({ maxEntries: 2, maxBytes: 10_000 });
    pending.offer(ev('a/first', 1));
    pending.offer(ev('a/second', 2));
    pending.offer(ev('a/third', 3));
    pending.offer(ev('a/first', 4));
    expect(pending.take().map((e) => e.key)).toEqual(['a/first', 'a/second']);
  });

  test('an offer no newer than the version in flight is stale', () => {
    const pending = new PendingEvents();
    pending.offer(ev('a/x', 5));
    pending.take();
    expect(pending.offer(ev('a/x', 5))).toBe('stale');
    expect(pending.offer(ev('a/x', 4))).toBe('stale');
    expect(pending.offer(ev('a/x', 6))).toBe('added');
  });

  test('memory is bounded by the number of keys, however many changes arrive (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 19 }), fc.integer({ min: 1, max: 1000 })), {
          maxLength: 500,
        }),
        (offers) => {
          const pending = new PendingEvents();
          const newest = new Map<string, number>();
          for (const [k, rv] of offers) {
            pending.offer(ev(`ns/s${k}`, rv));
            newest.set(`ns/s${k}`, Math.max(newest.get(`ns/s${k}`) ?? 0, rv));
            expect(pending.size).toBeLessThanOrEqual(20);
          }
          const out = new Map<string, number>();
          for (let batch = pending.take(); batch.length > 0; batch = pending.take()) {
            for (const e of batch) {
              out.set(e.key, Number(e.resourceVersion));
              pending.settle(e, 'sent');
            }
          }
          expect(out).toEqual(newest);
        },
      ),
    );
  });
});

describe('batches', () => {
  test('at most 10 entries', () => {
    const pending = new PendingEvents();
    for (let i = 0; i < 25; i++) pending.offer(ev(`ns/s${i}`, i + 1));
    expect(pending.take()).toHaveLength(10);
    expect(pending.take()).toHaveLength(10);
    expect(pending.take()).toHaveLength(5);
    expect(pending.take()).toHaveLength(0);
  });

  test('sizes sum below the request limit; the entry that would reach it waits for the next batch', () => {
    const pending = new PendingEvents({ maxEntries: 10, maxBytes: 1000 });
    pending.offer(ev('a/1', 1, 400));
    pending.offer(ev('a/2', 2, 400));
    pending.offer(ev('a/3', 3, 200));
    pending.offer(ev('a/4', 4, 100));
    expect(pending.take().map((e) => e.key)).toEqual(['a/1', 'a/2']);
    expect(pending.take().map((e) => e.key)).toEqual(['a/3', 'a/4']);
  });

  test('an event that can never fit a request is refused when offered', () => {
    const pending = new PendingEvents({ maxEntries: 10, maxBytes: 1000 });
    expect(() => pending.offer(ev('a/big', 1, 1000))).toThrow(/too big/);
  });

  test('a key in flight is skipped: one key is never in two batches at once', () => {
    const pending = new PendingEvents();
    pending.offer(ev('a/x', 1));
    const first = pending.take();
    pending.offer(ev('a/x', 2));
    pending.offer(ev('a/y', 3));
    expect(pending.sendable).toBe(true);
    expect(pending.take().map((e) => e.key)).toEqual(['a/y']);
    expect(pending.sendable).toBe(false);
    expect(pending.take()).toEqual([]);
    pending.settle(first[0] as OutgoingEvent, 'sent');
    expect(pending.take().map((e) => `${e.key}@${e.resourceVersion}`)).toEqual(['a/x@2']);
  });
});

describe('settling', () => {
  test('a retryable failure goes back to be sent again', () => {
    const pending = new PendingEvents();
    pending.offer(ev('a/x', 1));
    const [event] = pending.take();
    expect(pending.settle(event as OutgoingEvent, 'retry')).toBe('requeued');
    expect(pending.size).toBe(1);
    expect(pending.inFlight).toBe(0);
    expect(pending.take()).toEqual([event]);
  });

  test('unless a newer version arrived meanwhile: then only the newer one is sent', () => {
    const pending = new PendingEvents();
    pending.offer(ev('a/x', 1));
    const [event] = pending.take();
    pending.offer(ev('a/x', 2));
    expect(pending.settle(event as OutgoingEvent, 'retry')).toBe('superseded');
    expect(pending.take().map((e) => e.resourceVersion)).toEqual(['2']);
  });

  test('sent and dropped events are done with', () => {
    const pending = new PendingEvents();
    pending.offer(ev('a/x', 1));
    pending.offer(ev('a/y', 1));
    const [x, y] = pending.take();
    expect(pending.settle(x as OutgoingEvent, 'sent')).toBe('done');
    expect(pending.settle(y as OutgoingEvent, 'dropped')).toBe('done');
    expect(pending.idle).toBe(true);
  });

  test('settling an event that is not in flight is a bug, reported loudly', () => {
    const pending = new PendingEvents();
    expect(() => pending.settle(ev('a/x', 1), 'sent')).toThrow(/not in flight/);
  });
});
