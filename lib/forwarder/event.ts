// Turns what the watch saw into the event the contract promises and the PutEvents entry that carries it. The detail
// goes through the same schema the sync Lambda reads with, so the forwarder can never send what the consumer would
// refuse. Pure.
import {
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  EVENT_VERSION,
  parseServiceEventDetail,
  type ServiceEventDetail,
  type ServiceKey,
  serviceKey,
} from '../events/contract.ts';
import { trimService } from '../kube/trim.ts';
import type { OutgoingEvent } from './outbox.ts';

/** The bytes EventBridge counts for a Time field that is set. */
const TIME_BYTES = 14;

/**
 * What the watch loop reports: a Service as observed, or the fact that a key is gone; with the identity of the
 * cluster incarnation it was seen in, when the forwarder may read it (its resourceVersion is ordered only there).
 */
export type ServiceChange = (
  | { readonly kind: 'observed'; readonly reason: 'watch' | 'list'; readonly object: unknown }
  | { readonly kind: 'deleted'; readonly key: ServiceKey; readonly resourceVersion: string }
) & { readonly clusterUid?: string };

export interface ServiceEvent extends OutgoingEvent {
  readonly reason: ServiceEventDetail['reason'];
  /** The detail as JSON, serialized once: it is both what is sent and what `size` measures. */
  readonly detail: string;
  readonly observedAt: Date;
}

/**
 * The event for a change. Throws InvalidServiceObjectError when the object is not a usable Service, and
 * InvalidEventError when the detail breaks the contract (for instance, over the size limit).
 */
export function eventFor(cluster: string, change: ServiceChange, observedAt: Date): ServiceEvent {
  let fields: Pick<ServiceEventDetail, 'key' | 'resourceVersion' | 'reason' | 'service'>;
  if (change.kind === 'observed') {
    const service = trimService(change.object);
    const { namespace, name, resourceVersion } = service.metadata;
    fields = { key: serviceKey(namespace, name), resourceVersion, reason: change.reason, service };
  } else {
    fields = { key: change.key, resourceVersion: change.resourceVersion, reason: 'deleted', service: null };
  }
  const detail = parseServiceEventDetail({
    v: EVENT_VERSION,
    cluster,
    ...(change.clusterUid ? { clusterUid: change.clusterUid } : {}),
    observedAt: observedAt.toISOString(),
    ...fields,
  });
  const json = JSON.stringify(detail);
  return {
    key: detail.key,
    resourceVersion: detail.resourceVersion,
    reason: detail.reason,
    detail: json,
    observedAt,
    size:
      TIME_BYTES +
      Buffer.byteLength(EVENT_SOURCE) +
      Buffer.byteLength(EVENT_DETAIL_TYPE) +
      Buffer.byteLength(json),
  };
}

/** The PutEvents entry for an event; its size is exactly `event.size` as EventBridge counts it. */
export function putEventsEntry(event: ServiceEvent, eventBusName: string) {
  return {
    Source: EVENT_SOURCE,
    DetailType: EVENT_DETAIL_TYPE,
    Detail: event.detail,
    EventBusName: eventBusName,
    Time: event.observedAt,
  };
}
