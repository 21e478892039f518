/** The request pipeline's security steps: authentication, authorization and the audit records. */
export { auditUnavailable, authenticate, authorize, bearerOf, draftFor, objectRefOf, record, recordIntent, type Access, type AuditDraft } from "./access.ts";
export { isMutation, resourceAttributes } from "./attributes.ts";
export { FROZEN_ANNOTATION, FrozenNamespaces } from "./frozen-namespaces.ts";
