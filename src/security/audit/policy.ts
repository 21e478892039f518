/** The audit policy: which requests are recorded with their (redacted) body and which with metadata only. */
import type { AuditLevel } from "./record.ts";

/** The API group of Holdfast's security kinds: everything in it may carry credentials. */
export const SECURITY_API_GROUP = "security.holdfast.io";

/** API groups whose every body may carry a credential (logins, users, API tokens). */
const SECRET_BEARING_GROUPS = new Set([SECURITY_API_GROUP, "authentication.holdfast.io"]);

/** Resources whose bodies carry secrets, in any group. */
const SECRET_BEARING_RESOURCES = new Set(["secrets", "users", "apitokens", "sessions"]);

/** Verbs that only read; everything else changes state and is recorded with its body. */
const READ_VERBS = new Set(["get", "list", "watch"]);

/** Whether a resource's bodies may carry secrets and so are never recorded. */
export function isSecretBearing(resource: string, apiGroup: string): boolean {
  return SECRET_BEARING_GROUPS.has(apiGroup) || SECRET_BEARING_RESOURCES.has(resource);
}

/** The level to record a request at: Metadata for secret-bearing resources and reads, Request for other mutations. */
export function auditLevelFor(resource: string, apiGroup: string, verb: string): AuditLevel {
  if (isSecretBearing(resource, apiGroup)) return "Metadata";
  return READ_VERBS.has(verb) ? "Metadata" : "Request";
}
