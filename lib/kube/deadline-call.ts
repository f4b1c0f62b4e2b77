// One call of the generated Kubernetes client with a deadline. Its methods take no AbortSignal; a middleware sets
// one on the request, so a stalled apiserver fails the call instead of hanging it.
import { Observable } from '@kubernetes/client-node';
import { callSignal } from '../util/deadline.ts';

/** The request options (the client's `_options`) that abort the request when `signal` aborts. */
const withSignal = (signal: AbortSignal) =>
  ({
    middleware: [
      {
        pre: (context: { setSignal(signal: AbortSignal): void }) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: <T>(response: T) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append' as const,
  }) as never;

const never = new AbortController().signal;

/** Runs `call` with request options that abort it after `ms` or when `parent` aborts. */
export async function callWithDeadline<T>(
  ms: number,
  call: (options: never) => Promise<T>,
  parent: AbortSignal = never,
): Promise<T> {
  const deadline = callSignal(parent, ms);
  try {
    return await call(withSignal(deadline.signal));
  } finally {
    deadline.done();
  }
}
