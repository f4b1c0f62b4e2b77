import { describe, expect, test } from 'vitest';
import {
  decideElection,
  LeaderElector,
  type LeaseApi,
  LeaseConflictError,
  type LeaseRead,
  type LeaseRecord,
  releasedRecord,
  timingsProblem,
} from '../../lib/kube/leader-election.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const held = (holder: string, at: number, transitions = 3, duration = 15): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: duration,
  acquireTime: iso(at - 60_000),
  renewTime: iso(at),
  leaseTransitions: transitions,
});
const found = (record: LeaseRecord, rv = '7'): LeaseRead => ({ found: true, record, resourceVersion: rv });

describe('decideElection (client-go semantics)', () => {
  test('no Lease: create it, holding it, transitions 0, acquire = renew = now', () => {
    const { action } = decideElection({ found: false }, undefined, 'a', 15_000, T0);
    expect(action).toEqual({
      kind: 'create',
      record: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: iso(T0),
        renewTime: iso(T0),
        leaseTransitions: 0,
      },
    });
  });

  test("another's Lease, first seen: wait a whole duration from now, whatever its renewTime says", () => {
    // The renewTime is an hour old (the other node's clock is behind): still not expired for us.
    const { action, observed } = decideElection(found(held('b', T0 - 3_600_000)), undefined, 'a', 15_000, T0);
    expect(action).toEqual({ kind: 'wait', holder: 'b', expiresAt: T0 + 15_000 });
    expect(observed?.observedAt).toBe(T0);
  });

  test.each([
    ['unchanged record, before the duration passed', 14_999, false, 'wait'],
    ['unchanged record, duration passed', 15_000, false, 'update'],
    ['record changed meanwhile (the holder renewed): the wait starts again', 20_000, true, 'wait'],
  ])('%s', (_, elapsed, renewed, kind) => {
    const first = decideElection(found(held('b', T0)), undefined, 'a', 15_000, T0).observed;
    const record = renewed ? held('b', T0 + 19_000) : held('b', T0);
    const { action } = decideElection(found(record), first, 'a', 15_000, T0 + elapsed);
    expect(action.kind).toBe(kind);
  });

  test('taking over an expired Lease: transitions + 1, acquire = renew = now, written with the read resourceVersion', () => {
    const first = decideElection(found(held('b', T0)), undefined, 'a', 15_000, T0).observed;
    const { action } = decideElection(found(held('b', T0), '42'), first, 'a', 15_000, T0 + 16_000);
    expect(action).toEqual({
      kind: 'update',
      resourceVersion: '42',
      record: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: iso(T0 + 16_000),
        renewTime: iso(T0 + 16_000),
        leaseTransitions: 4,
      },
    });
  });

  test('renewing its own Lease keeps acquireTime and transitions', () => {
    const mine = held('a', T0);
    const { action } = decideElection(found(mine), undefined, 'a', 15_000, T0 + 2_000);
    expect(action).toMatchObject({
      kind: 'update',
      record: { acquireTime: mine.acquireTime, renewTime: iso(T0 + 2_000), leaseTransitions: 3 },
    });
  });

  test('a released Lease (holder "") is taken at once', () => {
    const { action } = decideElection(found(releasedRecord(held('b', T0), T0)), undefined, 'a', 15_000, T0);
    expect(action).toMatchObject({ kind: 'update', record: { holderIdentity: 'a', leaseTransitions: 4 } });
  });

  test('release writes holder "" and duration 1, keeping the transitions', () => {
    expect(releasedRecord(held('a', T0), T0 + 5)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: iso(T0 + 5),
      renewTime: iso(T0 + 5),
      leaseTransitions: 3,
    });
  });

  test.each([
    [
      { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      /longer than the renew deadline/,
    ],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }, /1\.2 × the retry period/],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, undefined],
  ])('timings %j', (timings, problem) => {
    const found = timingsProblem(timings);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});

/** A Lease with optimistic concurrency, in memory: the decision's caller is under test here, not the API. */
function memoryLease(): LeaseApi & { record?: LeaseRecord; rv: number; failing: boolean } {
  const lease = {
    record: undefined as LeaseRecord | undefined,
    rv: 0,
    failing: false,
    async read(): Promise<LeaseRead> {
      if (lease.failing) throw new Error('apiserver unreachable');
      return lease.record
        ? { found: true, record: lease.record, resourceVersion: String(lease.rv) }
        : { found: false };
    },
    async create(record: LeaseRecord) {
      if (lease.failing) throw new Error('apiserver unreachable');
      if (lease.record) throw new LeaseConflictError('exists');
      lease.record = record;
      return String(++lease.rv);
    },
    async replace(record: LeaseRecord, rv: string) {
      if (lease.failing) throw new Error('apiserver unreachable');
      if (rv !== String(lease.rv)) throw new LeaseConflictError('modified');
      lease.record = record;
      return String(++lease.rv);
    },
  };
  return lease;
}

describe('LeaderElector', () => {
  const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

  test('two candidates: one leads; the other takes over only a whole duration after the last renewal', async () => {
    const lease = memoryLease();
    let now = T0;
    const clock = () => now;
    const a = new LeaderElector({ api: lease, identity: 'a', clock, ...timings });
    const b = new LeaderElector({ api: lease, identity: 'b', clock, ...timings });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    now += 2_000;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false); // b sees a changed record: its wait starts again
    // a dies. b takes over 15 s after it saw the last change, not earlier.
    now += 14_999;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(a.isLeader).toBe(false); // a's own deadline (10 s) passed long before
    now += 1;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  test('a racing writer loses with the 409 and does not lead', async () => {
    const lease = memoryLease();
    const a = new LeaderElector({ api: lease, identity: 'a', clock: () => T0, ...timings });
    const b = new LeaderElector({ api: lease, identity: 'b', clock: () => T0, ...timings });
    const [ra, rb] = await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    expect(a.isLeader && b.isLeader).toBe(false);
  });

  test('a leader that cannot renew within the deadline stops leading; stop() releases the Lease', async () => {
    const lease = memoryLease();
    let now = T0;
    const events: string[] = [];
    const a = new LeaderElector({
      api: lease,
      identity: 'a',
      clock: () => now,
      observer: {
        startedLeading: () => events.push('started'),
        stoppedLeading: (r) => events.push(`stopped: ${r}`),
      },
      ...timings,
    });
    await a.tryAcquireOrRenew();
    lease.failing = true;
    now += 9_999;
    expect(a.isLeader).toBe(true);
    now += 1;
    expect(a.isLeader).toBe(false);
    expect(events).toEqual([
      'started',
      expect.stringMatching(/^stopped: could not renew the lease within 10000 ms/),
    ]);
    lease.failing = false;
    await a.tryAcquireOrRenew();
    await a.stop();
    expect(lease.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    const b = new LeaderElector({ api: lease, identity: 'b', clock: () => now, ...timings });
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });
});
