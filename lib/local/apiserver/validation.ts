// Validation of what the simulator's clients depend on, with the apiserver's field paths and messages: object
// names, and the fields of EndpointSlices, Leases and Events that their consumers read. Services are in services.ts.
import { isIP } from 'node:net';
import { type FieldError, forbidden, invalidValue, notSupported, required } from './errors.ts';
import type { KubeObject } from './store.ts';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const DNS1035_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, " +
  "and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is " +
  "'[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end " +
  "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start " +
  "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** The name rule a kind's objects follow: Services and Namespaces are DNS-1035/1123 labels, most kinds subdomains. */
export type NameRule = 'dns1035' | 'dns1123-label' | 'dns1123-subdomain';

function nameErrors(field: string, value: string, rule: NameRule): FieldError[] {
  const [pattern, message, max] =
    rule === 'dns1035'
      ? [DNS1035, DNS1035_MESSAGE, 63]
      : rule === 'dns1123-label'
        ? [DNS1123_LABEL, DNS1123_LABEL_MESSAGE, 63]
        : [DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_MESSAGE, 253];
  const errors: FieldError[] = [];
  if (value.length > max) errors.push(invalidValue(field, value, `must be no more than ${max} characters`));
  if (!pattern.test(value)) errors.push(invalidValue(field, value, message));
  return errors;
}

/** Metadata every object must have right: a valid name, a valid namespace for namespaced kinds. */
export function metadataErrors(object: KubeObject, rule: NameRule, namespaced: boolean): FieldError[] {
  const { name, namespace } = object.metadata;
  const errors: FieldError[] = [];
  if (!name) errors.push(required('metadata.name', 'name or generateName is required'));
  else errors.push(...nameErrors('metadata.name', name, rule));
  if (namespaced) {
    if (!namespace) errors.push(required('metadata.namespace'));
    else errors.push(...nameErrors('metadata.namespace', namespace, 'dns1123-label'));
  }
  return errors;
}

export function isDnsLabel(value: string): boolean {
  return DNS1123_LABEL.test(value) && value.length <= 63;
}

type Json = Record<string, unknown>;
const record = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {});

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

/** discovery.k8s.io/v1 EndpointSlice: addressType required and immutable, each address valid for it. */
export function endpointSliceErrors(slice: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const addressType = slice.addressType;
  if (!addressType) errors.push(required('addressType'));
  else if (typeof addressType !== 'string' || !ADDRESS_TYPES.includes(addressType))
    errors.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  if (old && old.addressType !== addressType)
    errors.push(invalidValue('addressType', addressType, 'field is immutable'));
  const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  endpoints.forEach((endpoint, i) => {
    const addresses = record(endpoint).addresses;
    const field = `endpoints[${i}].addresses`;
    if (!Array.isArray(addresses) || addresses.length === 0) {
      errors.push(required(field, 'must contain at least 1 address'));
      return;
    }
    if (addresses.length > 100)
      errors.push(invalidValue(field, addresses.length, 'must have at most 100 items'));
    addresses.forEach((address, j) => {
      const problem = addressProblem(String(address), String(addressType));
      if (problem) errors.push(invalidValue(`${field}[${j}]`, address, problem));
    });
  });
  const ports = Array.isArray(slice.ports) ? slice.ports : [];
  ports.forEach((port, i) => {
    const p = record(port).port;
    if (
      p !== undefined &&
      p !== null &&
      !(Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535)
    )
      errors.push(invalidValue(`ports[${i}].port`, p, 'must be between 1 and 65535, inclusive'));
  });
  return errors;
}

function addressProblem(address: string, addressType: string): string | undefined {
  if (addressType === 'IPv4') return isIP(address) === 4 ? undefined : 'must be a valid IPv4 address';
  if (addressType === 'IPv6') return isIP(address) === 6 ? undefined : 'must be a valid IPv6 address';
  if (addressType === 'FQDN') return DNS1123_SUBDOMAIN.test(address) ? undefined : DNS1123_SUBDOMAIN_MESSAGE;
  return undefined;
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

/** coordination.k8s.io/v1 Lease: field types (decoding errors are 400 in the apiserver) and value ranges. */
export function leaseErrors(lease: KubeObject): { decode?: string; errors: FieldError[] } {
  const spec = record(lease.spec);
  for (const [field, type] of [
    ['holderIdentity', 'string'],
    ['leaseDurationSeconds', 'int32'],
    ['leaseTransitions', 'int32'],
    ['acquireTime', 'MicroTime'],
    ['renewTime', 'MicroTime'],
  ] as const) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    const ok = type === 'int32' ? Number.isInteger(value) : typeof value === 'string';
    if (!ok)
      return {
        decode: `json: cannot unmarshal ${jsonType(value)} into Go struct field LeaseSpec.spec.${field} of type ${type === 'MicroTime' ? 'v1.MicroTime' : type}`,
        errors: [],
      };
    if (type === 'MicroTime' && !MICRO_TIME.test(value as string))
      return {
        decode: `parsing time "${String(value)}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse`,
        errors: [],
      };
  }
  const errors: FieldError[] = [];
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0)
    errors.push(
      invalidValue('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'),
    );
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0)
    errors.push(
      invalidValue('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'),
    );
  return { errors };
}

function jsonType(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  return Array.isArray(value) ? 'array' : 'object';
}

const EVENT_TYPES = ['Normal', 'Warning'];

/**
 * Events, checked in their core/v1 storage shape. Those written through events.k8s.io/v1 must carry the fields
 * that API requires (eventTime, reportingController, reportingInstance, action, reason), named as that API names them.
 */
export function eventErrors(event: KubeObject, viaEventsApi: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (event.type !== undefined && event.type !== '' && !EVENT_TYPES.includes(String(event.type)))
    errors.push(notSupported('type', event.type, EVENT_TYPES));
  const involved = record(event.involvedObject);
  if (involved.namespace && event.metadata.namespace && involved.namespace !== event.metadata.namespace)
    errors.push(
      invalidValue(
        viaEventsApi ? 'regarding.namespace' : 'involvedObject.namespace',
        involved.namespace,
        'does not match event.namespace',
      ),
    );
  if (!viaEventsApi) return errors;
  if (!event.eventTime) errors.push(required('eventTime'));
  for (const [stored, field] of [
    ['reportingComponent', 'reportingController'],
    ['reportingInstance', 'reportingInstance'],
    ['action', 'action'],
    ['reason', 'reason'],
  ] as const) {
    if (!event[stored]) errors.push(required(field));
  }
  if (!event.type) errors.push(required('type'));
  if (typeof event.message === 'string' && event.message.length > 1024)
    errors.push(forbidden('note', 'can have at most 1024 characters'));
  return errors;
}
