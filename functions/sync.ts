// The sync Lambda's entry: configuration at cold start (a bad setting fails the initialisation with a message that
// names it), one registry per container, and the handler from sync-handler.ts.
import { parseRegistryConfig } from '../lib/config/config.ts';
import { fetchZkCredentials } from '../lib/config/credentials.ts';
import { containerRegistry } from '../lib/sync/container.ts';
import { eksEventsSink } from '../lib/sync/owner-events.ts';
import { eventBridgeReconcileRequester } from '../lib/sync/reconcile-requests.ts';
import { powertools } from './powertools.ts';
import { createSyncHandler } from './sync-handler.ts';

const config = parseRegistryConfig(process.env);

export const handler = createSyncHandler({
  config,
  registry: containerRegistry(config, () => fetchZkCredentials(config.credentials)),
  ...(config.eventBusName
    ? {
        requestReconcile: eventBridgeReconcileRequester({
          eventBusName: config.eventBusName,
          cluster: config.clusterId,
        }),
      }
    : {}),
  // On EKS, the Events on Services whose outcome changed (SERVICE_EVENTS=false turns them off).
  ...(config.eks && config.serviceEvents.enabled
    ? { events: eksEventsSink(config.eks, `sync@${config.clusterId}`, config.serviceEvents) }
    : {}),
  ...powertools(),
});
