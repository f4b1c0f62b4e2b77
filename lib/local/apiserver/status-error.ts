// The errors the pure parts of the simulator (patching, apply, Tables) end in. They are ApiErrors, so the HTTP
// layer sends them like any other; what they cannot know (the object's name and resource) the registry adds with
// `about`, unless the apiserver names no object in that answer (`anonymous`: its generic 422 for a JSON patch that
// does not apply, which kubectl prints as "The request is invalid: ...").
import { ApiError, named, type StatusCause } from './errors.ts';

export type { StatusCause } from './errors.ts';

import type { ResourceKind } from './resources.ts';

export type FailureReason = 'BadRequest' | 'NotAcceptable' | 'Conflict' | 'UnsupportedMediaType' | 'Invalid';

const CODES: Record<FailureReason, number> = {
  BadRequest: 400,
  NotAcceptable: 406,
  Conflict: 409,
  UnsupportedMediaType: 415,
  Invalid: 422,
};

export class StatusError extends ApiError {
  readonly anonymous: boolean;

  constructor(
    reason: FailureReason,
    message: string,
    causes: readonly StatusCause[] = [],
    options: { anonymous?: boolean } = {},
  ) {
    super({
      code: CODES[reason],
      reason,
      message,
      ...(causes.length > 0 && { details: { causes: [...causes] } }),
    });
    this.anonymous = options.anonymous ?? false;
  }

  get code(): number {
    return this.status.code;
  }

  get causes(): readonly StatusCause[] {
    return this.status.details?.causes ?? [];
  }

  /** The same error naming the object it is about (`details.name`, `group`, `kind` = the plural). */
  about(resource: ResourceKind, name: string): ApiError {
    if (this.anonymous) return this;
    return new ApiError({ ...this.status, details: { ...named(resource, name), ...this.status.details } });
  }
}

export const badRequest = (message: string): StatusError => new StatusError('BadRequest', message);

/** What the apiserver says for a JSON patch that reads but does not apply (its generic 422 message). */
export const unprocessable = (): StatusError =>
  new StatusError('Invalid', 'the server rejected our request due to an error in our request', [], {
    anonymous: true,
  });
