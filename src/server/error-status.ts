/** The one place where a thrown value becomes an HTTP status and a Kubernetes `Status` body. */
import type { StatusBody } from "../api/index.ts";
import { HoldfastError, InternalError } from "../errors/index.ts";
import type { Logger } from "../util/index.ts";

/** An HTTP status with the body to send. */
export interface ErrorResponse {
  httpStatus: number;
  body: StatusBody;
}

/**
 * Map any thrown value to a `Status`. Holdfast errors carry their own status, reason and causes;
 * anything else is a bug whose message may hold internals, so it is logged and replaced by a generic one.
 */
export function errorToStatus(error: unknown, logger: Logger): ErrorResponse {
  // An InternalError may wrap a foreign message (asHoldfastError), so it is treated like any other bug.
  if (error instanceof HoldfastError && !(error instanceof InternalError)) {
    if (error.httpStatus >= 500) logger.error({ err: error }, "request failed");
    return { httpStatus: error.httpStatus, body: statusBody(error) };
  }
  logger.error({ err: error }, "unexpected error while serving a request");
  return {
    httpStatus: 500,
    body: {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "an internal error occurred; the server log has the details",
      reason: "InternalError",
      code: 500,
    },
  };
}

/** The `Status` body of a Holdfast error (as a watch's ERROR event carries it). */
export function statusBody(error: HoldfastError): StatusBody {
  const body: StatusBody = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: error.message,
    reason: error.reason,
    code: error.httpStatus,
  };
  const details = detailsOf(error);
  if (details) body.details = details;
  return body;
}

function detailsOf(error: HoldfastError): StatusBody["details"] {
  const details: NonNullable<StatusBody["details"]> = {};
  const subject = error.subject;
  if (subject?.name !== undefined) details.name = subject.name;
  if (subject?.group !== undefined) details.group = subject.group;
  if (subject?.kind !== undefined) details.kind = subject.kind;
  if (error.causes.length > 0) {
    details.causes = error.causes.map((c) => (c.reason === undefined ? { field: c.field, message: c.message } : { reason: c.reason, field: c.field, message: c.message }));
  }
  return Object.keys(details).length > 0 ? details : undefined;
}
