// The mirror's calls to the Kubernetes API, through @kubernetes/client-node: complete lists of the namespace's
// Services and EndpointSlices, server-side apply with the mirror's own field manager (force: a controller owns what
// it applies), and deletes with a precondition on the uid that was listed, so an object someone re-created under the
// same name meanwhile is never deleted. Every call has a deadline.
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { callWithDeadline } from '../kube/deadline-call.ts';
import { LIST_PAGE_SIZE } from '../util/defaults.ts';
import { httpFailure } from '../util/errors.ts';
import type { DesiredService, DesiredSlice } from './desired.ts';
import type { MirrorKind, ObservedNamespace, ObservedObject } from './plan.ts';

/** The field manager of every apply: `kubectl get … --show-managed-fields` names the mirror with it. */
export const FIELD_MANAGER = 'kube-zk-sync-mirror';

export interface MirrorKubeApi {
  /** Every Service and EndpointSlice of the namespace; throws unless both lists are complete. */
  list(): Promise<ObservedNamespace>;
  /** Returns the object as the API now has it. */
  apply(object: DesiredService | DesiredSlice): Promise<ObservedObject>;
  /** Deletes the object if it still has `uid`; false when it was already gone or is another object now. */
  delete(target: { kind: MirrorKind; name: string; uid: string }): Promise<boolean>;
}

interface Listed {
  metadata?: { name?: string; uid?: string; labels?: Record<string, string> };
}
type Page = { metadata?: { _continue?: string }; items: readonly Listed[] };

async function allPages(fetch: (cont: string | undefined) => Promise<Page>): Promise<Listed[]> {
  const items: Listed[] = [];
  let cont: string | undefined;
  do {
    const page = await fetch(cont);
    items.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return items;
}

const observed = (kind: MirrorKind, item: Listed): ObservedObject => ({
  kind,
  name: item.metadata?.name ?? '',
  uid: item.metadata?.uid ?? '',
  labels: item.metadata?.labels ?? {},
  body: item,
});

/** JSON as the API wrote it (client-node hands back class instances with Dates). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export function mirrorKubeApi(kc: KubeConfig, namespace: string, timeoutMs: number): MirrorKubeApi {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const page = (cont: string | undefined) => ({
    namespace,
    limit: LIST_PAGE_SIZE,
    ...(cont ? { _continue: cont } : {}),
  });
  const apply = (request: never) =>
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply, request as never) as never;
  return {
    async list() {
      const [services, slices] = await Promise.all([
        allPages((cont) => callWithDeadline(timeoutMs, (o) => core.listNamespacedService(page(cont), o))),
        allPages((cont) =>
          callWithDeadline(timeoutMs, (o) => discovery.listNamespacedEndpointSlice(page(cont), o)),
        ),
      ]);
      return {
        services: services.map((s) => observed('Service', plain(s))),
        slices: slices.map((s) => observed('EndpointSlice', plain(s))),
      };
    },
    async apply(object) {
      const param = {
        name: object.metadata.name,
        namespace,
        body: object,
        fieldManager: FIELD_MANAGER,
        force: true,
      };
      const written = await callWithDeadline<Listed>(timeoutMs, (o) =>
        object.kind === 'Service'
          ? core.patchNamespacedService(param, apply(o))
          : discovery.patchNamespacedEndpointSlice(param, apply(o)),
      );
      return observed(object.kind, plain(written));
    },
    async delete(target) {
      const param = { name: target.name, namespace, body: { preconditions: { uid: target.uid } } };
      try {
        await callWithDeadline<unknown>(timeoutMs, (o) =>
          target.kind === 'Service'
            ? core.deleteNamespacedService(param, o)
            : discovery.deleteNamespacedEndpointSlice(param, o),
        );
        return true;
      } catch (error) {
        const status = httpFailure(error).status;
        // 404: already gone. 409: the uid precondition failed, the name is another object's now.
        if (status === 404 || status === 409) return false;
        throw error;
      }
    },
  };
}
