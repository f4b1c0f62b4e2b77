// What a reconcile is asked to do: the schedule sends `{}`, a person `{"dryRun": true}` or `{"force": true}`. A
// misspelt option is refused rather than ignored: `{"dryrun": true}` must not turn into a real write.
import { listAllServices, type ServiceListApi } from '../kube/list.ts';
import type { CompleteList } from './reconcile.ts';

export interface ReconcileRequest {
  readonly dryRun: boolean;
  readonly force: boolean;
}

export class ReconcileRequestError extends Error {
  override readonly name = 'ReconcileRequestError';
}

const OPTIONS = ['dryRun', 'force'] as const;

export function parseReconcileRequest(event: unknown): ReconcileRequest {
  if (event === undefined || event === null) return { dryRun: false, force: false };
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new ReconcileRequestError(
      'the reconcile takes a JSON object: {}, {"dryRun": true} or {"force": true}',
    );
  }
  const input = event as Record<string, unknown>;
  // A schedule without an input delivers the whole scheduled event: an ordinary reconcile.
  if (input.source === 'aws.events' || input['detail-type'] === 'Scheduled Event')
    return { dryRun: false, force: false };
  const unknown = Object.keys(input).filter((k) => !(OPTIONS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ReconcileRequestError(
      `unknown reconcile option "${unknown[0]}"; use {"dryRun": true} and/or {"force": true}`,
    );
  }
  for (const option of OPTIONS) {
    if (input[option] !== undefined && typeof input[option] !== 'boolean') {
      throw new ReconcileRequestError(
        `"${option}" must be true or false, not ${JSON.stringify(input[option])}`,
      );
    }
  }
  return { dryRun: input.dryRun === true, force: input.force === true };
}

/** The complete list of the cluster behind `api`, page by page; `server` names it in errors. */
export const clusterList =
  (
    api: ServiceListApi,
    pageSize: number,
    options: { signal?: AbortSignal; server?: string } = {},
  ): (() => Promise<CompleteList>) =>
  () =>
    listAllServices(api, { pageSize, ...options });
