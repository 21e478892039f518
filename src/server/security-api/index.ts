/** The security API: login, sessions, users, API tokens, access reviews, the audit log and key management. */
import type { Endpoint } from "../endpoint.ts";
import type { PublicEndpoint } from "../pipeline.ts";
import { auditEventsEndpoint } from "./audit-events.ts";
import { keyringEndpoint } from "./keyring.ts";
import { selfReviewEndpoint, subjectReviewEndpoint } from "./reviews.ts";
import { AUDIT_GROUP, AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, KEYS_GROUP, type SecurityServices } from "./services.ts";
import { loginEndpoint, logoutEndpoint, whoamiEndpoint } from "./session.ts";
import { tokensEndpoint } from "./tokens.ts";
import { usersEndpoint } from "./users.ts";

export { auditQuery } from "./audit-events.ts";
export { AUDIT_GROUP, AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, KEYS_GROUP, type KeyOperations, type SecurityServices } from "./services.ts";

/** The login path: the only API path served without credentials (besides /healthz). */
export const LOGIN_PATH = `/apis/${AUTHENTICATION_GROUP}/v1alpha1/login`;

/** The login endpoint for POST (and any other method, which it refuses) on the login path. */
export function publicSecurityEndpoint(services: SecurityServices, pathname: string): PublicEndpoint | undefined {
  return pathname.replace(/\/+$/, "") === LOGIN_PATH ? loginEndpoint(services) : undefined;
}

/** The endpoint for a security API path, or undefined when the path is not one. */
export function securityEndpoint(services: SecurityServices, method: string, segments: readonly string[]): Endpoint | undefined {
  const [apis, group, version, resource, name, action, ...extra] = segments;
  if (apis !== "apis" || resource === undefined || extra.length > 0) return undefined;
  const key = `${group ?? ""}/${version ?? ""}/${resource}`;
  switch (key) {
    case `${AUTHENTICATION_GROUP}/v1alpha1/logout`:
      return logoutEndpoint(services, method);
    case `${AUTHENTICATION_GROUP}/v1alpha1/whoami`:
      return whoamiEndpoint(method);
    case `${AUTHENTICATION_GROUP}/v1alpha1/users`:
      return usersEndpoint(services, method, name, action);
    case `${AUTHENTICATION_GROUP}/v1alpha1/apitokens`:
      return action === undefined ? tokensEndpoint(services, method, name) : undefined;
    case `${AUTHORIZATION_GROUP}/v1/selfsubjectaccessreviews`:
      return name === undefined ? selfReviewEndpoint(services, method) : undefined;
    case `${AUTHORIZATION_GROUP}/v1/subjectaccessreviews`:
      return name === undefined ? subjectReviewEndpoint(services, method) : undefined;
    case `${AUDIT_GROUP}/v1alpha1/auditevents`:
      return name === undefined ? auditEventsEndpoint(services, method) : undefined;
    case `${KEYS_GROUP}/v1alpha1/keyring`:
      return action === undefined ? keyringEndpoint(services, method, name) : undefined;
    default:
      return undefined;
  }
}
