/** The security API: login, sessions, users, API tokens, access reviews, the audit log and key management. */
import type { Endpoint } from "../endpoint.ts";
import type { PublicEndpoint } from "../pipeline.ts";
import { auditEventsEndpoint } from "./audit-events.ts";

export { auditQuery as auditEventsQuery, limitOf as auditEventsLimit } from "./audit-events.ts";
import { keyringEndpoint } from "./keyring.ts";
import { selfReviewEndpoint, subjectReviewEndpoint } from "./reviews.ts";
import { AUDIT_GROUP, AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, KEYS_GROUP, type SecurityServices } from "./services.ts";
import { consoleLoginEndpoint, loginEndpoint, logoutEndpoint, whoamiEndpoint } from "./session.ts";

export { consoleSessionEndpoint } from "./session.ts";
import { tokensEndpoint } from "./tokens.ts";
import { usersEndpoint } from "./users.ts";

export { AUDIT_GROUP, AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, KEYS_GROUP, parseBody, type KeyOperations, type SecurityServices } from "./services.ts";

/** The login path: the only API path served without credentials (besides /healthz). */
export const LOGIN_PATH = `/apis/${AUTHENTICATION_GROUP}/v1alpha1/login`;

/** The console's login: the same login, the session kept in an HttpOnly cookie. */
export const CONSOLE_LOGIN_PATH = "/console/api/login";

/** The login endpoint for POST (and any other method, which it refuses) on the login path. */
export function publicSecurityEndpoint(services: SecurityServices, pathname: string): PublicEndpoint | undefined {
  const path = pathname.replace(/\/+$/, "");
  if (path === LOGIN_PATH) return loginEndpoint(services);
  return path === CONSOLE_LOGIN_PATH ? consoleLoginEndpoint(services) : undefined;
}

/** Where a request landed below `/apis/{group}/{version}/{resource}`. */
interface Target {
  services: SecurityServices;
  method: string;
  name: string | undefined;
  action: string | undefined;
}

type Factory = (target: Target) => Endpoint | undefined;

/** Collections that take no name below them. */
const noName = (factory: (target: Target) => Endpoint): Factory => (target) => (target.name === undefined ? factory(target) : undefined);

const FACTORIES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  [`${AUTHENTICATION_GROUP}/v1alpha1/logout`, noName((t) => logoutEndpoint(t.services, t.method))],
  [`${AUTHENTICATION_GROUP}/v1alpha1/whoami`, noName((t) => whoamiEndpoint(t.method))],
  [`${AUTHENTICATION_GROUP}/v1alpha1/users`, (t) => usersEndpoint(t.services, t.method, t.name, t.action)],
  [`${AUTHENTICATION_GROUP}/v1alpha1/apitokens`, (t) => (t.action === undefined ? tokensEndpoint(t.services, t.method, t.name) : undefined)],
  [`${AUTHORIZATION_GROUP}/v1/selfsubjectaccessreviews`, noName((t) => selfReviewEndpoint(t.services, t.method))],
  [`${AUTHORIZATION_GROUP}/v1/subjectaccessreviews`, noName((t) => subjectReviewEndpoint(t.services, t.method))],
  [`${AUDIT_GROUP}/v1alpha1/auditevents`, noName((t) => auditEventsEndpoint(t.services, t.method))],
  [`${KEYS_GROUP}/v1alpha1/keyring`, (t) => (t.action === undefined ? keyringEndpoint(t.services, t.method, t.name) : undefined)],
]);

/** The endpoint for a security API path, or undefined when the path is not one. */
export function securityEndpoint(services: SecurityServices, method: string, segments: readonly string[]): Endpoint | undefined {
  const [apis, group, version, resource, name, action, ...extra] = segments;
  if (apis !== "apis" || resource === undefined || extra.length > 0) return undefined;
  const factory = FACTORIES.get(`${group ?? ""}/${version ?? ""}/${resource}`);
  return factory?.({ services, method, name, action });
}
