// The logger and metrics every handler uses: JSON logs and CloudWatch embedded metrics on stdout, so a function in
// a VPC needs no endpoint for either.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type Env, Settings } from '../lib/util/settings.ts';

export function powertools(env: Env = process.env): {
  logger: Logger;
  metrics: Metrics;
} {
  const settings = new Settings(env);
  const serviceName = settings.text('POWERTOOLS_SERVICE_NAME') ?? 'kube-zk-sync';
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({
      namespace: settings.text('POWERTOOLS_METRICS_NAMESPACE') ?? 'KubeZkSync',
      serviceName,
    }),
  };
}

/**
 * One invocation's counts, and the sizes of the document and the sync state when they are known (the size alarm
 * reads the document's; the state's share of the request shows whether it ever crowds the document out).
 */
export function recordCounts(
  metrics: Metrics,
  counts: Readonly<Record<string, number>>,
  sizes: { readonly documentBytes: number; readonly stateBytes: number },
): void {
  for (const [name, value] of Object.entries(counts)) metrics.addMetric(name, MetricUnit.Count, value);
  if (sizes.documentBytes > 0) metrics.addMetric('DocumentBytes', MetricUnit.Bytes, sizes.documentBytes);
  if (sizes.stateBytes > 0) metrics.addMetric('SyncStateBytes', MetricUnit.Bytes, sizes.stateBytes);
}

/** The counts of Events written on Services (lib/kube/service-events.ts), under the names the alarms read. */
export const eventMetrics = (events: {
  readonly created: number;
  readonly series: number;
  readonly failed: number;
  readonly unwritten: number;
}): Record<string, number> => ({
  EventsCreated: events.created,
  EventsSeries: events.series,
  EventsFailed: events.failed,
  EventsUnwritten: events.unwritten,
});

/** The sync's and the reconcile's one warning when Events could not be written (EventsFailedAlarm's runbook names it). */
export function logEventErrors(logger: Logger, errors: readonly unknown[], events: object): void {
  if (errors.length > 0)
    logger.warn('Events on Services could not be written; the registry write stands', { errors, events });
}
