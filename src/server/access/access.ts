/**
 * The security pipeline in front of every API request: authenticate → authorize → (admission in the
 * handlers) → audit. Nothing reaches the store without an identity, an allowing RBAC decision and, for
 * writes, a durable audit record written first; every outcome is recorded before the response leaves.
 */
import type { IncomingMessage } from "node:http";
import { AuthenticationError, ForbiddenError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { credentialOf, csrfRefusal } from "./session-cookie.ts";
import type { AuditEventInput, AuditLog, AuthService, Authorizer, Identity, RequestAttributes } from "../../security/index.ts";

/** The services the pipeline uses, built once at start-up. */
export interface Access {
  auth: AuthService;
  authorizer: Authorizer;
  audit: AuditLog;
}

/** What is known about a request for its audit record. */
export interface AuditDraft {
  verb: string;
  user: { username: string; groups: string[] };
  sourceIPs: string[];
  userAgent: string;
  requestReceivedTimestamp: string;
  objectRef?: AuditEventInput["objectRef"];
  /** Set instead of objectRef for a non-resource URL (`/metrics`). */
  requestURI?: string;
  annotations?: AuditEventInput["annotations"];
  authentication?: AuditEventInput["authentication"];
}

const ANONYMOUS = { username: "system:anonymous", groups: ["system:unauthenticated"] };

/** Start an audit draft for a request. */
export function draftFor(request: IncomingMessage, verb: string): AuditDraft {
  const forwarded = request.socket.remoteAddress ?? "unknown";
  return { verb, user: ANONYMOUS, sourceIPs: [forwarded], userAgent: request.headers["user-agent"] ?? "", requestReceivedTimestamp: new Date().toISOString() };
}

/** Audit object reference for request attributes. */
export function objectRefOf(attributes: RequestAttributes): NonNullable<AuditEventInput["objectRef"]> {
  return {
    resource: attributes.resource,
    apiGroup: attributes.apiGroup,
    ...(attributes.namespace === undefined ? {} : { namespace: attributes.namespace }),
    ...(attributes.name === undefined ? {} : { name: attributes.name }),
    ...(attributes.subresource === undefined ? {} : { subresource: attributes.subresource }),
  };
}

/** Authenticate; a missing or invalid credential is answered 401 (the pipeline records it). */
export async function authenticate(access: Access, request: IncomingMessage, draft: AuditDraft): Promise<Identity> {
  const credential = credentialOf(request);
  const bearer = credential?.token;
  const identity = bearer === undefined ? undefined : await access.auth.authenticate(bearer);
  if (!identity) {
    draft.authentication = { outcome: "failure", method: credential?.from ?? "bearer", reason: await refusalReason(access, bearer, draft) };
    throw new AuthenticationError("authentication required: log in with holdfast login, or send an API token as 'Authorization: Bearer …'");
  }
  const refusal = credential?.from === "cookie" ? csrfRefusal(request, credential.token) : undefined;
  if (refusal !== undefined) {
    draft.user = { username: identity.username, groups: [...identity.groups] };
    draft.authentication = { outcome: "failure", method: "cookie", reason: refusal };
    throw new ForbiddenError(`${refusal}: the console sends its session's CSRF token in the X-CSRF-Token header, from this server's own pages only`);
  }
  draft.user = { username: identity.username, groups: [...identity.groups] };
  return identity;
}

/** Why a bearer was refused, for the record; a revoked token or a disabled user's credential also names its owner. */
async function refusalReason(access: Access, bearer: string | undefined, draft: AuditDraft): Promise<string> {
  if (bearer === undefined) return "no credentials";
  const refusal = await access.auth.explainRefusal(bearer);
  if (refusal === undefined) return "invalid, expired or revoked token";
  draft.user = { username: refusal.username, groups: [] };
  return refusal.reason;
}

/** Authorize; a denial is answered 403 with the reason (the pipeline records it). */
export async function authorize(access: Access, identity: Identity, attributes: RequestAttributes, draft: AuditDraft): Promise<void> {
  const decision = await access.authorizer.authorize(identity, attributes);
  draft.annotations = { "authorization.k8s.io/decision": decision.allowed ? "allow" : "forbid", "authorization.k8s.io/reason": decision.reason };
  if (decision.allowed) return;
  throw new ForbiddenError(`user "${identity.username}" cannot ${describe(attributes)}: ${decision.reason}`);
}

/** Write the RequestReceived record of a write; if the log cannot take it, the write does not happen (503). */
export async function recordIntent(access: Access, draft: AuditDraft): Promise<void> {
  try {
    await access.audit.append({ ...draft, stage: "RequestReceived", responseStatus: { code: 0 } });
  } catch (error) {
    throw auditUnavailable(error);
  }
}

/** Append the ResponseComplete record (with the request body, which the log keeps only where policy allows). */
export async function record(access: Access, draft: AuditDraft, status: { code: number; reason?: string | undefined }, requestObject?: unknown): Promise<void> {
  const responseStatus = status.reason === undefined ? { code: status.code } : { code: status.code, reason: status.reason };
  const objectRef = completeObjectRef(draft.objectRef, requestObject);
  await access.audit.append({ ...draft, ...(objectRef === undefined ? {} : { objectRef }), responseStatus, ...(requestObject === undefined ? {} : { requestObject }) });
}

/**
 * A create names its object in the body, not the path: as Kubernetes' audit does, the record's objectRef takes the
 * name from the body's metadata, so the records of one object can be found by its name.
 */
export function completeObjectRef(objectRef: AuditDraft["objectRef"], requestObject: unknown): AuditDraft["objectRef"] {
  if (objectRef === undefined || objectRef.name !== undefined) return objectRef;
  const name = (requestObject as { metadata?: { name?: unknown } } | null | undefined)?.metadata?.name;
  return typeof name === "string" && name !== "" ? { ...objectRef, name } : objectRef;
}

/** The error a request gets when its audit record cannot be written. */
export function auditUnavailable(error: unknown): UnavailableError {
  return new UnavailableError(`the audit log cannot be written, so nothing was changed: ${errorMessage(error)}`, { cause: error });
}

function describe(attributes: RequestAttributes): string {
  if (attributes.path !== undefined) return `${attributes.verb} ${attributes.path}`;
  const resource = attributes.subresource === undefined ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
  const group = attributes.apiGroup === "" ? "" : `.${attributes.apiGroup}`;
  const where = attributes.namespace === undefined ? " at cluster scope" : ` in namespace ${attributes.namespace}`;
  return `${attributes.verb} ${resource}${group}${attributes.name === undefined ? "" : ` "${attributes.name}"`}${where}`;
}
