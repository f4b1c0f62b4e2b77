// Telling the owners of Services where they stand, after a step: the step's Events (lib/registry/outcome.ts) written
// onto their Services (lib/kube/service-events.ts). The sync and the reconcile call it after their compare-and-set,
// with what is left of their time; it never throws, so it can never fail, delay past its deadline or retry a
// registry write.
import type { ServiceEventsSettings } from '../config/config.ts';
import type { EksConnection } from '../kube/eks-token.ts';
// Types only: the writer is loaded with the first Event (see tellOwners), not at a Lambda's cold start.
import type { KubeHttp, ServiceEventsReport } from '../kube/service-events.ts';
import type { OutcomeEvent } from '../registry/outcome.ts';
import { messageOf } from '../util/errors.ts';
import { oncePerContainer } from './container.ts';

/** Where and how a workload writes its Events. */
export interface ServiceEventsSink {
  readonly http: () => Promise<KubeHttp>;
  /** reportingInstance: which workload of which cluster, e.g. `sync@prod-eu`. */
  readonly instance: string;
  readonly settings: ServiceEventsSettings;
}

/** What a report counts of the Events (their errors go to the log). */
export type EventCounts = Omit<ServiceEventsReport, 'errors'>;

export const countsOf = ({ errors: _errors, ...counts }: ServiceEventsReport): EventCounts => counts;

export const NO_EVENTS: ServiceEventsReport = { created: 0, series: 0, failed: 0, unwritten: 0, errors: [] };

/**
 * Writes the step's Events within the sink's deadline (and the caller's signal); never throws. The writer module is
 * imported here, so a sync that has nothing to tell never parses it.
 */
export async function tellOwners(
  events: readonly OutcomeEvent[],
  uidOf: (service: string) => string | undefined,
  sink: ServiceEventsSink | undefined,
  signal?: AbortSignal,
): Promise<ServiceEventsReport> {
  if (!sink?.settings.enabled || events.length === 0) return NO_EVENTS;
  let writer: typeof import('../kube/service-events.ts');
  try {
    writer = await import('../kube/service-events.ts');
  } catch (error) {
    return { ...NO_EVENTS, unwritten: events.length, errors: [messageOf(error)] };
  }
  return writer.writeServiceEvents(events, {
    http: sink.http,
    uidOf,
    instance: sink.instance,
    limit: sink.settings.maxPerBatch,
    timeoutMs: sink.settings.timeoutMs,
    ...(signal ? { signal } : {}),
  });
}

/**
 * The sink of a Lambda on EKS: the token signer and the AWS credential chain are loaded at the first Event, not at
 * cold start, so a sync that has nothing to tell pays nothing for them.
 */
export function eksEventsSink(
  eks: EksConnection,
  instance: string,
  settings: ServiceEventsSettings,
): ServiceEventsSink {
  return {
    instance,
    settings,
    http: oncePerContainer(async () => {
      const [{ eksKubeConnection }, { defaultProvider }, { kubeHttp }] = await Promise.all([
        import('../kube/eks-token.ts'),
        import('@aws-sdk/credential-provider-node'),
        import('../kube/service-events.ts'),
      ]);
      return kubeHttp(eksKubeConnection(eks, defaultProvider()));
    }),
  };
}
