/** Failures that only the HTTP layer can cause; they join the error family so one function maps them all. */
import { HoldfastError } from "../errors/index.ts";

/** The verb is not served on this path, or the resource is written only by the control plane. HTTP 405. */
export class MethodNotAllowedError extends HoldfastError {
  readonly code = "METHOD_NOT_ALLOWED";
  readonly reason = "MethodNotAllowed";
  readonly httpStatus = 405;
}

/** The request body is larger than the server accepts. HTTP 413. */
export class RequestEntityTooLargeError extends HoldfastError {
  readonly code = "REQUEST_ENTITY_TOO_LARGE";
  readonly reason = "RequestEntityTooLarge";
  readonly httpStatus = 413;
}

/** The request body is not in a media type the server reads. HTTP 415. */
export class UnsupportedMediaTypeError extends HoldfastError {
  readonly code = "UNSUPPORTED_MEDIA_TYPE";
  readonly reason = "UnsupportedMediaType";
  readonly httpStatus = 415;
}
