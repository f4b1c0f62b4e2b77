// Kubernetes Events on Services (events.k8s.io/v1): where a Service's owner, who works with kubectl, learns why it
// is or is not in the registry. Best effort by construction: it runs after the registry write, within a deadline of
// its own, never throws, and stops at the first sign that the API is failing; what it could not write is counted.
//
// No @kubernetes/client-node here: the sync Lambda writes Events too, and that client would double its bundle and
// cold start. Node's own http(s) client, the Events API's two verbs (create, merge-patch) and a deadline on each are
// all it takes.
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { OutcomeEvent } from '../registry/outcome.ts';
import { callSignal } from '../util/deadline.ts';
import { describeError } from '../util/errors.ts';

/** events.k8s.io/v1 `reportingController`: who writes these Events, for `--field-selector reportingComponent=`. */
export const REPORTING_CONTROLLER = 'kube-zk-sync.io/sync';
/** The label every object kube-zk-sync writes into Kubernetes carries. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-zk-sync' } as const;

/** What the writer needs of the Kubernetes API: one request, answered with its status and body. */
export interface KubeHttp {
  request(
    method: 'POST' | 'PATCH',
    path: string,
    options: { body?: unknown; contentType?: string; signal: AbortSignal },
  ): Promise<{ status: number; body: string }>;
}

/** How to reach the API server: its URL, and the TLS material and headers of each request (a token may renew). */
export interface KubeConnection {
  readonly server: string;
  readonly prepare: () => Promise<Pick<RequestOptions, 'headers'> & TlsOptions>;
}

interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer | Array<string | Buffer>;
  key?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
}

