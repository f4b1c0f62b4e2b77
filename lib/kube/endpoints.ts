// Where a published Service is reached from outside the cluster: every address × every published port.
import type { TrimmedService } from '../events/contract.ts';

/** spec.externalIPs as written, blanks left out. */
export const externalIPsOf = (svc: TrimmedService): string[] =>
  (svc.spec.externalIPs ?? []).map((ip) => ip.trim()).filter((ip) => ip !== '');

/**
 * Each load balancer ingress by hostname, or by IP when it has no hostname (AWS load balancers have only names).
 * With `trustExternalIPs`, spec.externalIPs win when set (external-dns and consul-k8s prefer them too, where an
 * operator sets them); without, they are not read at all: any tenant who can create a Service can write any
 * address there (CVE-2020-8554), while the ingress is written by the load balancer controller.
 */
export function serviceAddresses(svc: TrimmedService, trustExternalIPs: boolean): string[] {
  const external = trustExternalIPs ? externalIPsOf(svc) : [];
  if (external.length > 0) return external;
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((ingress) => {
    const address = ingress.hostname || ingress.ip;
    return address ? [address] : [];
  });
}

export type PortSelection = { readonly ports: readonly number[] } | { readonly problem: string };

/** Every port, or the one that `wanted` (a port name or number, from the port annotation) names. */
export function selectPorts(svc: TrimmedService, wanted: string | undefined): PortSelection {
  const ports = svc.spec.ports ?? [];
  if (ports.length === 0) return { problem: 'it has no ports' };
  if (wanted === undefined) return { ports: ports.map((p) => p.port) };
  const byNumber = /^\d+$/.test(wanted);
  const match = ports.find((p) => (byNumber ? p.port === Number(wanted) : p.name === wanted));
  if (match) return { ports: [match.port] };
  // Sorted, so that the message (and so the result) does not depend on the order of spec.ports.
  const available = [...ports]
    .sort((a, b) => a.port - b.port)
    .map((p) => (p.name ? `${p.name} (${p.port})` : String(p.port)))
    .join(', ');
  return { problem: `no port is ${byNumber ? 'numbered' : 'named'} "${wanted}"; its ports are ${available}` };
}

export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Sorted the way the registry sorts them (code units), without duplicates, so equal inputs give equal bytes. */
export function endpointsOf(addresses: readonly string[], ports: readonly number[]): string[] {
  const all = addresses.flatMap((address) => ports.map((port) => formatEndpoint(address, port)));
  return [...new Set(all)].sort();
}
