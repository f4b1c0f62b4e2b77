// The sync Lambda: a batch of queued EventBridge events → one compare-and-set write of the registry document.
// A thin middy adapter with no side effects at import (the entry, sync.ts, reads the configuration): lib/sync for
// the work, Powertools for the log and the metrics. `kube-zk-sync dev` runs this same handler locally.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { RegistryConfig } from '../lib/config/config.ts';
import { type ReconcileRequester, type SyncBatchResult, syncBatch } from '../lib/sync/batch.ts';
import type { ServiceEventsSink } from '../lib/sync/owner-events.ts';
import { registryTarget } from '../lib/sync/target.ts';
import type { ZkRegistryStore } from '../lib/zk/registry-store.ts';
import { eventMetrics, logEventErrors, recordCounts } from './powertools.ts';

export interface SyncHandlerDeps {
  readonly config: RegistryConfig;
  /** The container's registry (made once, reused while warm). */
  readonly registry: () => Promise<ZkRegistryStore>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Each batch's result, after it is logged and counted: how `kube-zk-sync dev` shows what the handler did. */
  readonly onReport?: (result: SyncBatchResult) => void;
  /** How the sync asks for a reconcile when it finds damage it cannot repair (see lib/sync/reconcile-requests.ts). */
  readonly requestReconcile?: ReconcileRequester;
  /** Where Events on the Services whose outcome changed are written (lib/sync/owner-events.ts); none without it. */
  readonly events?: ServiceEventsSink;
}

/** How many problems a batch logs in full; the counts carry the rest. */
const LOGGED_PROBLEMS = 20;

function report(result: SyncBatchResult, logger: Logger, metrics: Metrics): void {
  const r = result.report;
  recordCounts(
    metrics,
    {
      RecordsReceived: r.received,
      RecordsApplied: r.applied,
      RecordsCoalesced: r.coalesced,
      RecordsStale: r.stale,
      RecordsInvalid: r.invalid,
      RecordsIgnored: r.ignored,
      RecordsFailed: r.failed,
      ServicesSkipped: r.skipped,
      ServicesInvalid: r.invalidServices,
      Conflicts: r.conflicts,
      DocumentWrites: r.documentWritten ? 1 : 0,
      NoOpBatches: r.documentWritten || r.error ? 0 : 1,
      CasAttempts: r.casAttempts,
      CasRetries: Math.max(0, r.casAttempts - 1),
      WriteFailures: r.error ? 1 : 0,
      WritesRefused: r.refused ? 1 : 0,
      DamageRepaired: r.repaired,
      HandEditsReverted: r.reverted,
      DamageUnrepaired: r.unrepaired,
      IdentityMismatch: r.identityMismatch,
      ReconcileRequests: r.reconcileRequested ? 1 : 0,
      SyncStateUnusable: r.refused === 'SyncStateError' ? 1 : 0,
      ...eventMetrics(r.events),
    },
    r,
  );
  logEventErrors(logger, result.eventErrors, r.events);

  const { problems, ignoredReasons } = result;
  if (r.error)
    logger.error('the registry write failed; every valid record goes back to the queue', { error: r.error });
  if (problems.length > 0) {
    logger.warn('records or Services with problems', {
      problems: problems.slice(0, LOGGED_PROBLEMS),
      more: Math.max(0, problems.length - LOGGED_PROBLEMS),
    });
  }
  if (ignoredReasons.length > 0)
    logger.info('records for someone else', { sample: ignoredReasons.slice(0, 5) });
  logger.info('sync batch', { report: r });
}

export function createSyncHandler(deps: SyncHandlerDeps) {
  const target = registryTarget(deps.config);
  return (
    // Stops this long before the Lambda timeout: no write starts after that, and the invocation fails, so the
    // whole batch comes back to the queue rather than ending half done.
    middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: deps.config.timeoutEarlyMs })
      .use(injectLambdaContext(deps.logger))
      .use(logMetrics(deps.metrics, { captureColdStartMetric: true }))
      .handler(async (event, _context, { signal }) => {
        const registry = await deps.registry();
        // An invocation by hand without Records is an empty batch, not a crash.
        const result = await syncBatch(event.Records ?? [], {
          registry,
          target,
          signal,
          repairIntervalMs: deps.config.repairIntervalMs,
          ...(deps.requestReconcile ? { requestReconcile: deps.requestReconcile } : {}),
          ...(deps.events ? { events: deps.events } : {}),
        });
        report(result, deps.logger, deps.metrics);
        deps.onReport?.(result);
        return { batchItemFailures: [...result.batchItemFailures] };
      })
  );
}
