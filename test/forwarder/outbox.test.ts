// The outbox on its own: coalescing by resourceVersion, batch limits, and what a retry puts back.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Outbox, type OutgoingEvent } from '../../lib/forwarder/outbox.ts';

const ev = (key: string, rv: number, size = 100): OutgoingEvent => ({
  key,
  resourceVersion: String(rv),
  size,
});

describe('coalescing', () => {
  test('one waiting event per key, the newest version wins whatever the arrival order', () => {
    const outbox = new Outbox();
    expect(outbox.offer(ev('a/x', 5))).toBe('added');
    expect(outbox.offer(ev('a/x', 9))).toBe('coalesced');
    expect(outbox.offer(ev('a/x', 7))).toBe('stale');
    expect(outbox.offer(ev('a/x', 9))).toBe('stale');
    expect(outbox.size).toBe(1);
    expect(outbox.take().map((e) => e.resourceVersion)).toEqual(['9']);
  });

  test('versions compare as numbers, not strings', () => {
    const outbox = new Outbox();
    outbox.offer(ev('a/x', 99));
    expect(outbox.offer(ev('a/x', 100))).toBe('coalesced');
    expect(outbox.take()[0]?.resourceVersion).toBe('100');
  });

  test('a replaced key keeps its place in line, so a Service that changes all the time is not starved', () => {
    const outbox = new Outbox({ maxEvents: 2, maxBytes: 10_000 });
    outbox.offer(ev('a/first', 1));
    outbox.offer(ev('a/second', 2));
    outbox.offer(ev('a/third', 3));
    outbox.offer(ev('a/first', 4));
    expect(outbox.take().map((e) => e.key)).toEqual(['a/first', 'a/second']);
  });

  test('an offer no newer than the version in flight is stale', () => {
    const outbox = new Outbox();
    outbox.offer(ev('a/x', 5));
    outbox.take();
    expect(outbox.offer(ev('a/x', 5))).toBe('stale');
    expect(outbox.offer(ev('a/x', 4))).toBe('stale');
    expect(outbox.offer(ev('a/x', 6))).toBe('added');
  });

  test('memory is bounded by the number of keys, however many changes arrive (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 19 }), fc.integer({ min: 1, max: 1000 })), {
          maxLength: 500,
        }),
        (offers) => {
          const outbox = new Outbox();
          const newest = new Map<string, number>();
          for (const [k, rv] of offers) {
            outbox.offer(ev(`ns/s${k}`, rv));
            newest.set(`ns/s${k}`, Math.max(newest.get(`ns/s${k}`) ?? 0, rv));
            expect(outbox.size).toBeLessThanOrEqual(20);
          }
          const out = new Map<string, number>();
          for (let batch = outbox.take(); batch.length > 0; batch = outbox.take()) {
            for (const e of batch) {
              out.set(e.key, Number(e.resourceVersion));
              outbox.settle(e, 'sent');
            }
          }
          expect(out).toEqual(newest);
        },
      ),
    );
  });
});

describe('batches', () => {
  test('at most 10 events', () => {
    const outbox = new Outbox();
    for (let i = 0; i < 25; i++) outbox.offer(ev(`ns/s${i}`, i + 1));
    expect(outbox.take()).toHaveLength(10);
    expect(outbox.take()).toHaveLength(10);
    expect(outbox.take()).toHaveLength(5);
    expect(outbox.take()).toHaveLength(0);
  });

  test('sizes sum below the request limit; the event that would reach it waits for the next batch', () => {
    const outbox = new Outbox({ maxEvents: 10, maxBytes: 1000 });
    outbox.offer(ev('a/1', 1, 400));
    outbox.offer(ev('a/2', 2, 400));
    outbox.offer(ev('a/3', 3, 200));
    outbox.offer(ev('a/4', 4, 100));
    expect(outbox.take().map((e) => e.key)).toEqual(['a/1', 'a/2']);
    expect(outbox.take().map((e) => e.key)).toEqual(['a/3', 'a/4']);
  });

  test('an event that can never fit a request is refused when offered', () => {
    const outbox = new Outbox({ maxEvents: 10, maxBytes: 1000 });
    expect(() => outbox.offer(ev('a/big', 1, 1000))).toThrow(/too big/);
  });

  test('a key in flight is skipped: one key is never in two batches at once', () => {
    const outbox = new Outbox();
    outbox.offer(ev('a/x', 1));
    const first = outbox.take();
    outbox.offer(ev('a/x', 2));
    outbox.offer(ev('a/y', 3));
    expect(outbox.sendable).toBe(true);
    expect(outbox.take().map((e) => e.key)).toEqual(['a/y']);
    expect(outbox.sendable).toBe(false);
    expect(outbox.take()).toEqual([]);
    outbox.settle(first[0] as OutgoingEvent, 'sent');
    expect(outbox.take().map((e) => `${e.key}@${e.resourceVersion}`)).toEqual(['a/x@2']);
  });
});

describe('settling', () => {
  test('a retryable failure goes back to be sent again', () => {
    const outbox = new Outbox();
    outbox.offer(ev('a/x', 1));
    const [event] = outbox.take();
    expect(outbox.settle(event as OutgoingEvent, 'retry')).toBe('requeued');
    expect(outbox.size).toBe(1);
    expect(outbox.inFlight).toBe(0);
    expect(outbox.take()).toEqual([event]);
  });

  test('unless a newer version arrived meanwhile: then only the newer one is sent', () => {
    const outbox = new Outbox();
    outbox.offer(ev('a/x', 1));
    const [event] = outbox.take();
    outbox.offer(ev('a/x', 2));
    expect(outbox.settle(event as OutgoingEvent, 'retry')).toBe('superseded');
    expect(outbox.take().map((e) => e.resourceVersion)).toEqual(['2']);
  });

  test('sent and dropped events are done with', () => {
    const outbox = new Outbox();
    outbox.offer(ev('a/x', 1));
    outbox.offer(ev('a/y', 1));
    const [x, y] = outbox.take();
    expect(outbox.settle(x as OutgoingEvent, 'sent')).toBe('done');
    expect(outbox.settle(y as OutgoingEvent, 'dropped')).toBe('done');
    expect(outbox.idle).toBe(true);
  });

  test('settling an event that is not in flight is a bug, reported loudly', () => {
    const outbox = new Outbox();
    expect(() => outbox.settle(ev('a/x', 1), 'sent')).toThrow(/not in flight/);
  });
});
