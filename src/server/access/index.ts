/** The request pipeline's security steps: authentication, authorization and the audit records. */
export { auditUnavailable, authenticate, authorize, draftFor, objectRefOf, record, recordIntent, type Access, type AuditDraft } from "./access.ts";
export { isMutation, resourceAttributes } from "./attributes.ts";
export { FROZEN_ANNOTATION, FrozenNamespaces } from "./frozen-namespaces.ts";
export { bearerOf, CLEARED_SESSION_COOKIE, credentialOf, csrfTokenOf, sessionCookie, SESSION_COOKIE, CSRF_HEADER, type Credential } from "./session-cookie.ts";
