// The reconcile Lambda's entry: configuration at cold start (a bad setting fails the initialisation with a message
// that names it), one registry and one Kubernetes client per container, and the handler from reconcile-handler.ts.
import { parseReconcileConfig } from '../lib/config/config.ts';
import { fetchZkCredentials } from '../lib/config/credentials.ts';
import { kubeConfigFor, serviceListApiFor } from '../lib/kube/connect.ts';
import { containerRegistry, oncePerContainer } from '../lib/sync/container.ts';
import { eksEventsSink } from '../lib/sync/owner-events.ts';
import { powertools } from './powertools.ts';
import { createReconcileHandler } from './reconcile-handler.ts';

const config = parseReconcileConfig(process.env);

export const handler = createReconcileHandler({
  config,
  registry: containerRegistry(config, () => fetchZkCredentials(config.credentials)),
  api: oncePerContainer(async () => serviceListApiFor(await kubeConfigFor(config.kube))),
  // On EKS, the Events on Services whose outcome changed (SERVICE_EVENTS=false turns them off).
  ...(config.kube.kind === 'eks' && config.serviceEvents.enabled
    ? { events: eksEventsSink(config.kube, `reconcile@${config.clusterId}`, config.serviceEvents) }
    : {}),
  ...powertools(),
});
