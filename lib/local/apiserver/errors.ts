// The apiserver's errors, as the Status objects clients read: `reason` and `code` decide what a client does
// (client-go maps them to IsNotFound, IsConflict, …), `message` and `details` are what a person reads.
import type { ResourceKind } from './resources.ts';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  code: number;
  reason: string;
  message: string;
  details?: StatusDetails;
}

/** A request the apiserver refuses; the HTTP layer sends it as a `Status` with `status: Failure`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: Status;
  constructor(status: Status) {
    super(status.message);
    this.status = status;
  }
}

/** The part of `details` that names the object: the resource plural as `kind`, and the group when not core. */
export function named(resource: ResourceKind, name: string | undefined): StatusDetails {
  return {
    ...(name !== undefined && name !== '' && { name }),
    ...(resource.group && { group: resource.group }),
    kind: resource.plural,
  };
}

/** `services "db"` or `leases.coordination.k8s.io "db"`: how the apiserver names an object in messages. */
export function qualified(resource: ResourceKind, name: string): string {
  return `${resource.plural}${resource.group ? `.${resource.group}` : ''} "${name}"`;
}

/** An error about one object: `<plural> "<name>" <what>`, with the object in details. */
const aboutObject = (
  code: number,
  reason: string,
  resource: ResourceKind,
  name: string,
  what: string,
): ApiError =>
  new ApiError({
    code,
    reason,
    message: `${qualified(resource, name)} ${what}`,
    details: named(resource, name),
  });

export const notFound = (resource: ResourceKind, name: string): ApiError =>
  aboutObject(404, 'NotFound', resource, name, 'not found');

export const alreadyExists = (resource: ResourceKind, name: string): ApiError =>
  aboutObject(409, 'AlreadyExists', resource, name, 'already exists');

/** 409 Conflict; `why` defaults to the stale-resourceVersion sentence every client knows. */
export const conflict = (
  resource: ResourceKind,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): ApiError =>
  new ApiError({
    code: 409,
    reason: 'Conflict',
    message: `Operation cannot be fulfilled on ${qualified(resource, name)}: ${why}`,
    details: named(resource, name),
  });

export const badRequest = (message: string): ApiError =>
  new ApiError({ code: 400, reason: 'BadRequest', message });

export const methodNotAllowed = (resource?: ResourceKind): ApiError =>
  new ApiError({
    code: 405,
    reason: 'MethodNotAllowed',
    message: 'the server does not allow this method on the requested resource',
    ...(resource && { details: { ...(resource.group && { group: resource.group }), kind: resource.plural } }),
  });

export const unsupportedMediaType = (contentType: string, accepted: readonly string[]): ApiError =>
  new ApiError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    details: { causes: [{ reason: 'UnexpectedServerResponse', message: contentType }] },
  });

export const resourceNotFound = (): ApiError =>
  new ApiError({
    code: 404,
    reason: 'NotFound',
    message: 'the server could not find the requested resource',
  });

/** One field error, as apimachinery's field.Error prints it. */
export interface FieldError {
  field: string;
  reason:
    | 'FieldValueInvalid'
    | 'FieldValueRequired'
    | 'FieldValueDuplicate'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong';
  /** The detail after the type, e.g. `Invalid value: 0: must be between 1 and 65535, inclusive`. */
  message: string;
}

const show = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value));

export const invalidValue = (field: string, value: unknown, detail: string): FieldError => ({
  field,
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${show(value)}: ${detail}`,
});
export const required = (field: string, detail = ''): FieldError => ({
  field,
  reason: 'FieldValueRequired',
  message: `Required value${detail ? `: ${detail}` : ''}`,
});
export const duplicate = (field: string, value: unknown): FieldError => ({
  field,
  reason: 'FieldValueDuplicate',
  message: `Duplicate value: ${show(value)}`,
});
export const notSupported = (field: string, value: unknown, supported: readonly string[]): FieldError => ({
  field,
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
});
export const forbidden = (field: string, detail: string): FieldError => ({
  field,
  reason: 'FieldValueForbidden',
  message: `Forbidden: ${detail}`,
});

/** 422 Invalid: `Service "x" is invalid: a: …` with one cause per field error (several are bracketed). */
export function invalid(resource: ResourceKind, name: string, errors: readonly FieldError[]): ApiError {
  const lines = errors.map((e) => `${e.field}: ${e.message}`);
  const summary = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
  return new ApiError({
    code: 422,
    reason: 'Invalid',
    message: `${resource.kind}${resource.group ? `.${resource.group}` : ''} "${name}" is invalid: ${summary}`,
    details: {
      ...(name && { name }),
      ...(resource.group && { group: resource.group }),
      kind: resource.kind,
      causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
    },
  });
}
