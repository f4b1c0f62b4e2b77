// Errors in words. What is thrown at us comes in many shapes: our own errors, whose message is written for a
// person; an AWS SDK error (its type in `name`, the status in `$metadata`); a Kubernetes client error (the status in
// `code` or `statusCode`, the apiserver's Status object in `body`); a fetch that got no answer at all (the reason in
// `cause`); or something that is not an Error. Every log line and message that quotes a caught error goes through
// these functions, so the same failure reads the same everywhere.

/** The message of an error we made (or of anything thrown with one); otherwise the thrown value as text. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** The HTTP status a failed call was answered with (when it was answered), and the best message there is. */
export function httpFailure(error: unknown): { status?: number; message: string } {
  const e = error as
    | {
        code?: unknown;
        statusCode?: unknown;
        $metadata?: { httpStatusCode?: unknown };
        body?: unknown;
        message?: unknown;
      }
    | null
    | undefined;
  // A number in `code` is also how ZooKeeper errors carry theirs: only 100–599 is an HTTP status.
  const status = [e?.code, e?.statusCode, e?.$metadata?.httpStatusCode].find(
    (s): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 599,
  );
  let body = e?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // Not a Status object: the text itself is the best message there is.
    }
  }
  const statusMessage = (body as { message?: unknown } | null | undefined)?.message;
  // No answer at all (refused, reset, DNS, TLS): fetch says "fetch failed" and the reason is in its cause.
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null | undefined)?.cause;
  const why =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  const message =
    typeof statusMessage === 'string'
      ? statusMessage
      : typeof body === 'string' && body !== ''
        ? body.slice(0, 300)
        : `${typeof e?.message === 'string' ? e.message.split('\n')[0] : String(error)}${why ? `: ${why}` : ''}`;
  return { ...(status !== undefined ? { status } : {}), message };
}

/**
 * One line for a log or a message about a foreign failure: its type when it has a telling one, its HTTP status,
 * and its message, e.g. `ThrottlingException (HTTP 400): Rate exceeded`, `HTTP 410: too old resource version`,
 * `TypeError: fetch failed: ECONNREFUSED`.
 */
export function describeError(error: unknown): string {
  const { status, message } = httpFailure(error);
  const name = (error as { name?: unknown } | null | undefined)?.name;
  const type = typeof name === 'string' && name !== '' && name !== 'Error' ? name : undefined;
  const http = status === undefined ? undefined : `HTTP ${status}`;
  const head = type && http ? `${type} (${http})` : (type ?? http);
  return head ? `${head}: ${message}` : message;
}
