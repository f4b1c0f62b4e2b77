// Deadlines. A signal for one call: aborted when `parent` aborts or after `ms`, and released when the call is done.
// Made by hand because AbortSignal.any() with a long-lived parent and AbortSignal.timeout() per call keeps every
// call's signals and timers alive until they expire (measured: ~2 KB a call), which a forwarder making thousands of
// calls a minute under throttling cannot afford.
export interface CallSignal {
  readonly signal: AbortSignal;
  /** Clears the timer and the parent listener; call it when the call settles. */
  done(): void;
}

export function callSignal(parent: AbortSignal, ms: number): CallSignal {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, done() {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits for `promise`, at most `ms`; the timer does not outlive the wait. */
export async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
