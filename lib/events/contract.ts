// The event contract between the forwarder (producer) and the sync Lambda (consumer). Both sides validate with
// this one schema. An event says: "at resourceVersion R, the Service KEY of CLUSTER looked like this (or was gone)".
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini carries no messages of its own; English ones name what is wrong ("expected number, received string").
z.config(en());

export const EVENT_SOURCE = 'kube-zk-sync';
export const EVENT_DETAIL_TYPE = 'Kubernetes Service observed';
export const EVENT_VERSION = 1;

/**
 * A sync that finds damage it cannot repair asks for a reconcile with this event on the cluster's bus; a rule routes
 * it to the reconcile. Its own source, so that a bus policy reserving `kube-zk-sync` to the forwarder allows it.
 */
export const RECONCILE_REQUEST_SOURCE = 'kube-zk-sync.sync';
export const RECONCILE_REQUEST_DETAIL_TYPE = 'Reconcile requested';

/** Largest detail a forwarder sends; far below EventBridge's entry limit, so ten entries always fit a call. */
export const MAX_DETAIL_BYTES = 64 * 1024;

/** Only annotations with this prefix travel; the mapping reads nothing else. */
export const ANNOTATION_PREFIX = 'kube-zk-sync.io/';

const stringMap = z.record(z.string(), z.string());
const objectName = z.string().check(z.minLength(1), z.maxLength(253));

/** The part of a Service that the mapping reads; everything else stays in the cluster. */
export const trimmedServiceSchema = z.object({
  metadata: z.object({
    name: objectName,
    namespace: objectName,
    uid: z.optional(z.string()),
    resourceVersion: z.string().check(z.minLength(1)),
    labels: z.optional(stringMap),
    annotations: z.optional(stringMap),
  }),
  spec: z.object({
    type: z.optional(z.string()),
    ports: z.optional(
      z.array(
        z.object({
          name: z.optional(z.string()),
          port: z.int().check(z.gte(1), z.lte(65535)),
          protocol: z.optional(z.string()),
        }),
      ),
    ),
    externalIPs: z.optional(z.array(z.string())),
  }),
  status: z.optional(
    z.object({
      loadBalancer: z.optional(
        z.object({
          ingress: z.optional(
            z.array(z.object({ ip: z.optional(z.string()), hostname: z.optional(z.string()) })),
          ),
        }),
      ),
    }),
  ),
});
export type TrimmedService = z.infer<typeof trimmedServiceSchema>;

/** `namespace/name`: the identity of a Service in one cluster. */
export type ServiceKey = string;
export const serviceKey = (namespace: string, name: string): ServiceKey => `${namespace}/${name}`;

export const serviceEventDetailSchema = z
  .object({
    v: z.literal(EVENT_VERSION),
    cluster: z.string().check(z.minLength(1), z.maxLength(128)),
    /**
     * The identity of the cluster's current incarnation (the kube-system namespace's uid), when the forwarder may
     * read it: resourceVersions are ordered only within one incarnation.
     */
    clusterUid: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
    key: z.string().check(z.regex(/^[^/]+\/[^/]+$/, 'key must be namespace/name')),
    resourceVersion: z.string().check(z.minLength(1), z.maxLength(64)),
    observedAt: z.iso.datetime(),
    /** `watch`: a change seen on the watch; `list`: the state in a (re)list; `deleted`: gone from the cluster. */
    reason: z.enum(['watch', 'list', 'deleted']),
    /** The Service as observed, or null when it no longer exists. */
    service: z.nullable(trimmedServiceSchema),
  })
  .check(
    z.refine((d) => (d.reason === 'deleted') === (d.service === null), {
      message: 'service must be null exactly when reason is deleted',
    }),
    z.refine(
      (d) =>
        d.service === null || serviceKey(d.service.metadata.namespace, d.service.metadata.name) === d.key,
      { message: 'key must match the service namespace/name' },
    ),
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
