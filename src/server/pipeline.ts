/**
 * Every API request passes the same steps: authenticate → authorize → (validate, in admission) → audit.
 * A write is recorded (stage RequestReceived) before it happens and refused with 503 when the log cannot take
 * the record; every request's outcome is recorded (stage ResponseComplete) before its response leaves.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ForbiddenError, TooManyRequestsError } from "../errors/index.ts";
import type { RequestSample } from "../metrics/index.ts";
import type { Identity } from "../security/index.ts";
import type { Logger } from "../util/index.ts";
import { auditUnavailable, authenticate, authorize, draftFor, isMutation, objectRefOf, record, recordIntent, type Access, type AuditDraft, type FrozenNamespaces } from "./access/index.ts";
import { createExchange, isStream, type Endpoint, type Exchange, type Outcome, type Permission, type Reply } from "./endpoint.ts";
import { errorToStatus } from "./error-status.ts";
import { sendBytes, sendJson } from "./respond.ts";
import type { OpenWatch } from "./watch-stream.ts";

/** An endpoint served without authentication (login): it names its own user in the audit draft. */
export interface PublicEndpoint {
  verb: string;
  objectRef: NonNullable<AuditDraft["objectRef"]>;
  run(request: IncomingMessage, draft: AuditDraft): Promise<Outcome>;
}

/** What the pipeline needs from the server. */
export interface PipelineContext {
  access: Access;
  logger: Logger;
  watches: Set<OpenWatch>;
  /** The endpoint of an authenticated request (`target` is the path as sent); throws NotFoundError/MethodNotAllowedError/InputError. */
  resolve(method: string, url: URL, target: string): Endpoint;
  /** The endpoint of a request that needs no credentials, if the path is one. */
  resolvePublic(method: string, url: URL): PublicEndpoint | undefined;
  /** Namespaces frozen by an incident response: writes in them are refused to all but cluster administrators. */
  frozen?: FrozenNamespaces;
  /** Counts every answered request (absent: metrics are off). */
  metrics?: RequestObserver | undefined;
}

/** What the pipeline reports of each answered request, for metrics. */
export interface RequestObserver {
  observeRequest(sample: RequestSample): void;
}

const UNAUTHENTICATED_GROUP = "system:unauthenticated";

/** The audit annotation of a dry-run request. */
export const DRY_RUN_ANNOTATION = "holdfast.io/dry-run";

const VERB_BY_METHOD: Record<string, string> = { GET: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };

/** Serve one request through the pipeline. */
export async function handleRequest(context: PipelineContext, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const started = performance.now();
  const method = request.method ?? "GET";
  const draft = draftFor(request, VERB_BY_METHOD[method] ?? method.toLowerCase());
  const publicEndpoint = context.resolvePublic(method, url);
  const { outcome, exchange } = publicEndpoint ? await executePublic(context, publicEndpoint, request, draft) : await execute(context, request, url, draft);
  const final = await recordOutcome(context, draft, outcome, exchange);
  await deliver(context, request, response, final);
  const signedIn = publicEndpoint === undefined && !draft.user.groups.includes(UNAUTHENTICATED_GROUP);
  context.metrics?.observeRequest(requestSample(draft, final.status, (performance.now() - started) / 1000, signedIn));
}

/**
 * The metric labels of an answered request, from its audit draft: the resource is one Holdfast serves (the router
 * refuses others) and the path one of the non-resource URLs, so no label holds an object's or a user's name.
 */
export function requestSample(draft: AuditDraft, code: number, seconds: number, signedIn: boolean): RequestSample {
  const ref = draft.objectRef;
  const resource = ref === undefined ? "" : ref.subresource === undefined ? ref.resource : `${ref.resource}/${ref.subresource}`;
  const bearer = signedIn ? { method: "bearer", outcome: "success" as const } : undefined;
  const authentication = draft.authentication ? { method: draft.authentication.method, outcome: draft.authentication.outcome } : bearer;
  return {
    verb: draft.verb,
    group: ref?.apiGroup ?? "",
    resource,
    path: draft.requestURI ?? "",
    code,
    seconds,
    ...(authentication === undefined ? {} : { authentication }),
    denied: draft.annotations?.["authorization.k8s.io/decision"] === "forbid",
  };
}

interface Executed {
  outcome: Outcome;
  exchange?: Exchange | undefined;
}

