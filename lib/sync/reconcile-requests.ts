// How a sync asks for a reconcile: an event on the cluster's bus, which a rule of serverless.yml routes to the
// reconcile Lambda (and `kube-zk-sync dev`'s local EventBridge, reading the same rule, to its local reconcile). The
// EventBridge client is loaded on the first request: a sync that finds no damage never pays for it.
import type { EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import { RECONCILE_REQUEST_DETAIL_TYPE, RECONCILE_REQUEST_SOURCE } from '../events/contract.ts';
import type { ReconcileRequester } from './batch.ts';

export function eventBridgeReconcileRequester(options: {
  readonly eventBusName: string;
  readonly cluster: string;
  readonly client?: EventBridgeClientConfig;
}): ReconcileRequester {
  let client: Promise<{ send: (reason: string) => Promise<void> }> | undefined;
  const connect = async () => {
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const eventBridge = new EventBridgeClient({ maxAttempts: 3, ...options.client });
    return {
      send: async (reason: string) => {
        const answer = await eventBridge.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: options.eventBusName,
                Source: RECONCILE_REQUEST_SOURCE,
                DetailType: RECONCILE_REQUEST_DETAIL_TYPE,
                Detail: JSON.stringify({ cluster: options.cluster, reason }),
              },
            ],
          }),
        );
        const failed = answer.Entries?.[0];
        if (answer.FailedEntryCount || failed?.ErrorCode) {
          throw new Error(
            `EventBridge refused the reconcile request: ${failed?.ErrorCode} ${failed?.ErrorMessage}`,
          );
        }
      },
    };
  };
  return async (reason) => {
    client ??= connect();
    client.catch(() => {
      client = undefined;
    });
    await (await client).send(reason);
  };
}
