// What a reconcile is asked to do: the schedule sends `{}`, a person `{"dryRun": true}` or `{"force": true}`. A
// misspelt option is refused rather than ignored: `{"dryrun": true}` must not turn into a real write.
import { RECONCILE_REQUEST_DETAIL_TYPE, RECONCILE_REQUEST_SOURCE } from '../events/contract.ts';
import { listAllServices, readClusterIdentity, type ServiceListApi } from '../kube/list.ts';
import type { CompleteList } from './reconcile.ts';

export interface ReconcileRequest {
  readonly dryRun: boolean;
  readonly force: boolean;
  /** Start the sync state afresh from the complete list (a corrupt or suspect state). */
  readonly resetState: boolean;
  /** Only when the document shows damage to the cluster's entries, or its sync state cannot be used. */
  readonly check: boolean;
  /** Why a sync asked for this reconcile (it found damage it could not repair), for the log. */
  readonly reason?: string;
}

export class ReconcileRequestError extends Error {
  override readonly name = 'ReconcileRequestError';
}

const OPTIONS = ['dryRun', 'force', 'resetState', 'check'] as const;
const ORDINARY: ReconcileRequest = { dryRun: false, force: false, resetState: false, check: false };

export function parseReconcileRequest(event: unknown): ReconcileRequest {
  if (event === undefined || event === null) return ORDINARY;
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new ReconcileRequestError(
      'the reconcile takes a JSON object: {}, {"dryRun": true}, {"force": true}, {"resetState": true} or {"check": true}',
    );
  }
  const input = event as Record<string, unknown>;
  // A schedule without an input delivers the whole scheduled event: an ordinary reconcile.
  if (input.source === 'aws.events' || input['detail-type'] === 'Scheduled Event') return ORDINARY;
  // A sync's request, routed by the rule: an ordinary reconcile, with the sync's reason for the log.
  if (input.source === RECONCILE_REQUEST_SOURCE && input['detail-type'] === RECONCILE_REQUEST_DETAIL_TYPE) {
    const why = (input.detail as { reason?: unknown } | null)?.reason;
    return { ...ORDINARY, reason: typeof why === 'string' ? why : 'asked for by a sync' };
  }
  const { reason, ...options } = input;
  if (reason !== undefined && typeof reason !== 'string') {
    throw new ReconcileRequestError(`"reason" must be a string, not ${JSON.stringify(reason)}`);
  }
  const unknown = Object.keys(options).filter((k) => !(OPTIONS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ReconcileRequestError(
      `unknown reconcile option "${unknown[0]}"; use {"dryRun": true}, {"force": true}, {"resetState": true} and/or {"check": true}`,
    );
  }
  for (const option of OPTIONS) {
    if (input[option] !== undefined && typeof input[option] !== 'boolean') {
      throw new ReconcileRequestError(
        `"${option}" must be true or false, not ${JSON.stringify(input[option])}`,
      );
    }
  }
  return {
    dryRun: input.dryRun === true,
    force: input.force === true,
    resetState: input.resetState === true,
    check: input.check === true,
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}

/** The complete list of the cluster behind `api`, page by page, and its identity; `server` names it in errors. */
export const clusterList =
  (
    api: ServiceListApi,
    pageSize: number,
    options: { signal?: AbortSignal; server?: string } = {},
  ): (() => Promise<CompleteList>) =>
  async () => {
    const list = await listAllServices(api, { pageSize, ...options });
    // Read after the list, so that a cluster that cannot be reached fails on the list, with its message.
    const identity = await readClusterIdentity(api, options.server ? { server: options.server } : {});
    return { ...list, ...('uid' in identity ? { identity: identity.uid } : {}) };
  };
