// The reconcile Lambda: on a schedule (and by hand, with {"dryRun": true} or {"force": true}), the complete list of
// Services from the Kubernetes API → the same mapping and compare-and-set write as the sync. A thin adapter:
// configuration comes from the entry (reconcile.ts); lib/reconcile does the work, Powertools logs and counts.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { ReconcileConfig } from '../lib/config/config.ts';
import type { ServiceListApi } from '../lib/kube/list.ts';
import { type ReconcileReport, reconcile } from '../lib/reconcile/reconcile.ts';
import { clusterList, parseReconcileRequest } from '../lib/reconcile/request.ts';
import { registryTarget } from '../lib/sync/target.ts';
import type { ZkRegistryStore } from '../lib/zk/registry-store.ts';
import { recordCounts } from './powertools.ts';

export interface ReconcileHandlerDeps {
  readonly config: ReconcileConfig;
  readonly registry: () => Promise<ZkRegistryStore>;
  /** The container's Kubernetes API client (made once, reused while warm). */
  readonly api: () => Promise<ServiceListApi>;
  readonly logger: Logger;
  readonly metrics: Metrics;
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
      ReconcileRefused: r.refused ? 1 : 0,
      DocumentWrites: r.documentWritten ? 1 : 0,
      CasAttempts: r.casAttempts,
    },
    r.documentBytes,
  );
}

export function createReconcileHandler(deps: ReconcileHandlerDeps) {
  const target = registryTarget(deps.config);
  return (
    // A reconcile cut short writes nothing (the list comes first, and no write starts once time is up).
    middy<unknown, ReconcileReport>({ timeoutEarlyInMillis: deps.config.timeoutEarlyMs })
      .use(injectLambdaContext(deps.logger))
      .use(logMetrics(deps.metrics, { captureColdStartMetric: true }))
      .handler(async (event, _context, { signal }) => {
        const request = parseReconcileRequest(event);
        const [registry, api] = await Promise.all([deps.registry(), deps.api()]);
        const result = await reconcile({
          registry,
          target,
          list: clusterList(api, deps.config.listPageSize, {
            signal,
            ...(deps.config.kube.kind === 'eks' ? { server: deps.config.kube.endpoint } : {}),
          }),
          maxDeleteShare: deps.config.maxDeleteShare,
          ...request,
          signal,
        });
        report(result.report, deps.metrics);
        if (result.report.refused) deps.logger.error('reconcile refused', { refused: result.report.refused });
        if (result.invalid.length > 0)
          deps.logger.warn('Services that cannot be mapped', { invalid: result.invalid.slice(0, 20) });
        if (result.plan.conflicts.length > 0)
          deps.logger.warn('name conflicts', { conflicts: result.plan.conflicts.slice(0, 20) });
        deps.logger.info('reconcile', {
          report: result.report,
          created: result.plan.creates.map((c) => c.entry.name),
          updated: result.plan.updates.map((u) => u.after.name),
          deleted: result.plan.deletes.map((d) => d.entry.name),
        });
        return result.report;
      })
  );
}
