// Exponential backoff with jitter, reset on progress. Jitter matters here because two forwarder replicas meet the
// same apiserver restart and the same EventBridge throttling at the same moment; without it they retry in lockstep.
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** First delay (before jitter). */
  readonly initialMs: number;
  /** Ceiling of the delay (before jitter). */
  readonly maxMs: number;
  /** Uniform in [0, 1); injectable so tests can pin it. */
  readonly random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: BackoffOptions) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError(
        `backoff needs 0 < initialMs <= maxMs (got ${options.initialMs}, ${options.maxMs})`,
      );
    }
    this.#initialMs = options.initialMs;
    this.#maxMs = options.maxMs;
    this.#random = options.random ?? Math.random;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * The delay before the next attempt: between half and all of initial × 2^failures (capped), so it grows but never
   * collapses to zero the way full jitter can.
   */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return Math.round(ceiling / 2 + this.#random() * (ceiling / 2));
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
