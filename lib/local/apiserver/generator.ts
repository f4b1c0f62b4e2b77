// Realistic Services for demos and benchmarks, and a churn driver that keeps changing them. Everything is
// drawn from a seeded generator, so a seed names one reproducible cluster and one reproducible change sequence.
import { seededRandom } from '../random.ts';
import type { LoadBalancerIngress, Service, ServiceInput } from './services.ts';

export const DEFAULT_NAMESPACES = ['payments', 'search', 'checkout', 'platform', 'data'];
const APPS = [
  'orders',
  'billing',
  'catalog',
  'pricing',
  'users',
  'inventory',
  'ledger',
  'gateway',
  'reports',
  'auth',
];
const ROLES = ['api', 'web', 'grpc', 'worker', 'admin', 'public', 'edge'];
const TEAMS = ['core', 'growth', 'infra', 'risk'];
const PORTS: { name: string; port: number }[] = [
  { name: 'http', port: 80 },
  { name: 'https', port: 443 },
  { name: 'http-alt', port: 8080 },
  { name: 'grpc', port: 9090 },
  { name: 'metrics', port: 9100 },
  { name: 'admin', port: 8443 },
];

class Draw {
  readonly random: () => number;
  constructor(random: () => number) {
    this.random = random;
  }
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  hex(length: number): string {
    return Array.from({ length }, () => this.int(16).toString(16)).join('');
  }
  /** An NLB-style hostname most of the time, otherwise a public IP (or two). */
  ingress(): LoadBalancerIngress[] {
    if (this.random() < 0.75)
      return [{ hostname: `a${this.hex(31)}-${this.hex(16)}.elb.us-east-1.amazonaws.com` }];
    const ip = () => `203.0.${this.int(256)}.${1 + this.int(254)}`;
    return this.random() < 0.2 ? [{ ip: ip() }, { ip: ip() }] : [{ ip: ip() }];
  }
  ports(): { name: string; port: number }[] {
    const count = 1 + this.int(3);
    const chosen = new Set<(typeof PORTS)[number]>();
    while (chosen.size < count) chosen.add(this.pick(PORTS));
    return [...chosen].sort((a, b) => a.port - b.port);
  }
}

type Kind = 'published' | 'pending' | 'internal';

function serviceInput(draw: Draw, kind: Kind, namespace: string, name: string): ServiceInput {
  const labels = { app: name, team: draw.pick(TEAMS), env: draw.random() < 0.8 ? 'prod' : 'staging' };
  if (kind === 'internal') {
    return {
      namespace,
      name,
      type: 'ClusterIP',
      ports: draw.ports(),
      labels,
      ...(draw.random() < 0.25 && { externalIPs: [`198.51.100.${1 + draw.int(254)}`] }),
    };
  }
  return {
    namespace,
    name,
    type: 'LoadBalancer',
    ports: draw.ports(),
    labels,
    annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
    ...(kind === 'published' && { ingress: draw.ingress() }),
  };
}

function uniqueName(
  draw: Draw,
  namespace: string,
  taken: (namespace: string, name: string) => boolean,
): string {
  const base = `${draw.pick(APPS)}-${draw.pick(ROLES)}`;
  let name = base;
  for (let n = 2; taken(namespace, name); n++) name = `${base}-${n}`;
  return name;
}

export interface GenerateOptions {
  seed?: number;
  namespaces?: readonly string[];
}

/**
 * `count` LoadBalancer Services that have an ingress (what a registry would publish), plus one ClusterIP Service
 * per five and one LoadBalancer still waiting for its ingress per ten, spread over a few namespaces.
 */
export function generateServices(count: number, options: GenerateOptions = {}): ServiceInput[] {
  const draw = new Draw(seededRandom(options.seed ?? 1));
  const namespaces = options.namespaces ?? DEFAULT_NAMESPACES;
  const kinds: Kind[] = [
    ...Array<Kind>(count).fill('published'),
    ...Array<Kind>(Math.ceil(count / 5)).fill('internal'),
    ...Array<Kind>(Math.ceil(count / 10)).fill('pending'),
  ];
  const taken = new Set<string>();
  return kinds.map((kind) => {
    const namespace = draw.pick(namespaces);
    const name = uniqueName(draw, namespace, (ns, n) => taken.has(`${ns}/${n}`));
    taken.add(`${namespace}/${name}`);
    return serviceInput(draw, kind, namespace, name);
  });
}

/** What churn needs of a cluster; the simulator has it. */
export interface ChurnTarget {
  listServices(): readonly Service[];
  getService(namespace: string, name: string): Service | undefined;
  createService(input: ServiceInput): unknown;
  updateService(namespace: string, name: string, mutate: (draft: Service) => void): unknown;
  deleteService(namespace: string, name: string): unknown;
}

