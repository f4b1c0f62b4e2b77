// The reconcile Lambda: on a schedule (and by hand, with {"dryRun": true} or {"force": true}), the complete list of
// Services from the Kubernetes API → the same mapping and compare-and-set write as the sync. A thin adapter:
// configuration comes from the entry (reconcile.ts); lib/reconcile does the work, Powertools logs and counts.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { ReconcileConfig } from '../lib/config/config.ts';
import type { ServiceListApi } from '../lib/kube/list.ts';
import {
  type ReconcileReport,
  type ReconcileResult,
  reconcile,
  reconcileIfDamaged,
} from '../lib/reconcile/reconcile.ts';
import { clusterList, parseReconcileRequest } from '../lib/reconcile/request.ts';
import { type StatusRow, statusRows, withContributors } from '../lib/registry/outcome.ts';
import { describeDamage } from '../lib/registry/ownership.ts';
import type { ServiceEventsSink } from '../lib/sync/owner-events.ts';
import { registryTarget } from '../lib/sync/target.ts';
import type { ZkRegistryStore } from '../lib/zk/registry-store.ts';
import { eventMetrics, logEventErrors, recordCounts } from './powertools.ts';

export interface ReconcileHandlerDeps {
  readonly config: ReconcileConfig;
  readonly registry: () => Promise<ZkRegistryStore>;
  /** The container's Kubernetes API client (made once, reused while warm). */
  readonly api: () => Promise<ServiceListApi>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where Events on the Services whose outcome changed are written (lib/sync/owner-events.ts); none without it. */
  readonly events?: ServiceEventsSink;
}

function report(r: ReconcileReport, metrics: Metrics): void {
  recordCounts(
    metrics,
    {
      ServicesListed: r.listed,
      EntriesCreated: r.created,
      EntriesUpdated: r.updated,
      EntriesDeleted: r.deleted,
      EntriesUnchanged: r.unchanged,
      Conflicts: r.conflicts,
      ServicesSkipped: r.skipped,
      ServicesInvalid: r.invalid,
      ReconcileRefused: r.refused && !r.superseded ? 1 : 0,
      DocumentWrites: r.documentWritten ? 1 : 0,
      CasAttempts: r.casAttempts,
      DamageRepaired: r.repaired,
      HandEditsReverted: r.reverted,
      SyncStateRestarted: r.restarted ? 1 : 0,
      ...eventMetrics(r.events),
    },
    r,
  );
}

function logResult(result: ReconcileResult, logger: Logger): void {
  const r = result.report;
  if (r.refused) (r.superseded ? logger.info : logger.error)('reconcile refused', { refused: r.refused });
  if (r.restarted) logger.warn('the sync state was started afresh', { why: r.restarted });
  for (const d of result.repaired) logger.warn(describeDamage(d, true), { damage: d });
  if (result.invalid.length > 0)
    logger.warn('Services that cannot be mapped', { invalid: result.invalid.slice(0, 20) });
  if (result.plan.conflicts.length > 0)
    logger.warn('name conflicts', { conflicts: result.plan.conflicts.slice(0, 20) });
  logEventErrors(logger, result.eventErrors, r.events);
  logger.info('reconcile', {
    report: r,
    created: result.plan.creates.map((c) => c.entry.name),
    updated: result.plan.updates.map((u) => u.after.name),
    deleted: result.plan.deletes.map((d) => d.entry.name),
  });
}

/**
 * What an invocation answers: the reconcile's report (a dry run's with where each Service stands, the table
 * `kube-zk-sync status` prints), or for a damage check that found nothing, that.
 */
export type ReconcileAnswer =
  | ReconcileReport
  | (ReconcileReport & { readonly services: readonly StatusRow[] })
  | { readonly checked: true; readonly damage: 0 };

export function createReconcileHandler(deps: ReconcileHandlerDeps) {
  const target = registryTarget(deps.config);
  return (
    // A reconcile cut short writes nothing (the list comes first, and no write starts once time is up).
    middy<unknown, ReconcileAnswer>({ timeoutEarlyInMillis: deps.config.timeoutEarlyMs })
      .use(injectLambdaContext(deps.logger))
      .use(logMetrics(deps.metrics, { captureColdStartMetric: true }))
      .handler(async (event, _context, { signal }) => {
        const { check, reason, ...request } = parseReconcileRequest(event);
        if (reason) deps.logger.info('a sync asked for this reconcile', { reason });
        const [registry, api] = await Promise.all([deps.registry(), deps.api()]);
        const input = {
          registry,
          target,
          list: clusterList(api, deps.config.listPageSize, {
            signal,
            ...(deps.config.kube.kind === 'eks' ? { server: deps.config.kube.endpoint } : {}),
          }),
          maxDeleteShare: deps.config.maxDeleteShare,
          ...request,
          signal,
          ...(deps.events ? { events: deps.events } : {}),
        };
        let result: ReconcileResult;
        if (check) {
          const found = await reconcileIfDamaged(input);
          deps.metrics.addMetric('DamageFound', MetricUnit.Count, found.damage.length);
          if (!found.reconciled) return { checked: true, damage: 0 };
          deps.logger.warn('the damage check found damage; reconciled', {
            damage: found.damage.slice(0, 20),
            ...(found.stateProblem ? { stateProblem: found.stateProblem } : {}),
          });
          result = found.reconciled;
        } else result = await reconcile(input);
        report(result.report, deps.metrics);
        logResult(result, deps.logger);
        return request.dryRun
          ? { ...result.report, services: withContributors(statusRows(result.outcomes), result.document) }
          : result.report;
      })
  );
}
