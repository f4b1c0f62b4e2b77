// The errors the pure parts of the simulator (patching, apply, Tables) end in, typed as the apiserver answers them,
// so the HTTP layer only turns one into a `Status` body: 400 BadRequest (a body or parameter that cannot be read),
// 406 NotAcceptable (no media type in Accept can be served), 409 Conflict (server-side apply conflicts with another
// field manager, causes naming the fields), 415 UnsupportedMediaType (a patch type not accepted for the resource),
// 422 Invalid (a patch that reads but cannot be applied, e.g. a failed JSON patch `test`).

export type FailureReason = 'BadRequest' | 'NotAcceptable' | 'Conflict' | 'UnsupportedMediaType' | 'Invalid';

export interface StatusCause {
  type?: string;
  message: string;
  field?: string;
}

const CODES: Record<FailureReason, number> = {
  BadRequest: 400,
  NotAcceptable: 406,
  Conflict: 409,
  UnsupportedMediaType: 415,
  Invalid: 422,
};

export class StatusError extends Error {
  override readonly name = 'StatusError';
  readonly code: number;
  readonly reason: FailureReason;
  readonly causes: readonly StatusCause[];

  /** The apiserver names no object in this error's details (its generic answers, e.g. a JSON patch that fails). */
  readonly anonymous: boolean;

  constructor(
    reason: FailureReason,
    message: string,
    causes: readonly StatusCause[] = [],
    options: { anonymous?: boolean } = {},
  ) {
    super(message);
    this.reason = reason;
    this.causes = causes;
    this.code = CODES[reason];
    this.anonymous = options.anonymous ?? false;
  }

  /**
   * The `Status` object the apiserver answers with. `named` (name, group, kind = the resource plural) is the HTTP
   * layer's to fill, and left out for anonymous errors (kubectl then says "The request is invalid: ..."); apply
   * conflicts and invalid patches carry `causes`.
   */
  toStatus(named: { name?: string; group?: string; kind?: string } = {}): Record<string, unknown> {
    const details = this.anonymous ? {} : named;
    const withDetails = Object.keys(details).length > 0 || this.causes.length > 0;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(withDetails
        ? { details: { ...details, ...(this.causes.length > 0 ? { causes: this.causes } : {}) } }
        : {}),
      code: this.code,
    };
  }
}

export const badRequest = (message: string): StatusError => new StatusError('BadRequest', message);

/** What the apiserver says for a JSON patch that reads but does not apply (its generic 422 message). */
export const unprocessable = (): StatusError =>
  new StatusError('Invalid', 'the server rejected our request due to an error in our request', [], {
    anonymous: true,
  });
