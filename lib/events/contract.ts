// The event contract between the forwarder (producer) and the sync Lambda (consumer). Both sides validate with
// this one schema. An event says: "at resourceVersion R, the Service KEY of CLUSTER looked like this (or was gone)".
import { z } from 'zod';

export const EVENT_SOURCE = 'kube-zk-sync';
export const EVENT_DETAIL_TYPE = 'Kubernetes Service observed';
export const EVENT_VERSION = 1;

/** Largest detail a forwarder sends; far below EventBridge's entry limit, so ten entries always fit a call. */
export const MAX_DETAIL_BYTES = 64 * 1024;

/** Only annotations with this prefix travel; the mapping reads nothing else. */
export const ANNOTATION_PREFIX = 'kube-zk-sync.io/';

const stringMap = z.record(z.string(), z.string());

/** The part of a Service that the mapping reads; everything else stays in the cluster. */
export const trimmedServiceSchema = z.object({
  metadata: z.object({
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(253),
    uid: z.string().optional(),
    resourceVersion: z.string().min(1),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
  }),
  spec: z.object({
    type: z.string().optional(),
    ports: z
      .array(
        z.object({
          name: z.string().optional(),
          port: z.number().int().min(1).max(65535),
          protocol: z.string().optional(),
        }),
      )
      .optional(),
    externalIPs: z.array(z.string()).optional(),
  }),
  status: z
    .object({
      loadBalancer: z
        .object({
          ingress: z
            .array(z.object({ ip: z.string().optional(), hostname: z.string().optional() }))
            .optional(),
        })
        .optional(),
    })
    .optional(),
});
export type TrimmedService = z.infer<typeof trimmedServiceSchema>;

/** `namespace/name`: the identity of a Service in one cluster. */
export type ServiceKey = string;
export const serviceKey = (namespace: string, name: string): ServiceKey => `${namespace}/${name}`;

export const serviceEventDetailSchema = z
  .object({
    v: z.literal(EVENT_VERSION),
    cluster: z.string().min(1).max(128),
    key: z.string().regex(/^[^/]+\/[^/]+$/, 'key must be namespace/name'),
    resourceVersion: z.string().min(1).max(64),
    observedAt: z.string().datetime(),
    /** `watch`: a change seen on the watch; `list`: the state in a (re)list; `deleted`: gone from the cluster. */
    reason: z.enum(['watch', 'list', 'deleted']),
    /** The Service as observed, or null when it no longer exists. */
    service: trimmedServiceSchema.nullable(),
  })
  .refine((d) => (d.reason === 'deleted') === (d.service === null), {
    message: 'service must be null exactly when reason is deleted',
  })
  .refine(
    (d) => d.service === null || serviceKey(d.service.metadata.namespace, d.service.metadata.name) === d.key,
    {
      message: 'key must match the service namespace/name',
    },
  );
export type ServiceEventDetail = z.infer<typeof serviceEventDetailSchema>;

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/** Validates a detail (already parsed JSON); the error names every field that is wrong. */
export function parseServiceEventDetail(value: unknown): ServiceEventDetail {
  const result = serviceEventDetailSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(detail)'}: ${i.message}`);
    throw new InvalidEventError(`invalid ${EVENT_DETAIL_TYPE} event: ${problems.join('; ')}`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(result.data));
  if (bytes > MAX_DETAIL_BYTES) {
    throw new InvalidEventError(
      `event for ${result.data.key} is ${bytes} bytes, over the ${MAX_DETAIL_BYTES}-byte limit`,
    );
  }
  return result.data;
}

/** An EventBridge event as a target (the SQS queue) receives it. */
export const eventBridgeEnvelopeSchema = z.object({
  source: z.string(),
  'detail-type': z.string(),
  detail: z.unknown(),
});
