// A simulated cloud controller for LoadBalancer Services, as the cloud provider's service controller behaves on
// AWS: it puts its cleanup finalizer on the Service at once, gives it an ELB hostname after a delay (a status write,
// so watchers see MODIFIED), takes both away when the type changes, and lets a deleted Service go only after it
// has released the load balancer. Services created in process by the generator are left as they are born.
import { createHash } from 'node:crypto';
import { ApiError } from './errors.ts';
import type { Registry } from './registry.ts';
import { findResource, type ResourceKind } from './resources.ts';
import type { LoadBalancerIngress, Service } from './services.ts';
import type { Change, ObjectStore } from './store.ts';

export const LB_CLEANUP_FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';

export interface CloudControllerOptions {
  /** From a LoadBalancer Service's creation to its address, and from its deletion to its release; 0 = at once. */
  delayMs: number;
  region?: string;
}

const SERVICES = findResource('', 'v1', 'services') as ResourceKind;

/** The hostname AWS would give this Service's load balancer: stable for one Service, different for another. */
export function loadBalancerHostname(service: Service, region: string): string {
  const hash = createHash('sha256').update(service.metadata.uid).digest('hex').slice(0, 16);
  return `${service.metadata.name.slice(0, 32)}-${hash}.elb.${region}.amazonaws.com`;
}

const isManaged = (service: Service): boolean =>
  service.spec.type === 'LoadBalancer' && !service.spec.loadBalancerClass;

export class CloudController {
  readonly delayMs: number;
  readonly region: string;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #unsubscribe?: () => void;
  #registry?: Registry;

  constructor(options: CloudControllerOptions) {
    if (!(options.delayMs >= 0)) throw new Error(`lbDelayMs must be 0 or more, not ${options.delayMs}`);
    this.delayMs = options.delayMs;
    this.region = options.region ?? 'us-east-1';
  }

  /**
   * Runs inside each Service write through the API: the finalizer goes on with the type, and without a delay the
   * address too (born with it, as before the delay existed); a type change away from LoadBalancer drops both.
   */
  readonly admit = (draft: Service, old: Service | undefined): void => {
    if (draft.metadata.deletionTimestamp) return;
    const finalizers = draft.metadata.finalizers ?? [];
    if (isManaged(draft)) {
      if (!finalizers.includes(LB_CLEANUP_FINALIZER))
        draft.metadata.finalizers = [...finalizers, LB_CLEANUP_FINALIZER];
      if (this.delayMs === 0 && !draft.status.loadBalancer.ingress?.length)
        draft.status.loadBalancer = { ingress: this.#ingress(draft) };
    } else if (finalizers.includes(LB_CLEANUP_FINALIZER) || (old && isManaged(old))) {
      draft.metadata.finalizers = finalizers.filter((f) => f !== LB_CLEANUP_FINALIZER);
      draft.status.loadBalancer = {};
    }
  };

  /** Watches the store for Services that need an address or a release; writes go through `registry`. */
  start(store: ObjectStore, registry: Registry): void {
    this.#registry = registry;
    this.#unsubscribe = store.subscribe((change) => this.#observe(change));
  }

  stop(): void {
    this.#unsubscribe?.();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #observe(change: Change): void {
    if (change.storage !== 'services' || change.type === 'DELETED') return;
    const service = change.object as Service;
    if (!service.metadata.finalizers?.includes(LB_CLEANUP_FINALIZER)) return;
    if (service.metadata.deletionTimestamp) this.#later(service, 'release', () => this.#release(service));
    else if (isManaged(service) && !service.status.loadBalancer.ingress?.length)
      this.#later(service, 'provision', () => this.#provision(service));
  }

  /** Writes happen on a timer, never inside a store listener, so every watcher sees changes in order. */
  #later(service: Service, action: string, run: () => void): void {
    const key = `${service.metadata.uid}/${action}`;
    if (this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      try {
        run();
      } catch (error) {
        // The Service changed or went away meanwhile: the next change of it schedules anew.
        if (!(error instanceof ApiError)) throw error;
      }
    }, this.delayMs);
    // A simulator used only in process is not kept alive by its controller.
    timer.unref();
    this.#timers.set(key, timer);
  }

  #current(service: Service): Service | undefined {
    const registry = this.#registry;
    if (!registry) return undefined;
    const { namespace, name } = service.metadata;
    try {
      const current = registry.get(SERVICES, namespace, name) as Service;
      return current.metadata.uid === service.metadata.uid ? current : undefined;
    } catch {
      return undefined;
    }
  }

  #provision(service: Service): void {
    const current = this.#current(service);
    if (!current || current.metadata.deletionTimestamp || !isManaged(current)) return;
    if (current.status.loadBalancer.ingress?.length) return;
    const { namespace, name } = current.metadata;
    this.#registry?.replace(
      SERVICES,
      namespace,
      name,
      { ...current, status: { loadBalancer: { ingress: this.#ingress(current) } } },
      { subresource: 'status' },
    );
  }

  /** Deletes the load balancer: clears the address (status), then removes the finalizer, which lets the Service go. */
  #release(service: Service): void {
    let current = this.#current(service);
    if (!current?.metadata.finalizers?.includes(LB_CLEANUP_FINALIZER)) return;
    const { namespace, name } = current.metadata;
    const registry = this.#registry as Registry;
    if (current.status.loadBalancer.ingress?.length) {
      current = registry.replace(
        SERVICES,
        namespace,
        name,
        { ...current, status: { loadBalancer: {} } },
        {
          subresource: 'status',
        },
      ).object as Service;
    }
    const finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== LB_CLEANUP_FINALIZER);
    registry.replace(SERVICES, namespace, name, {
      ...current,
      metadata: { ...current.metadata, finalizers },
    });
  }

  #ingress(service: Service): LoadBalancerIngress[] {
    return [{ hostname: loadBalancerHostname(service, this.region) }];
  }
}
