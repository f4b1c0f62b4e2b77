// A Service as @kubernetes/client-node hands it over comes in two shapes: raw JSON from a watch, and class
// instances from a list call (Date objects, every optional field present as undefined). Both are read through plain
// property access, and only what the mapping needs is copied, so events stay small and the same Service gives the
// same event whichever way it was observed.
import { ANNOTATION_PREFIX, type TrimmedService, trimmedServiceSchema } from '../events/contract.ts';

export class InvalidServiceObjectError extends Error {
  override readonly name = 'InvalidServiceObjectError';
}

type Obj = Readonly<Record<string, unknown>>;

const asObject = (value: unknown): Obj | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;

const asArray = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** Copies `keys` of `from` that hold a value; null and undefined mean "not set" in both input shapes. */
function pick(from: Obj | undefined, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = from?.[key];
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

function prefixedAnnotations(annotations: Obj | undefined): Record<string, unknown> | undefined {
  const kept = Object.entries(annotations ?? {}).filter(([key]) => key.startsWith(ANNOTATION_PREFIX));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/**
 * The part of a Service that the mapping reads, validated by the event contract's schema. Throws
 * InvalidServiceObjectError naming the Service and every bad field when the object is not a usable Service.
 */
export function trimService(service: unknown): TrimmedService {
  const root = asObject(service);
  const metadata = asObject(root?.metadata);
  const spec = asObject(root?.spec);
  const labels = asObject(metadata?.labels);
  const annotations = prefixedAnnotations(asObject(metadata?.annotations));
  const ports = asArray(spec?.ports).map((port) => pick(asObject(port), ['name', 'port', 'protocol']));
  const externalIPs = asArray(spec?.externalIPs);
  const ingress = asArray(asObject(asObject(root?.status)?.loadBalancer)?.ingress)
    .map((item) => pick(asObject(item), ['ip', 'hostname']))
    .filter((item) => Object.keys(item).length > 0);

  const trimmed = {
    metadata: {
      ...pick(metadata, ['name', 'namespace', 'uid', 'resourceVersion']),
      ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      ...pick(spec, ['type']),
      ...(ports.length > 0 ? { ports } : {}),
      ...(externalIPs.length > 0 ? { externalIPs } : {}),
    },
    ...(ingress.length > 0 ? { status: { loadBalancer: { ingress } } } : {}),
  };
  const result = trimmedServiceSchema.safeParse(trimmed);
  if (!result.success) {
    const who = `${String(metadata?.namespace ?? '?')}/${String(metadata?.name ?? '?')}`;
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(service)'}: ${i.message}`);
    throw new InvalidServiceObjectError(`cannot read Service ${who}: ${problems.join('; ')}`);
  }
  return result.data;
}