async function execute(context: PipelineContext, request: IncomingMessage, url: URL, draft: AuditDraft): Promise<Executed> {
  let exchange: Exchange | undefined;
  try {
    const identity = await authenticate(context.access, request, draft);
    refuseImpersonation(request);
    const endpoint = context.resolve(request.method ?? "GET", url, request.url ?? "/");
    exchange = createExchange(request, url.searchParams, identity);
    const permission = await endpoint.permission(exchange);
    await allow(context, permission, identity, draft);
    // A dry run changes nothing, so there is no change to record before it; its outcome is recorded, marked.
    if (permission.dryRun === true && draft.annotations !== undefined) draft.annotations[DRY_RUN_ANNOTATION] = "All";
    else if (isMutation(draft.verb)) await recordIntent(context.access, draft);
    return { outcome: await endpoint.run(exchange), exchange };
  } catch (error) {
    return { outcome: errorReply(context.logger, error), exchange };
  }
}

/**
 * Impersonation headers (`kubectl --as`) are refused, not ignored: ignoring them would answer, and act, as the
 * caller while the caller believes it speaks for someone else.
 */
function refuseImpersonation(request: IncomingMessage): void {
  const headers = Object.keys(request.headers).filter((name) => name.startsWith("impersonate-"));
  if (headers.length === 0) return;
  throw new ForbiddenError(`impersonation (${headers.join(", ")}; kubectl --as/--as-group) is not supported; ask about another user with a SubjectAccessReview (holdfast auth can-i --as USER)`);
}

async function allow(context: PipelineContext, permission: Permission, identity: Identity, draft: AuditDraft): Promise<void> {
  draft.verb = permission.verb;
  if (permission.attributes?.path !== undefined) draft.requestURI = permission.attributes.path;
  else if (permission.attributes) draft.objectRef = objectRefOf(permission.attributes);
  if (permission.allowedBecause !== undefined) {
    draft.annotations = { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": permission.allowedBecause };
  } else {
    if (!permission.attributes) throw new Error("an endpoint without RBAC attributes must say why it is allowed");
    await authorize(context.access, identity, permission.attributes, draft);
  }
  if (permission.attributes && isMutation(permission.verb)) await context.frozen?.check(context.access.authorizer, identity, permission.attributes);
}

async function executePublic(context: PipelineContext, endpoint: PublicEndpoint, request: IncomingMessage, draft: AuditDraft): Promise<Executed> {
  draft.verb = endpoint.verb;
  draft.objectRef = endpoint.objectRef;
  try {
    if (isMutation(draft.verb)) await recordIntent(context.access, draft);
    return { outcome: await endpoint.run(request, draft) };
  } catch (error) {
    return { outcome: errorReply(context.logger, error) };
  }
}

/**
 * Record the outcome. When the log cannot take it, a read (or a refused write) is answered 503 instead, so nothing
 * is disclosed unrecorded; a write that already happened keeps its answer, its RequestReceived record being durable.
 */
async function recordOutcome(context: PipelineContext, draft: AuditDraft, outcome: Outcome, exchange: Exchange | undefined): Promise<Outcome> {
  try {
    const reason = isStream(outcome) ? undefined : reasonOf(outcome);
    if (exchange?.actingFor !== undefined && draft.annotations !== undefined) draft.annotations["holdfast.io/acting-for"] = exchange.actingFor;
    await record(context.access, draft, { code: outcome.status, reason }, exchange?.parsedBody);
    return outcome;
  } catch (error) {
    context.logger.error({ err: error }, "the audit log cannot be written");
    if (isMutation(draft.verb) && draft.annotations?.[DRY_RUN_ANNOTATION] === undefined && outcome.status < 400) return outcome;
    return errorReply(context.logger, auditUnavailable(error));
  }
}

async function deliver(context: PipelineContext, request: IncomingMessage, response: ServerResponse, outcome: Outcome): Promise<void> {
  if (isStream(outcome)) {
    try {
      const watch = await outcome.start(response);
      context.watches.add(watch);
      response.on("close", () => context.watches.delete(watch));
      return;
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      outcome = errorReply(context.logger, error);
    }
  }
  // After a refused body the rest of it may still be in flight; closing the connection drops it.
  const headers = request.complete ? (outcome.headers ?? {}) : { ...outcome.headers, Connection: "close" };
  if (outcome.bytes === undefined) sendJson(response, outcome.status, outcome.body, headers);
  else sendBytes(response, outcome.status, outcome.bytes, headers);
}

/** A Status reply for any thrown value (one mapping, in errorToStatus). */
export function errorReply(logger: Logger, error: unknown): Reply {
  const { httpStatus, body } = errorToStatus(error, logger);
  const headers = error instanceof TooManyRequestsError ? { "Retry-After": String(error.retryAfterSeconds) } : undefined;
  return headers === undefined ? { status: httpStatus, body } : { status: httpStatus, body, headers };
}

function reasonOf(reply: Reply): string | undefined {
  const body = reply.body as { kind?: unknown; reason?: unknown } | undefined;
  return body?.kind === "Status" && typeof body.reason === "string" ? body.reason : undefined;
}
