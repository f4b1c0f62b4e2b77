// What becomes of each event of a PutEvents call, decided from EventBridge's answer (README, "The forwarder"):
// - accepted: done;
// - failed with a retryable code (ThrottlingException, InternalFailure), or left without a result: resend;
// - failed with any other code: drop, since resending would fail the same way (the scheduled reconcile repairs what
//   is lost).
// A call that fails as a whole is resent whole when it was throttled, met a server error, timed out, never got an
// answer or was cut short by a shutdown, and dropped whole otherwise. Whether a resent event goes back in line or
// gives way to a newer version of its Service is the outbox's to say. Pure.

/** PutEvents entry error codes worth a resend. */
export const RETRYABLE_PUT_EVENTS_ERROR_CODES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'InternalFailure',
]);

/** One element of PutEvents' answer, in the order of the request's PutEvents entries. */
export interface PutEventsResultEntry {
  readonly ErrorCode?: string | undefined;
  readonly ErrorMessage?: string | undefined;
}

export interface PutEventsOutcome<E> {
  /** Accepted: done with. */
  readonly sent: readonly E[];
  /** To be sent again. */
  readonly resend: readonly E[];
  /** Refused for good, with EventBridge's code and message. */
  readonly dropped: ReadonlyArray<{ readonly event: E; readonly code: string; readonly message?: string }>;
  /** What the failure counter counts: events dropped, by error code. */
  readonly failures: ReadonlyMap<string, number>;
  /** What the calls counter counts: ok when every event was accepted, error when the call failed as a whole. */
  readonly call: 'ok' | 'partial' | 'error';
}

const countByCode = (dropped: ReadonlyArray<{ readonly code: string }>) => {
  const failures = new Map<string, number>();
  for (const { code } of dropped) failures.set(code, (failures.get(code) ?? 0) + 1);
  return failures;
};

/** The fate of each event of `batch` from the answer to the call that carried it. */
export function afterPutEvents<E>(
  batch: readonly E[],
  results: readonly PutEventsResultEntry[],
): PutEventsOutcome<E> {
  const sent: E[] = [];
  const resend: E[] = [];
  const dropped: Array<{ event: E; code: string; message?: string }> = [];
  for (const [i, event] of batch.entries()) {
    const result = results[i];
    // A missing result says nothing about the event; resending is the safe reading.
    if (!result || (result.ErrorCode && RETRYABLE_PUT_EVENTS_ERROR_CODES.has(result.ErrorCode)))
      resend.push(event);
    else if (!result.ErrorCode) sent.push(event);
    else
      dropped.push({
        event,
        code: result.ErrorCode,
        ...(result.ErrorMessage !== undefined ? { message: result.ErrorMessage } : {}),
      });
  }
  const call = sent.length === batch.length ? 'ok' : 'partial';
  return { sent, resend, dropped, failures: countByCode(dropped), call };
}

/** Whole-call errors worth retrying: throttling, server errors, and calls that never got an answer. */
export function isRetryableCallError(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.$retryable) return true;
  if (
    typeof e?.name === 'string' &&
    /Throttl|LimitExceeded|TooManyRequests|Timeout|Credentials/i.test(e.name)
  )
    return true;
  // No HTTP status: refused connection, reset, DNS, a timeout of ours. Nothing was decided, so try again.
  if (status === undefined) return true;
  return status >= 500 || status === 429;
}

/**
 * The fate of every event of `batch` when the call failed as a whole with `error`. A call abandoned because the
 * forwarder is stopping decided nothing either: its events stay to be sent.
 */
export function afterPutEventsError<E>(
  batch: readonly E[],
  error: unknown,
  stopping: boolean,
): PutEventsOutcome<E> {
  if (stopping || isRetryableCallError(error))
    return { sent: [], resend: batch, dropped: [], failures: new Map(), call: 'error' };
  const code = (error as { name?: string } | null)?.name ?? 'Error';
  const dropped = batch.map((event) => ({ event, code }));
  return { sent: [], resend: [], dropped, failures: countByCode(dropped), call: 'error' };
}
