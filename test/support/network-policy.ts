// Whether a Kubernetes NetworkPolicy lets a connection through, as the API documents it, for the policy's own pods:
// with the direction in policyTypes, a connection passes only if a rule of that direction matches both its peer and
// its port (a rule without peers matches every peer, one without ports every port). A peer is matched by ipBlock
// (in cidr, not in except) or, for a pod, by namespaceSelector and podSelector: together both must match; a
// podSelector alone means the policy's namespace. The apiserver sets every namespace's
// `kubernetes.io/metadata.name` label to its name, so that label is the namespace's name here too. Named ports and
// endPort are not supported: they throw.
import { BlockList, isIPv6 } from 'node:net';

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: ReadonlyArray<{
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }>;
}

interface PolicyPeer {
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
  readonly namespaceSelector?: LabelSelector;
  readonly podSelector?: LabelSelector;
}

interface PolicyPort {
  readonly port?: number | string;
  readonly protocol?: string;
  readonly endPort?: number;
}

interface Rule {
  readonly from?: readonly PolicyPeer[];
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

export interface NetworkPolicy {
  readonly metadata: { readonly namespace?: string };
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: readonly Rule[];
    readonly egress?: readonly Rule[];
  };
}

/** The other end of a connection: a pod (its namespace, labels and address) or an address outside the cluster. */
export type Peer =
  | {
      readonly namespace: string;
      readonly namespaceLabels?: Readonly<Record<string, string>>;
      readonly podLabels?: Readonly<Record<string, string>>;
      readonly ip?: string;
    }
  | { readonly ip: string };

export interface Connection {
  readonly peer: Peer;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

export function selects(policy: NetworkPolicy, podLabels: Readonly<Record<string, string>>): boolean {
  return labelsMatch(policy.spec.podSelector, podLabels);
}

export function admitsIngress(policy: NetworkPolicy, connection: Connection): boolean {
  return admits(policy, 'Ingress', policy.spec.ingress, 'from', connection);
}

export function admitsEgress(policy: NetworkPolicy, connection: Connection): boolean {
  return admits(policy, 'Egress', policy.spec.egress, 'to', connection);
}

function admits(
  policy: NetworkPolicy,
  direction: 'Ingress' | 'Egress',
  rules: readonly Rule[] | undefined,
  peers: 'from' | 'to',
  connection: Connection,
): boolean {
  const types = policy.spec.policyTypes ?? (direction === 'Ingress' || policy.spec.egress ? [direction] : []);
  if (!types.includes(direction)) return true;
  return (rules ?? []).some(
    (rule) =>
      (rule[peers] === undefined || rule[peers].some((p) => peerMatches(policy, p, connection.peer))) &&
      (rule.ports === undefined || rule.ports.some((p) => portMatches(p, connection))),
  );
}

function peerMatches(policy: NetworkPolicy, selector: PolicyPeer, peer: Peer): boolean {
  if (selector.ipBlock) {
    if (peer.ip === undefined) return false;
    return (
      inCidr(peer.ip, selector.ipBlock.cidr) &&
      !(selector.ipBlock.except ?? []).some((c) => inCidr(peer.ip as string, c))
    );
  }
  if (!('namespace' in peer)) return false;
  const namespaceLabels = { ...peer.namespaceLabels, 'kubernetes.io/metadata.name': peer.namespace };
  const namespaceOk = selector.namespaceSelector
    ? labelsMatch(selector.namespaceSelector, namespaceLabels)
    : peer.namespace === policy.metadata.namespace;
  return namespaceOk && (!selector.podSelector || labelsMatch(selector.podSelector, peer.podLabels ?? {}));
}

function portMatches(port: PolicyPort, connection: Connection): boolean {
  if (typeof port.port === 'string' || port.endPort !== undefined) {
    throw new Error(`unsupported port ${JSON.stringify(port)}`);
  }
  return (
    (port.protocol ?? 'TCP') === connection.protocol &&
    (port.port === undefined || port.port === connection.port)
  );
}

function labelsMatch(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (selector.matchExpressions ?? []).every((e) => {
      const value = labels[e.key];
      switch (e.operator) {
        case 'In':
          return value !== undefined && (e.values ?? []).includes(value);
        case 'NotIn':
          return value === undefined || !(e.values ?? []).includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          throw new Error(`unsupported label selector operator ${e.operator as string}`);
      }
    })
  );
}

function inCidr(ip: string, cidr: string): boolean {
  const [network, prefix] = cidr.split('/');
  const family = isIPv6(network as string) ? 'ipv6' : 'ipv4';
  if ((family === 'ipv6') !== isIPv6(ip)) return false;
  const list = new BlockList();
  list.addSubnet(network as string, Number(prefix), family);
  return list.check(ip, family);
}
