// A cluster's history for property tests: operations played on an apiserver simulator's store, with the changes it
// commits (real resourceVersions, real shapes) and what a complete list would have returned after each one.
import fc from 'fast-check';
import { ApiServerSimulator, type Service } from '../../lib/local/apiserver/index.ts';

export interface Op {
  readonly name: string;
  readonly kind: 'upsert' | 'delete';
  readonly ip: number;
  readonly port: number;
  readonly ingress: boolean;
}

/** One change the cluster committed, as the forwarder reports it. */
export interface Change {
  readonly service: Service;
  readonly deleted: boolean;
}

/** What a reconcile could have listed: the whole cluster at one resourceVersion. */
export interface Snapshot {
  readonly items: readonly Service[];
  readonly resourceVersion: string;
}

export interface History {
  readonly changes: readonly Change[];
  readonly snapshots: readonly Snapshot[];
  readonly final: readonly Service[];
  /** Every version of every Service: key → resourceVersion → the Service then. */
  readonly versions: ReadonlyMap<string, ReadonlyMap<string, Service>>;
}

/** Plays the operations on a simulator store: the changes it commits, and a snapshot after each one. */
export function play(ops: readonly Op[], namespace: string, annotations?: Record<string, string>): History {
  const sim = new ApiServerSimulator();
  const changes: Change[] = [];
  const snapshots: Snapshot[] = [{ items: [], resourceVersion: sim.resourceVersion }];
  for (const op of ops) {
    const exists = sim.getService(namespace, op.name);
    let change: Change | undefined;
    if (op.kind === 'delete') {
      if (exists) change = { service: sim.deleteService(namespace, op.name), deleted: true };
    } else if (exists) {
      const service = sim.updateService(namespace, op.name, (draft) => {
        draft.spec.ports = [
          { name: 'p', protocol: 'TCP', port: op.port, targetPort: op.port, nodePort: 30080 },
        ];
        draft.status.loadBalancer = op.ingress ? { ingress: [{ ip: `198.51.100.${op.ip}` }] } : {};
      });
      // An update that changes nothing commits nothing, as in Kubernetes: no event.
      if (service !== exists) change = { service, deleted: false };
    } else {
      const service = sim.createService({
        namespace: namespace,
        name: op.name,
        type: 'LoadBalancer',
        ...(annotations ? { annotations } : {}),
        ports: [{ name: 'p', port: op.port }],
        ...(op.ingress ? { ingress: [{ ip: `198.51.100.${op.ip}` }] } : {}),
      });
      change = { service, deleted: false };
    }
    if (change) {
      changes.push(change);
      snapshots.push({ items: sim.listServices(), resourceVersion: sim.resourceVersion });
    }
  }
  const versions = new Map<string, Map<string, Service>>();
  for (const { service, deleted } of changes) {
    if (deleted) continue;
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    versions.set(key, (versions.get(key) ?? new Map()).set(service.metadata.resourceVersion, service));
  }
  return { changes, snapshots, final: sim.listServices(), versions };
}

/** What the queue makes of a history's events: copies of each (at-least-once), an order, and batch sizes. */
export interface Delivery {
  readonly copies: readonly number[];
  readonly order: readonly number[];
  readonly batchSizes: readonly number[];
}

/** Every event delivered at least once, some two or three times, in any order, in batches of up to `maxBatch`. */
export const deliveryArb = (events: number, maxBatch: number, maxSizes: number): fc.Arbitrary<Delivery> =>
  fc.record({
    copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: events, maxLength: events }),
    // Any order: a sort key per delivery.
    order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
      minLength: 3 * events,
      maxLength: 3 * events,
    }),
    batchSizes: fc.array(fc.integer({ min: 1, max: maxBatch }), { minLength: 1, maxLength: maxSizes }),
  });

/** The batches the sync receives: the changes copied, reordered and cut as `delivery` says. */
export function deliveredBatches(changes: readonly Change[], delivery: Delivery): Change[][] {
  const deliveries = changes
    .flatMap((change, i) => Array.from({ length: delivery.copies[i] ?? 1 }, () => change))
    .map((change, i) => ({ change, at: delivery.order[i] ?? 0 }))
    .sort((a, b) => a.at - b.at)
    .map(({ change }) => change);
  const batches: Change[][] = [];
  for (let i = 0, b = 0; i < deliveries.length; b++) {
    const size = delivery.batchSizes[b % delivery.batchSizes.length] as number;
    batches.push(deliveries.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** An operation on one of `names`: created or updated (an address among `addresses`, a port, or no address yet), or deleted. */
export const opArb = (names: readonly string[], addresses: number): fc.Arbitrary<Op> =>
  fc.record({
    name: fc.constantFrom(...names),
    kind: fc.constantFrom<Op['kind']>('upsert', 'upsert', 'delete'),
    ip: fc.integer({ min: 1, max: addresses }),
    port: fc.constantFrom(80, 443),
    ingress: fc.boolean(),
  });
