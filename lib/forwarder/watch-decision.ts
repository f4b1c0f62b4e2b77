// What the watch loop does once a watch has ended, decided from how it ended. Every way leads back to a watch or a
// relist (README, "The forwarder"):
// - a clean end (timeoutSeconds, an apiserver restart) or client-node's TimeoutError (30 s without a byte, which a
//   quiet cluster meets all the time since bookmarks come about once a minute): resume from the last version seen;
// - a network error, a 5xx, a stall the loop detected: the same, after a backoff;
// - 410 Gone, in the stream or as the HTTP status: list again.
// A watch that made progress carries on at once; one that failed, or ended having delivered nothing, waits first,
// so a server that refuses every watch (even answering 410 to a fresh list's version) is not hammered with watches
// or full lists. Pure.

/** How a watch ended: cleanly, by client-node's inactivity timeout, by our stall watchdog, on an error, or 410. */
export type WatchEndReason = 'end' | 'timeout' | 'stall' | 'error' | 'gone';

export interface WatchEnd {
  readonly reason: WatchEndReason;
  /** Whether the watch delivered anything (an event or a bookmark). */
  readonly progress: boolean;
  /** How long the watch lasted. */
  readonly lastedMs: number;
}

export interface WatchDecision {
  /** Watch again from the last version seen, or list everything first. */
  readonly next: 'resume' | 'relist';
  /** Wait a backoff before that. */
  readonly backOff: boolean;
  /** Start the backoff over: the watch made progress, so the server is fine. */
  readonly resetBackoff: boolean;
  /** Why, for the log, and how loud: a quiet end is routine, a failure is worth a warning. */
  readonly why: string;
  readonly level: 'debug' | 'info' | 'warn';
}

/** `minWatchMs`: a watch that ends sooner than this without delivering anything counts as a failure. */
export function afterWatchEnd(end: WatchEnd, minWatchMs: number): WatchDecision {
  const resetBackoff = end.progress;
  if (end.reason === 'gone') {
    return {
      next: 'relist',
      backOff: !end.progress,
      resetBackoff,
      why: 'the watch resourceVersion is too old (410 Gone); listing again',
      level: 'info',
    };
  }
  if (end.reason === 'end' || end.reason === 'timeout') {
    const healthy = end.progress || end.lastedMs >= minWatchMs;
    return { next: 'resume', backOff: !healthy, resetBackoff, why: 'watch ended; resuming', level: 'debug' };
  }
  return {
    next: 'resume',
    backOff: true,
    resetBackoff,
    why: 'watch failed; resuming after a backoff',
    level: 'warn',
  };
}
