// A Prometheus registry of its own per process part (two forwarders, or a forwarder and a mirror, in one test
// process must not share counters), exposed as /metrics reads it.
import { collectDefaultMetrics, Registry } from 'prom-client';

export class PrometheusMetrics {
  readonly registry = new Registry();

  /** `processMetrics`: Node's own (memory, event loop, …), once per process registry. */
  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
