// Events as the forwarder sends them and as the SQS trigger hands them to the sync Lambda, built from Services as the
// apiserver simulator makes them (real resourceVersions, real shapes), through the event contract and trimService.
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  EVENT_VERSION,
  parseServiceEventDetail,
  type ServiceEventDetail,
  serviceKey,
} from '../../lib/events/contract.ts';
import { trimService } from '../../lib/kube/trim.ts';
import type { Service } from '../../lib/local/apiserver/index.ts';

/** The detail the forwarder sends for a Service it saw (or saw deleted), validated by the contract. */
export function forwarderDetail(
  cluster: string,
  service: Service,
  reason: ServiceEventDetail['reason'] = 'watch',
): ServiceEventDetail {
  return parseServiceEventDetail({
    v: EVENT_VERSION,
    cluster,
    key: serviceKey(service.metadata.namespace, service.metadata.name),
    resourceVersion: service.metadata.resourceVersion,
    observedAt: new Date().toISOString(),
    reason,
    service: reason === 'deleted' ? null : trimService(service),
  });
}

/** The event as EventBridge delivers it to a rule target. */
export function eventBridgeEvent(
  detail: unknown,
  overrides: { source?: string; detailType?: string } = {},
): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': overrides.detailType ?? EVENT_DETAIL_TYPE,
    source: overrides.source ?? EVENT_SOURCE,
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'eu-west-1',
    resources: [],
    detail,
  };
}

/** An SQS record whose body is `body` (an event, or raw text for a malformed one). */
export function sqsRecord(body: unknown, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEVENTBRIDGE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:kube-zk-sync-events',
    awsRegion: 'eu-west-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

/** The record of a forwarder event, from a Service. */
export const serviceRecord = (cluster: string, service: Service, reason?: ServiceEventDetail['reason']) =>
  sqsRecord(eventBridgeEvent(forwarderDetail(cluster, service, reason)));

/** A Lambda context with `remainingMs` left, as the runtime passes it. */
export function lambdaContext(remainingMs = 60_000, functionName = 'kube-zk-sync-sync'): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/25/[$LATEST]0000',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