export interface ChurnOptions {
  changesPerSecond: number;
  /** Stops by itself after this long; without it, churn runs until stop(). */
  durationSeconds?: number;
  seed?: number;
  /**
   * Where the churn creates, changes and deletes Services (default DEFAULT_NAMESPACES). Services elsewhere are
   * someone else's (a person's kubectl, the cloud controller's): the churn never touches them.
   */
  namespaces?: readonly string[];
}

export interface ChurnCounts {
  created: number;
  updated: number;
  deleted: number;
}

/** Changes a churn has made so far: what a test waits on instead of a clock. */
export const changesMade = (churn: { readonly counts: Readonly<ChurnCounts> }): number =>
  churn.counts.created + churn.counts.updated + churn.counts.deleted;

export interface Churn {
  readonly counts: Readonly<ChurnCounts>;
  /** Resolves when the duration is over or stop() is called. */
  readonly done: Promise<ChurnCounts>;
  stop(): Promise<ChurnCounts>;
}

/**
 * Applies random creates (20%), deletes (15%) and updates (65%: ingress, ports, labels, and pending load
 * balancers getting their ingress) at `changesPerSecond`, in its namespaces only. Given the same seed and the same starting Services,
 * the sequence of changes is the same.
 */
export function startChurn(target: ChurnTarget, options: ChurnOptions): Churn {
  if (!(options.changesPerSecond > 0)) throw new Error('churn needs a positive number of changes per second');
  const draw = new Draw(seededRandom(options.seed ?? 1));
  const namespaces = options.namespaces ?? DEFAULT_NAMESPACES;
  const counts: ChurnCounts = { created: 0, updated: 0, deleted: 0 };
  const started = Date.now();
  const endAt = options.durationSeconds === undefined ? Infinity : started + options.durationSeconds * 1000;
  let finish: (counts: ChurnCounts) => void = () => {};
  const done = new Promise<ChurnCounts>((resolve) => {
    finish = resolve;
  });

  const change = () => {
    const services = target.listServices().filter((s) => namespaces.includes(s.metadata.namespace));
    const roll = draw.random();
    if (services.length === 0 || roll < 0.2) {
      const namespace = draw.pick(namespaces);
      const name = uniqueName(draw, namespace, (ns, n) => target.getService(ns, n) !== undefined);
      target.createService(
        serviceInput(draw, draw.random() < 0.8 ? 'published' : 'internal', namespace, name),
      );
      counts.created++;
      return;
    }
    const victim = draw.pick(services);
    const { namespace, name } = victim.metadata;
    if (roll < 0.35) {
      target.deleteService(namespace, name);
      counts.deleted++;
      return;
    }
    target.updateService(namespace, name, mutation(draw, victim, counts.updated));
    counts.updated++;
  };

  // Whole changes are due at a steady rate; a timer that fires late catches up instead of drifting.
  let applied = 0;
  const tick = () => {
    const now = Math.min(Date.now(), endAt);
    const due = Math.floor(((now - started) / 1000) * options.changesPerSecond);
    for (; applied < due; applied++) change();
    if (now >= endAt) stop();
  };
  const timer = setInterval(tick, Math.min(1000, Math.max(10, 1000 / options.changesPerSecond)));
  const stop = async () => {
    clearInterval(timer);
    finish({ ...counts });
    return done;
  };
  return { counts, done, stop };
}

/** An edit that always changes something, chosen to fit the Service. */
function mutation(draw: Draw, service: Service, serial: number): (draft: Service) => void {
  const isLoadBalancer = service.spec.type === 'LoadBalancer';
  const pending = isLoadBalancer && !service.status.loadBalancer.ingress?.length;
  const roll = draw.random();
  if (pending || (isLoadBalancer && roll < 0.35)) {
    const ingress = draw.ingress();
    return (s) => {
      s.status.loadBalancer = { ingress };
    };
  }
  if (roll < 0.6) {
    const ports = draw.ports();
    return (s) => {
      s.spec.ports = ports.map((p, i) => ({
        name: p.name,
        protocol: 'TCP',
        port: p.port,
        targetPort: p.port,
        ...(isLoadBalancer && { nodePort: 30000 + ((serial * 7 + i) % 2768) }),
      }));
      // A draw can repeat the current ports; the label keeps the update a real change.
      s.metadata.labels = { ...s.metadata.labels, revision: String(serial) };
    };
  }
  return (s) => {
    s.metadata.labels = { ...s.metadata.labels, revision: String(serial) };
  };
}
