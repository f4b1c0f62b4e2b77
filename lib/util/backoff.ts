// Exponential backoff with jitter. Jitter matters because retries meet: two forwarder replicas meet the same
// apiserver restart and the same EventBridge throttling at the same moment, and two writers that lost a
// compare-and-set race to each other would race again; without jitter they retry in lockstep.
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** First delay (before jitter). */
  readonly initialMs: number;
  /** Ceiling of the delay (before jitter). */
  readonly maxMs: number;
  /** Uniform in [0, 1); injectable so tests can pin it. */
  readonly random?: () => number;
}

/**
 * The delay after `failures` failures in a row (0 for the first retry): between half and all of
 * initial × 2^failures, capped at `maxMs`, so it grows but never collapses to zero the way full jitter can.
 */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(failures, 0), 30));
  const random = options.random ?? Math.random;
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The same curve for a loop that counts its own failures and resets on progress. */
export class Backoff {
  readonly #options: BackoffOptions;
  #failures = 0;

  constructor(options: BackoffOptions) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError(
        `backoff needs 0 < initialMs <= maxMs (got ${options.initialMs}, ${options.maxMs})`,
      );
    }
    this.#options = options;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    return backoffDelay(this.#failures++, this.#options);
  }

  reset(): void {
    this.#failures = 0;
  }

  /** Waits next(); resolves false (early) when `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<boolean> {
    try {
      await sleep(this.next(), undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }
}
