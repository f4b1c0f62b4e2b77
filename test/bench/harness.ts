// The benchmark harness: each suite measures side by side in one run and reports metrics; the runner prints
// one JSON object a line ({"metric", "value", "unit"}) and a summary table at the end.
export interface Metric {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** What the figure means, for the summary table. */
  readonly note?: string;
}

export interface BenchContext {
  /** Smaller workloads, so the whole suite finishes within two minutes on two cores. */
  readonly quick: boolean;
  /** A real ZooKeeper started for the run. */
  readonly zkConnect: string;
}

export interface BenchSuite {
  readonly name: string;
  run(context: BenchContext): Promise<Metric[]>;
}

/** Runs `fn` `times` times and returns each duration in milliseconds. */
export async function timed(times: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await fn(i);
    durations.push(performance.now() - start);
  }
  return durations;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));
