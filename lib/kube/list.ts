// A complete list of every Service in the cluster, page by page, as one consistent snapshot: all pages come from the
// resourceVersion of the first. Deletions are computed from this list, so it is all or nothing: any failed page
// fails the whole list, and an expired continue token (410) starts the list again from the first page.

import type { CoreV1Api } from '@kubernetes/client-node';
import { LIST_PAGE_SIZE, LIST_PAGE_TIMEOUT_MS } from '../util/defaults.ts';
import { httpFailure } from '../util/errors.ts';
import { callWithDeadline } from './deadline-call.ts';

/** The one call of CoreV1Api that the list uses; the real client, or anything shaped like it. */
export interface ServiceListApi {
  listServiceForAllNamespaces(param: {
    limit?: number;
    _continue?: string;
  }): Promise<{ metadata?: { _continue?: string; resourceVersion?: string }; items: readonly unknown[] }>;
  /** Reads a namespace, for the cluster's identity (optional: without it the identity is unknown). */
  readNamespace?(param: { name: string }): Promise<{ metadata?: { uid?: string } }>;
}

export interface ServiceList {
  /** The Services as the client returned them (class instances from @kubernetes/client-node); trim them to read. */
  readonly items: readonly unknown[];
  /** The snapshot's resourceVersion: the state of the whole cluster at that revision. */
  readonly resourceVersion: string;
  readonly pages: number;
  /** Times the list started over because its continue token expired. */
  readonly restarts: number;
}

export interface ListOptions {
  /** Services per page (the API's `limit`). */
  readonly pageSize?: number;
  /** Times an expired continue token may restart the list before it gives up. */
  readonly maxRestarts?: number;
  readonly signal?: AbortSignal;
  /** The API server's URL, for messages. */
  readonly server?: string;
}

/**
 * The list call of the real client, with a deadline on every page (the generated methods take no AbortSignal; a
 * middleware sets one on the request), optionally scoped to a namespace or a label selector.
 */
export function serviceListApi(
  core: CoreV1Api,
  options: { pageTimeoutMs?: number; signal?: AbortSignal; namespace?: string; labelSelector?: string } = {},
): ServiceListApi {
  const selector = options.labelSelector ? { labelSelector: options.labelSelector } : {};
  const timeout = options.pageTimeoutMs ?? LIST_PAGE_TIMEOUT_MS;
  return {
    listServiceForAllNamespaces: (param) =>
      callWithDeadline(
        timeout,
        (request) =>
          options.namespace
            ? core.listNamespacedService({ ...param, ...selector, namespace: options.namespace }, request)
            : core.listServiceForAllNamespaces({ ...param, ...selector }, request),
        options.signal,
      ),
    readNamespace: (param) =>
      callWithDeadline(timeout, (request) => core.readNamespace(param, request), options.signal),
  };
}

/** The cluster's identity, or why it cannot be known (no permission to read it, or no such namespace). */
export type ClusterIdentity = { readonly uid: string } | { readonly unknown: string };

const IDENTITY_NAMESPACE = 'kube-system';

/**
 * The identity of the cluster's current incarnation: the kube-system namespace's uid, which a cluster rebuilt under
 * the same name does not share (resourceVersions are ordered only within one). Unknown, and why, when the client may
 * not read that namespace (403) or it does not exist (404): the resourceVersion check alone then tells a rebuilt
 * cluster. Any other failure throws KubeListError, as a failed list page does: a transient error must not pass for a
 * cluster without identity.
 */
export async function readClusterIdentity(
  api: ServiceListApi,
  options: { server?: string } = {},
): Promise<ClusterIdentity> {
  if (!api.readNamespace) return { unknown: 'this client does not read namespaces' };
  let namespace: Awaited<ReturnType<NonNullable<ServiceListApi['readNamespace']>>>;
  try {
    namespace = await api.readNamespace({ name: IDENTITY_NAMESPACE });
  } catch (error) {
    const failure = httpFailure(error);
    if (failure.status === 403 || failure.status === 404) {
      return {
        unknown: `reading namespace ${IDENTITY_NAMESPACE}: HTTP ${failure.status}: ${failure.message}`,
      };
    }
    const how = failure.status === undefined ? '' : `HTTP ${failure.status}: `;
    throw new KubeListError(
      `reading namespace ${IDENTITY_NAMESPACE}${options.server ? ` from ${options.server}` : ''} failed ` +
        `(${how}${failure.message}); nothing was changed`,
      failure.status,
      { cause: error },
    );
  }
  const uid = namespace.metadata?.uid;
  return uid ? { uid } : { unknown: `namespace ${IDENTITY_NAMESPACE} has no uid` };
}

export class KubeListError extends Error {
  override readonly name = 'KubeListError';
  /** The HTTP status the API answered, when it answered. */
  readonly status?: number;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    if (status !== undefined) this.status = status;
  }
}

export async function listAllServices(api: ServiceListApi, options: ListOptions = {}): Promise<ServiceList> {
  const pageSize = options.pageSize ?? LIST_PAGE_SIZE;
  const maxRestarts = options.maxRestarts ?? 3;
  for (let restarts = 0; ; restarts++) {
    const items: unknown[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    let pages = 0;
    let expired = false;
    do {
      options.signal?.throwIfAborted();
      let page: Awaited<ReturnType<ServiceListApi['listServiceForAllNamespaces']>>;
      try {
        page = await api.listServiceForAllNamespaces({
          limit: pageSize,
          ...(token ? { _continue: token } : {}),
        });
      } catch (error) {
        const failure = httpFailure(error);
        if (failure.status === 410 && token !== undefined) {
          expired = true;
          break;
        }
        const how = failure.status === undefined ? '' : `HTTP ${failure.status}: `;
        throw new KubeListError(
          `listing Services${options.server ? ` from ${options.server}` : ''} failed on page ${pages + 1} ` +
            `(${how}${failure.message}); nothing was changed`,
          failure.status,
          { cause: error },
        );
      }
      pages++;
      items.push(...page.items);
      resourceVersion ??= page.metadata?.resourceVersion;
      token = page.metadata?._continue || undefined;
    } while (token !== undefined);
    if (!expired) {
      if (resourceVersion === undefined) {
        throw new KubeListError('the Service list has no resourceVersion; nothing was changed');
      }
      return { items, resourceVersion, pages, restarts };
    }
    if (restarts >= maxRestarts) {
      throw new KubeListError(
        `the Service list expired ${restarts + 1} times before it completed (410 Gone on a continue token); ` +
          'use a larger page size, or retry when the API is less busy; nothing was changed',
        410,
      );
    }
  }
}
