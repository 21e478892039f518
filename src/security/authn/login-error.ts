/** The login failure: one generic message for the caller, a machine reason for the audit log. */
import { AuthenticationError } from "../../errors/index.ts";

/** Why a login failed. Never shown to the caller; recorded in the audit log. */
export type LoginFailureReason =
  | "unknown-user"
  | "bad-password"
  | "totp-required"
  | "bad-totp"
  | "totp-replayed"
  | "bad-recovery-code"
  | "disabled"
  | "locked";

/** The one message every failed login gets, so the response never says which part was wrong. */
export const LOGIN_FAILED_MESSAGE = "invalid username, password or code";

/**
 * A failed login (HTTP 401). `failureReason` is for the audit log only: the message is the same whatever went wrong.
 * (`reason` is taken: it is the Kubernetes Status reason, `Unauthorized`.)
 */
export class LoginFailedError extends AuthenticationError {
  readonly failureReason: LoginFailureReason;
  /** The username as given (normalised), for the audit record. */
  readonly username: string;

  constructor(failureReason: LoginFailureReason, username: string) {
    super(LOGIN_FAILED_MESSAGE);
    this.failureReason = failureReason;
    this.username = username;
  }
}
