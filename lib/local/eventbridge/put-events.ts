// The PutEvents request and response as they travel in the AWS JSON 1.1 protocol, and the checks AWS applies to
// them (API_PutEvents, "Calculating PutEvents entry size", API_PutEventsResultEntry).

export const MAX_ENTRIES = 10;
/** "The total entry size must be less than 256KB" (raised to 1 MB in 2026; the project designs for 256 KB). */
export const DEFAULT_MAX_REQUEST_BYTES = 256 * 1024;

/** An entry as the SDK serializes it: Time is epoch seconds (awsJson1_1 timestamps). */
export interface WireEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly Resources?: unknown;
  readonly Time?: unknown;
  readonly EventBusName?: unknown;
  readonly TraceHeader?: unknown;
}

export const RETRYABLE_ENTRY_ERRORS = ['InternalFailure', 'ThrottlingException'] as const;
export const NON_RETRYABLE_ENTRY_ERRORS = [
  'AccessDeniedException',
  'InvalidAccountIdException',
  'InvalidArgument',
  'MalformedDetail',
  'RedactionFailure',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
] as const;
export type EntryErrorCode =
  | (typeof RETRYABLE_ENTRY_ERRORS)[number]
  | (typeof NON_RETRYABLE_ENTRY_ERRORS)[number];

export const ENTRY_ERROR_MESSAGES: Record<EntryErrorCode, string> = {
  InternalFailure: 'Internal Failure',
  ThrottlingException: 'Rate exceeded.',
  AccessDeniedException: 'Access denied.',
  InvalidAccountIdException: 'Account ID provided is not valid.',
  InvalidArgument: 'Parameter is not valid.',
  MalformedDetail: 'Detail is malformed.',
  RedactionFailure: 'Redaction failed.',
  NotAuthorizedForSourceException: 'Not authorized for the source.',
  NotAuthorizedForDetailTypeException: 'Not authorized for the detail type.',
};

export type ResultEntry = { EventId: string } | { ErrorCode: EntryErrorCode; ErrorMessage: string };

export interface PutEventsResponse {
  readonly FailedEntryCount: number;
  readonly Entries: readonly ResultEntry[];
}

const bytes = (value: unknown): number => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);

/** Time (14 bytes when set) + the UTF-8 bytes of Source, DetailType, Detail and each Resources string. */
export function entrySize(entry: WireEntry): number {
  const resources = Array.isArray(entry.Resources) ? entry.Resources : [];
  return (
    (entry.Time !== undefined && entry.Time !== null ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    resources.reduce((sum: number, r) => sum + bytes(r), 0)
  );
}

/** Why AWS would refuse this one entry (the rest of the request still goes through), or undefined. */
export function entryError(entry: WireEntry): { code: EntryErrorCode; message: string } | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    const value = entry[field];
    if (typeof value !== 'string' || value === '') {
      return {
        code: 'InvalidArgument',
        message: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  if ((entry.Source as string).startsWith('aws.')) {
    return { code: 'NotAuthorizedForSourceException', message: 'Not authorized for the source.' };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return { code: 'MalformedDetail', message: 'Detail is malformed.' };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { code: 'MalformedDetail', message: 'Detail is malformed.' };
  }
  return undefined;
}

/** The ISO time EventBridge puts on an event: the entry's Time if given (epoch seconds), else the time of receipt. */
export function eventTime(entry: WireEntry, now: Date): string {
  const time = entry.Time;
  const date =
    typeof time === 'number' ? new Date(time * 1000) : typeof time === 'string' ? new Date(time) : now;
  const valid = Number.isNaN(date.getTime()) ? now : date;
  return `${valid.toISOString().slice(0, 19)}Z`;
}
