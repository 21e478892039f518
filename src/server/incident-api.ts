/**
 * Actions on an Incident, each an audited request: acknowledge, resolve, and contain (disable users, end their
 * sessions and tokens, revoke tokens, freeze or unfreeze namespaces). Each step of a containment is also checked
 * against RBAC as the operation it performs, so containing an incident never lets anyone do more than they could do
 * directly; each is written in the incident's timeline with who did it.
 */
import { z } from "zod";
import { DETECTION_NAMESPACE, newRotationRequest, ROTATE_PASSWORDS_ANNOTATION, type Cluster, type Incident, type IncidentState, type Namespace } from "../api/index.ts";
import { ConflictError, ForbiddenError, InvalidError, NotFoundError } from "../errors/index.ts";
import { changeIncidentStatus, timelineEntry } from "../detection/index.ts";
import type { AuthService, Authorizer, Identity, RequestAttributes } from "../security/index.ts";
import type { Store } from "../store/index.ts";
import { FROZEN_ANNOTATION } from "./access/index.ts";
import type { Endpoint, Exchange, Reply } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { parseBody } from "./security-api/index.ts";

/** What the incident actions act on. */
export interface IncidentApi {
  store: Store;
  auth: AuthService;
  authorizer: Authorizer;
}

const GROUP = "holdfast.io";
const ACTIONS = new Set(["acknowledge", "resolve", "contain"]);
const noteSchema = z.strictObject({ message: z.string().max(2000).optional() });
const names = z.array(z.string().min(1).max(253)).max(50).default([]);
/** A containment: every list may be empty, but not all of them. */
export const containmentSchema = z.strictObject({
  message: z.string().max(2000).optional(),
  disableUsers: names,
  revokeSessions: names,
  revokeTokens: names,
  freezeNamespaces: names,
  unfreezeNamespaces: names,
  /** Clusters (`NAMESPACE/NAME`, or NAME in default) whose system accounts get new passwords, applied online (ADR 0038). */
  rotateCredentials: names,
});
/** See {@link containmentSchema}. */
export type Containment = z.infer<typeof containmentSchema>;

/** The endpoint for `POST /apis/holdfast.io/v1/namespaces/holdfast-system/incidents/NAME/ACTION`, or undefined. */
export function incidentEndpoint(api: IncidentApi, method: string, segments: readonly string[]): Endpoint | undefined {
  const [apis, group, version, namespaces, namespace, plural, name, action, ...extra] = segments;
  const prefix = [apis, group, version, namespaces, plural].join("/");
  if (prefix !== `apis/${GROUP}/v1/namespaces/incidents` || name === undefined || action === undefined || extra.length > 0) return undefined;
  if (!ACTIONS.has(action)) throw new NotFoundError(`incidents/${name}/${action} is not served; actions: acknowledge, contain, resolve`);
  if (method !== "POST") throw new MethodNotAllowedError(`${method} is not allowed on incidents/${name}/${action}; use POST`);
  if (namespace !== DETECTION_NAMESPACE) throw new NotFoundError(`incidents live in namespace ${DETECTION_NAMESPACE}`);
  const attributes: RequestAttributes = { verb: "update", apiGroup: GROUP, resource: "incidents", subresource: action, namespace, name };
  return { permission: () => ({ verb: "update", attributes }), run: (exchange) => runAction(api, exchange, name, action) };
}

async function runAction(api: IncidentApi, exchange: Exchange, name: string, action: string): Promise<Reply> {
  const actor = exchange.identity.username;
  if (action === "contain") return { status: 200, body: await contain(api, exchange, name) };
  const { message } = await parseBody(exchange, noteSchema, `${action} request`);
  const target: IncidentState = action === "acknowledge" ? "Acknowledged" : "Resolved";
  const updated = await changeIncidentStatus(api.store, name, (status) => {
    if (status.state === "Resolved") throw new ConflictError(`incident ${name} is already resolved`);
    if (target === "Acknowledged" && status.state !== "Open") throw new ConflictError(`incident ${name} is ${status.state}; only an Open incident is acknowledged`);
    status.state = target;
    status.timeline.push(timelineEntry(actor, target, message ?? `${target.toLowerCase()} by ${actor}`));
  });
  return { status: 200, body: updated };
}

interface Step {
  action: string;
  target: string;
  /** The operation this step is, as RBAC sees it. */
  attributes: RequestAttributes;
  run(): Promise<string>;
}

function stepsOf(api: IncidentApi, containment: Containment, incident: string): Step[] {
  const authn = "authentication.holdfast.io";
  return [
    ...containment.disableUsers.map((user) => ({
      action: "DisableUser",
      target: user,
      attributes: { verb: "update", apiGroup: authn, resource: "users", name: user },
      run: async () => {
        await api.auth.setDisabled(user, true);
        return `user ${user} disabled: their sessions ended and their API tokens are refused`;
      },
    })),
    ...containment.revokeSessions.map((user) => ({
      action: "RevokeSessions",
      target: user,
      attributes: { verb: "update", apiGroup: authn, resource: "users", name: user },
      run: async () => `every session of ${user} ended and ${await api.auth.revokeCredentials(user)} API token(s) revoked`,
    })),
    ...containment.revokeTokens.map((id) => ({
      action: "RevokeToken",
      target: id,
      attributes: { verb: "delete", apiGroup: authn, resource: "apitokens", name: id },
      run: async () => {
        await api.auth.revokeToken(id);
        return `API token ${id} revoked`;
      },
    })),
    ...containment.freezeNamespaces.map((namespace) => freezeStep(api.store, namespace, incident)),
    ...containment.unfreezeNamespaces.map((namespace) => freezeStep(api.store, namespace, undefined)),
    ...containment.rotateCredentials.map((target) => rotateStep(api.store, target)),
  ];
}