/** Node's http(s) client on a KubeConnection. */
export function kubeHttp(connection: KubeConnection): KubeHttp {
  const base = new URL(connection.server);
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  return {
    async request(method, path, { body, contentType, signal }) {
      // Signing a token may wait on the credentials: that too ends at the deadline.
      const prepared = await untilAborted(connection.prepare(), signal);
      const text = body === undefined ? undefined : JSON.stringify(body);
      const url = new URL(path, base);
      return await new Promise((resolve, reject) => {
        const req = send(
          url,
          {
            ...prepared,
            method,
            signal,
            headers: {
              ...prepared.headers,
              accept: 'application/json',
              ...(text !== undefined
                ? {
                    'content-type': contentType ?? 'application/json',
                    'content-length': Buffer.byteLength(text),
                  }
                : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(text);
      });
    },
  };
}

/** `promise`, or its rejection with the signal's reason once `signal` aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The Service an Event is about. */
export interface Regarding {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** events.k8s.io MicroTime: microseconds, which JavaScript's ISO string lacks. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * The Event's name: the Service's and the series key, so that the same problem of the same Service, written by the
 * sync or the reconcile, is one object whose series counts up. At most 253 characters (a Service name has ≤63).
 */
export const eventName = (service: string, seriesKey: string): string => `${service}.${seriesKey}`;

/** The events.k8s.io/v1 object for one OutcomeEvent. `instance` names the writer (≤128 characters). */
export function eventObject(spec: OutcomeEvent, regarding: Regarding, instance: string, now: number) {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {
      name: eventName(regarding.name, spec.seriesKey),
      namespace: regarding.namespace,
      labels: { ...MANAGED_BY },
    },
    eventTime: microTime(now),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: instance.slice(0, 128),
    action: spec.action,
    reason: spec.reason,
    type: spec.type,
    note: spec.note,
    regarding: {
      apiVersion: 'v1',
      kind: 'Service',
      namespace: regarding.namespace,
      name: regarding.name,
      ...(regarding.uid ? { uid: regarding.uid } : {}),
    },
  };
}

export interface ServiceEventsReport {
  /** New Events created. */
  readonly created: number;
  /** Events of a problem seen before whose series counted up. */
  readonly series: number;
  readonly failed: number;
  /** Not attempted: over the bound per batch, out of time, or after the API kept failing. */
  readonly unwritten: number;
  /** The first failures, for the log. */
  readonly errors: readonly string[];
}

export interface WriteServiceEventsInput {
  /** The API, or how to make it (a failure to make it is one more failure to count, never an exception). */
  readonly http: KubeHttp | (() => Promise<KubeHttp>);
  /** The Service's uid, when it is known: `kubectl describe` matches Events on it. */
  readonly uidOf: (service: string) => string | undefined;
  /** Who writes (reportingInstance), e.g. `sync@prod-eu`. */
  readonly instance: string;
  /** The most Events written per call; the rest are counted as unwritten. */
  readonly limit: number;
  /** No request starts after this long, and none lasts past it. */
  readonly timeoutMs: number;
  /** Each request's own deadline. */
  readonly requestTimeoutMs?: number;
  /** Aborted when the invocation runs out of time. */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

/** Failures in a row after which the API is taken for down: the rest waits for the next transition. */
const FAILURES_IN_A_ROW = 2;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_ERRORS = 5;

const eventsPath = (namespace: string, name?: string) =>
  `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events${name ? `/${encodeURIComponent(name)}` : ''}`;

class EventCallError extends Error {
  override readonly name = 'EventCallError';
}

const failure = (what: string, res: { status: number; body: string }) => {
  let message = res.body.slice(0, 200);
  try {
    message = (JSON.parse(res.body) as { message?: string }).message ?? message;
  } catch {
    // Not a Status object: its text is the best there is.
  }
  return new EventCallError(`${what}: HTTP ${res.status}: ${message}`);
};

/**
 * Writes the Events: each is created, or, when an Event of the same name exists (the same problem again), its
 * series counts up with a merge patch. Never throws.
 */
export async function writeServiceEvents(
  events: readonly OutcomeEvent[],
  input: WriteServiceEventsInput,
): Promise<ServiceEventsReport> {
  const now = input.now ?? Date.now;
  const overall = callSignal(input.signal ?? new AbortController().signal, input.timeoutMs);
  let created = 0;
  let series = 0;
  let failed = 0;
  let inARow = 0;
  const errors: string[] = [];
  const attempted = events.slice(0, Math.max(0, input.limit));
  let done = 0;
  try {
    let http: KubeHttp;
    try {
      http = typeof input.http === 'function' ? await input.http() : input.http;
    } catch (error) {
      return { created, series, failed, unwritten: events.length, errors: [describeError(error)] };
    }
    for (const spec of attempted) {
      if (overall.signal.aborted || inARow >= FAILURES_IN_A_ROW) break;
      done++;
      const slash = spec.service.indexOf('/');
      const regarding = {
        namespace: spec.service.slice(0, slash),
        name: spec.service.slice(slash + 1),
        ...(input.uidOf(spec.service) ? { uid: input.uidOf(spec.service) } : {}),
      };
      const call: Call = (method, path, body, contentType) => {
        const one = callSignal(overall.signal, input.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
        return http
          .request(method, path, {
            ...(body !== undefined ? { body } : {}),
            ...(contentType ? { contentType } : {}),
            signal: one.signal,
          })
          .finally(() => one.done());
      };
      try {
        const object = eventObject(spec, regarding, input.instance, now());
        const createdRes = await call('POST', eventsPath(regarding.namespace), object);
        if (createdRes.status === 201 || createdRes.status === 200) created++;
        else if (createdRes.status === 409) {
          await countUp(call, regarding.namespace, object.metadata.name, now());
          series++;
        } else throw failure(`creating Event ${regarding.namespace}/${object.metadata.name}`, createdRes);
        inARow = 0;
      } catch (error) {
        failed++;
        inARow++;
        if (errors.length < MAX_ERRORS)
          errors.push(`${spec.service} ${spec.reason}: ${describeError(error)}`);
      }
    }
  } finally {
    overall.done();
  }
  return { created, series, failed, unwritten: events.length - done, errors };
}

type Call = (
  method: 'POST' | 'PATCH',
  path: string,
  body?: unknown,
  contentType?: string,
) => Promise<{ status: number; body: string }>;

/**
 * The same problem again: the existing Event's series counts up, with a merge patch guarded by its resourceVersion.
 * The Event is read with a patch that changes nothing (its answer is the object), so that the writer needs `create`
 * and `patch` on events and nothing else, as the issue of least privilege asks.
 */
async function countUp(call: Call, namespace: string, name: string, now: number): Promise<void> {
  const path = eventsPath(namespace, name);
  const read = await call('PATCH', path, { metadata: { labels: MANAGED_BY } }, MERGE_PATCH);
  if (read.status !== 200) throw failure(`reading Event ${namespace}/${name}`, read);
  const existing = JSON.parse(read.body) as {
    metadata?: { resourceVersion?: string };
    series?: { count?: number };
  };
  const patch = {
    metadata: { resourceVersion: existing.metadata?.resourceVersion },
    // The first occurrence has no series: the second makes it 2, as client-go's recorder counts.
    series: { count: (existing.series?.count ?? 1) + 1, lastObservedTime: microTime(now) },
  };
  const patched = await call('PATCH', path, patch, MERGE_PATCH);
  if (patched.status !== 200) throw failure(`counting up Event ${namespace}/${name}`, patched);
}

const MERGE_PATCH = 'application/merge-patch+json';
