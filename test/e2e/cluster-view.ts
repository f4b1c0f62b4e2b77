// A simulated cluster, what the document must hold for it, and what it does hold of it: how every end-to-end test
// starts and ends.

import { KubeConfig } from '@kubernetes/client-node';
import { mapService, parseMappingConfig } from '../../lib/kube/mapping.ts';
import { trimService } from '../../lib/kube/trim.ts';
import { ApiServerSimulator, generateServices } from '../../lib/local/apiserver/index.ts';
import { type RegistryDocument, type RegistryEntry, readerView } from '../../lib/registry/document.ts';

/** An apiserver simulator serving `services` generated Services (seeded), and a kubeconfig for it. */
export async function simulatedCluster(
  services: number,
  seed: number,
): Promise<{ sim: ApiServerSimulator; kubeConfig: KubeConfig }> {
  const sim = new ApiServerSimulator({ bookmarkIntervalMs: 300, seed });
  for (const s of generateServices(services, { seed })) sim.createService(s);
  await sim.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  return { sim, kubeConfig };
}

export type OwnedView = RegistryEntry & { readonly service: string | undefined };

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The simulator's Services mapped as the Lambdas map them: the entries the cluster should have. */
export function expectedEntries(
  sim: ApiServerSimulator,
  mappingEnv: Record<string, string>,
  cluster: string,
): OwnedView[] {
  const config = parseMappingConfig(mappingEnv);
  return sim
    .listServices()
    .map((s) => mapService(trimService(s), config, cluster))
    .flatMap((r) => (r.kind === 'entry' ? [{ service: r.key, ...r.entry }] : []))
    .sort(byName);
}

/** The entries of `cluster` in a document, as readers see them, with the Service each belongs to. */
export function ownedEntries(document: RegistryDocument, cluster: string): OwnedView[] {
  return document.entries
    .filter((e) => e.owner?.cluster === cluster)
    .map((e) => ({ service: e.owner?.service, ...readerView(e) }))
    .sort(byName);
}