function freezeStep(store: Store, namespace: string, incident: string | undefined): Step {
  return {
    action: incident === undefined ? "UnfreezeNamespace" : "FreezeNamespace",
    target: namespace,
    attributes: { verb: "update", apiGroup: "", resource: "namespaces", name: namespace },
    run: async () => {
      if (namespace === DETECTION_NAMESPACE) throw new InvalidError(`${DETECTION_NAMESPACE} cannot be frozen: incidents are handled there`);
      const found = await store.get<Namespace>({ kind: "Namespace", name: namespace });
      if (found === undefined) throw new NotFoundError(`namespace ${namespace} not found`);
      const others = Object.entries(found.metadata.annotations ?? {}).filter(([key]) => key !== FROZEN_ANNOTATION);
      const annotations = Object.fromEntries(incident === undefined ? others : [...others, [FROZEN_ANNOTATION, incident]]);
      await store.update<Namespace>({ ...found, metadata: { ...found.metadata, annotations } });
      return incident === undefined ? `namespace ${namespace} unfrozen` : `namespace ${namespace} frozen: read-only for everyone but cluster administrators`;
    },
  };
}

/** Ask for new passwords of every system account of a cluster, as `holdfast cluster rotate-password` does (ADR 0038). */
function rotateStep(store: Store, target: string): Step {
  const [namespace, name] = target.includes("/") ? target.split("/", 2) : ["default", target];
  return {
    action: "RotateCredentials",
    target,
    attributes: { verb: "update", apiGroup: "apps.kubeblocks.io", resource: "clusters", namespace: namespace ?? "default", name: name ?? "" },
    run: async () => {
      const found = await store.get<Cluster>({ kind: "Cluster", namespace: namespace ?? "default", name: name ?? "" });
      if (found === undefined) throw new NotFoundError(`cluster ${target} not found`);
      const request = newRotationRequest();
      const annotations = { ...found.metadata.annotations, [ROTATE_PASSWORDS_ANNOTATION]: JSON.stringify(request) };
      await store.update<Cluster>({ ...found, metadata: { ...found.metadata, annotations } });
      return `cluster ${target}: rotation ${request.id} of every system account's password requested; the node agents apply it online and the old passwords are then refused`;
    },
  };
}

async function authorizeSteps(authorizer: Authorizer, identity: Identity, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    const decision = await authorizer.authorize(identity, step.attributes);
    if (!decision.allowed) throw new ForbiddenError(`user "${identity.username}" may not ${step.action} ${step.target}: ${decision.reason}`);
  }
}

async function contain(api: IncidentApi, exchange: Exchange, name: string): Promise<unknown> {
  const containment = await parseBody(exchange, containmentSchema, "containment");
  const steps = stepsOf(api, containment, name);
  if (steps.length === 0) throw new InvalidError("a containment needs at least one step: disableUsers, revokeSessions, revokeTokens, freezeNamespaces, unfreezeNamespaces or rotateCredentials", { causes: [{ field: "disableUsers", message: "give at least one step" }] });
  const current = await api.store.get<Incident>({ kind: "Incident", namespace: DETECTION_NAMESPACE, name });
  if (current === undefined) throw new NotFoundError(`incident ${name} not found; list them with holdfast incident list`);
  if (current.status?.state === "Resolved") throw new ConflictError(`incident ${name} is resolved; containment acts on an open incident`);
  // Every step is allowed before any runs: a containment is not left half done for want of a permission.
  await authorizeSteps(api.authorizer, exchange.identity, steps);
  const actor = exchange.identity.username;
  const results: { action: string; target: string; outcome: string; message: string }[] = [];
  for (const step of steps) {
    const message = await step.run().then(
      (text) => ({ outcome: "Done", text }),
      (error: unknown) => ({ outcome: "Failed", text: error instanceof Error ? error.message : String(error) }),
    );
    results.push({ action: step.action, target: step.target, outcome: message.outcome, message: message.text });
  }
  const incident = await changeIncidentStatus(api.store, name, (status) => {
    for (const result of results) status.timeline.push(timelineEntry(actor, result.outcome === "Done" ? result.action : `${result.action}Failed`, result.message));
    if (containment.message !== undefined) status.timeline.push(timelineEntry(actor, "Note", containment.message));
    if (results.some((r) => r.outcome === "Done") && status.state !== "Resolved") status.state = "Contained";
  });
  return { incident: incident.metadata.name, state: incident.status?.state, steps: results };
}
