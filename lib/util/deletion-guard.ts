// The deletion guard: a change that would remove more than a set share of what a writer owns is held whole, because
// an empty, truncated or misread source looks exactly like "everything was deleted" (a known outage of
// external-dns). The reconcile holds registry entries with it, the mirror holds the Services it keeps.

export interface DeletionGuardInput {
  /** How many owned things the change removes. */
  readonly deletes: number;
  /** How many owned things exist before the change. */
  readonly owned: number;
  /** The largest share (0–1) that may go at once; undefined: no guard. */
  readonly maxShare: number | undefined;
  readonly force?: boolean;
}

/** Share of the owned things that the change deletes (0 when nothing is owned). */
export const deletionShare = (deletes: number, owned: number): number => (owned === 0 ? 0 : deletes / owned);

/** The share deleted when the guard holds the change, undefined when the change may go ahead. */
export function heldDeletionShare(input: DeletionGuardInput): number | undefined {
  if (input.maxShare === undefined || input.force || input.deletes === 0) return undefined;
  const share = deletionShare(input.deletes, input.owned);
  return share > input.maxShare ? share : undefined;
}

/** `refusing to delete 2 of <what> (67%, more than the 50% allowed)` */
export const describeHeldDeletion = (
  deletes: number,
  what: string,
  share: number,
  maxShare: number,
): string =>
  `refusing to delete ${deletes} of ${what} (${Math.round(share * 100)}%, more than the ${Math.round(maxShare * 100)}% allowed)`;
