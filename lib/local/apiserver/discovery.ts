// Discovery documents (plain JSON, which every kubectl accepts), built from the resource catalog.
import { apiVersionOf, RESOURCES, type ResourceKind } from './resources.ts';

export const SIMULATED_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-kube-zk-sync-simulator' };

const SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

function groups(): Map<string, string[]> {
  const byGroup = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (r.group === '') continue;
    const versions = byGroup.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    byGroup.set(r.group, versions);
  }
  return byGroup;
}

function apiGroup(name: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

function resourceList(groupVersion: string, resources: readonly ResourceKind[]) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs,
        ...(r.shortNames.length > 0 && { shortNames: r.shortNames }),
        ...(r.categories && { categories: r.categories }),
      },
      ...(r.subresources ?? []).map((sub) => ({
        name: `${r.plural}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: SUBRESOURCE_VERBS,
      })),
    ]),
  };
}

/** The discovery document at `path` (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>[/<version>]`), if any. */
export function discoveryDocument(path: string, host: string): unknown {
  if (path === '/version')
    return { ...SIMULATED_VERSION, platform: 'linux/amd64', goVersion: 'go1.23.0', compiler: 'gc' };
  if (path === '/api')
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }],
    };
  if (path === '/apis')
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups()].map(([name, versions]) => apiGroup(name, versions)),
    };
  const groupVersion =
    path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : '';
  const served = RESOURCES.filter((r) => apiVersionOf(r) === groupVersion);
  if (served.length > 0) return resourceList(groupVersion, served);
  const versions = groups().get(groupVersion);
  if (versions) return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(groupVersion, versions) };
  return undefined;
}

/** Whether `path` is a discovery path (answered by discoveryDocument, or 404 when it names nothing). */
export function isDiscoveryPath(path: string): boolean {
  return (
    path === '/version' ||
    path === '/api' ||
    path === '/apis' ||
    path === '/api/v1' ||
    /^\/apis\/[^/]+(\/[^/]+)?$/.test(path)
  );
}
