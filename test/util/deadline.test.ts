// The per-call signal: aborted by its parent or its deadline, and leaving nothing behind once done.
import { describe, expect, test } from 'vitest';
import { callSignal } from '../../lib/util/deadline.ts';

describe('callSignal', () => {
  test('aborts when the parent aborts', () => {
    const parent = new AbortController();
    const call = callSignal(parent.signal, 60_000);
    parent.abort(new Error('stopping'));
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as Error).message).toBe('stopping');
    call.done();
  });

  test('aborts with a TimeoutError after its deadline', async () => {
    const call = callSignal(new AbortController().signal, 20);
    await new Promise((resolve) => call.signal.addEventListener('abort', resolve, { once: true }));
    expect((call.signal.reason as DOMException).name).toBe('TimeoutError');
    call.done();
  });

  test('once done, neither the parent nor the deadline reaches it', async () => {
    const parent = new AbortController();
    const call = callSignal(parent.signal, 20);
    call.done();
    parent.abort();
    await new Promise((r) => setTimeout(r, 40));
    expect(call.signal.aborted).toBe(false);
  });

  test('an already aborted parent gives an aborted signal', () => {
    const parent = new AbortController();
    parent.abort();
    expect(callSignal(parent.signal, 1000).signal.aborted).toBe(true);
  });
});
