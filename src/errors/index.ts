/**
 * The error family. Every failure a user can cause or see is one of these,
 * each with a stable `code` and a Kubernetes `reason`; the API server maps them
 * to HTTP and `Status` bodies in exactly one place.
 */

/** One field-level cause, as in a Kubernetes `Status.details.causes[]`. */
export interface FieldCause {
  /** Dotted path of the offending field, e.g. `spec.componentSpecs[0].replicas`. */
  field: string;
  /** What is wrong and, where possible, what to do instead. */
  message: string;
  /** Kubernetes cause type, e.g. `FieldValueInvalid`, `FieldValueRequired`. */
  reason?: string;
}

/** What the error is about, for `Status.details`. */
export interface ErrorSubject {
  kind?: string;
  name?: string;
  group?: string;
}

interface HoldfastErrorOptions {
  cause?: unknown;
  subject?: ErrorSubject;
  causes?: FieldCause[];
}

/** Base class: not thrown directly. */
export abstract class HoldfastError extends Error {
  abstract readonly code: string;
  abstract readonly reason: string;
  abstract readonly httpStatus: number;
  readonly subject: ErrorSubject | undefined;
  readonly causes: FieldCause[];

  constructor(message: string, options: HoldfastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.subject = options.subject;
    this.causes = options.causes ?? [];
  }
}

/** The request is malformed (syntax, unknown kind, bad query). HTTP 400. */
export class InputError extends HoldfastError {
  readonly code = "INPUT";
  readonly reason = "BadRequest";
  readonly httpStatus = 400;
}

/** The object failed validation; `causes` name the fields. HTTP 422. */
export class InvalidError extends HoldfastError {
  readonly code = "INVALID";
  readonly reason = "Invalid";
  readonly httpStatus = 422;
}

/** The object does not exist. HTTP 404. */
export class NotFoundError extends HoldfastError {
  readonly code = "NOT_FOUND";
  readonly reason = "NotFound";
  readonly httpStatus = 404;
}

/** Create of an object that already exists. HTTP 409. */
export class AlreadyExistsError extends HoldfastError {
  readonly code = "ALREADY_EXISTS";
  readonly reason = "AlreadyExists";
  readonly httpStatus = 409;
}

/** Stale resourceVersion or a competing writer. HTTP 409. */
export class ConflictError extends HoldfastError {
  readonly code = "CONFLICT";
  readonly reason = "Conflict";
  readonly httpStatus = 409;
}

/** The request carries no valid credentials. HTTP 401. The message never says which part was wrong. */
export class AuthenticationError extends HoldfastError {
  readonly code = "UNAUTHENTICATED";
  readonly reason = "Unauthorized";
  readonly httpStatus = 401;
}

/** Too many attempts: try again after `retryAfterSeconds`. HTTP 429. */
export class TooManyRequestsError extends HoldfastError {
  readonly code = "TOO_MANY_REQUESTS";
  readonly reason = "TooManyRequests";
  readonly httpStatus = 429;
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, options: ConstructorParameters<typeof InputError>[1] = {}) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The request is understood but refused by policy. HTTP 403. */
export class ForbiddenError extends HoldfastError {
  readonly code = "FORBIDDEN";
  readonly reason = "Forbidden";
  readonly httpStatus = 403;
}

/** A watch asked for history that has been compacted away. HTTP 410. */
export class GoneError extends HoldfastError {
  readonly code = "GONE";
  readonly reason = "Expired";
  readonly httpStatus = 410;
}

/** A dependency (disk, engine binary, audit log) is not available. HTTP 503. */
export class UnavailableError extends HoldfastError {
  readonly code = "UNAVAILABLE";
  readonly reason = "ServiceUnavailable";
  readonly httpStatus = 503;
}

/**
 * A write made under a lease (`Store.fenced`) that this acquisition no longer holds: another node leads now, and
 * nothing was written. HTTP 503: the request may go to the current leader.
 */
export class LostLeaseError extends UnavailableError {}

/** Stored data is corrupt: a file of the home (the store, the authentication database) or one object in it. HTTP 500. */
export class DamagedDataError extends HoldfastError {
  readonly code = "DAMAGED_DATA";
  readonly reason = "InternalError";
  readonly httpStatus = 500;
}

/** A bug or an unexpected failure. HTTP 500. */
export class InternalError extends HoldfastError {
  readonly code = "INTERNAL";
  readonly reason = "InternalError";
  readonly httpStatus = 500;
}

/** Narrow an unknown thrown value to a HoldfastError, wrapping anything else. */
export function asHoldfastError(error: unknown): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(message, { cause: error });
}

/** The message of any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
