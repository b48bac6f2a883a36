/**
 * Error codes, taken from MLflow's `ErrorCode` set so that the tracking API can return them verbatim,
 * and the HTTP status each maps to. This table is the only place a code is mapped to a status.
 */
export const ERROR_HTTP_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  INVALID_STATE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_HTTP_STATUS;

/**
 * The base of every error Onset raises on purpose. `message` says what was wrong, where, and what is
 * allowed; `details` carries machine-readable context (e.g. a validation report) for `--json` output and
 * HTTP error bodies.
 */
export class OnsetError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  private readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: unknown; httpStatus?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OnsetError';
    this.code = code;
    this.details = options.details;
    this.status = options.httpStatus;
  }

  /** The status of the code (see the table), unless the error was made with another (`contentTooLarge`). */
  get httpStatus(): number {
    return this.status ?? ERROR_HTTP_STATUS[this.code];
  }
}

export function isOnsetError(error: unknown): error is OnsetError {
  return error instanceof OnsetError;
}

/** Shorthand for the most common error: a value a caller passed is not allowed. */
export function invalidParameter(message: string, details?: unknown): OnsetError {
  return new OnsetError('INVALID_PARAMETER_VALUE', message, { details });
}

/**
 * A body or upload over its size limit: REQUEST_LIMIT_EXCEEDED, MLflow's code for every limit, answered
 * 413 (Content Too Large) rather than the code's 429, which would tell the client to send it again later.
 */
export function contentTooLarge(message: string, details?: unknown): OnsetError {
  return new OnsetError('REQUEST_LIMIT_EXCEEDED', message, { details, httpStatus: 413 });
}
