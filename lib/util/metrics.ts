// A Prometheus registry of its own per process part (two forwarders, or a forwarder and a mirror, in one test
// process must not share counters), exposed as /metrics reads it, and the one way its metrics are declared.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export class PrometheusMetrics {
  readonly registry = new Registry();
  readonly #prefix: string;

  /** `prefix` starts every metric's name; `processMetrics`: Node's own (memory, event loop, …), once per registry. */
  constructor(prefix: string, options: { processMetrics?: boolean } = {}) {
    this.#prefix = prefix;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  protected counter<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
  ): Counter<L> {
    return new Counter({ name: this.#prefix + name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge set by its owner, or, with `read`, read when scraped. */
  protected gauge(name: string, help: string, read?: () => number): Gauge {
    return new Gauge({
      name: this.#prefix + name,
      help,
      registers: [this.registry],
      ...(read && {
        collect(this: Gauge) {
          this.set(read());
        },
      }),
    });
  }
}
