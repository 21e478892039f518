/**
 * PATCH of an object or its status: JSON merge patch, JSON patch, strategic merge patch, and server-side apply
 * (which creates the object when there is none). Every format ends in the same admission, store write and audit
 * as a merge patch. A write that raced a controller is patched again from the newer object (see retryRaces).
 */
import { apiVersionOf, listMergeOf, type Resource } from "../api/index.ts";
import { ConflictError, ForbiddenError, InputError } from "../errors/index.ts";
import type { Authorizer } from "../security/index.ts";
import type { Store } from "../store/index.ts";
import { resourceAttributes } from "./access/index.ts";
import type { Admission } from "./admission/index.ts";
import type { Exchange, Reply } from "./endpoint.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { applyJsonPatch, applyStrategicMergePatch, fieldManagerOf, parseJsonPatch, recordUpdate, serverSideApply, type Writer } from "./patch/index.ts";
import { booleanParam, dryRunOf } from "./query-params.ts";
import { PATCH_MEDIA_TYPES, requirePatchMediaType, type PatchMediaType } from "./request-body.ts";
import { findObject, mustGet, writeTargetOf, written, type NamedRoute } from "./resource-access.ts";
import type { ResourceRoute } from "./route.ts";

/** What the patch handlers use. */
export interface PatchDeps {
  store: Store;
  admission: Admission;
  /** RBAC, for the create an apply makes when the object does not exist (the request itself was checked for patch). */
  authorizer: Authorizer;
}

/** Who writes (the field manager), for `metadata.managedFields`. */
export function writerOf(route: ResourceRoute, exchange: Exchange, apply: boolean): Writer {
  const manager = fieldManagerOf(exchange.query, exchange.request.headers["user-agent"], apply);
  return { manager, apiVersion: apiVersionOf(route.kind), lists: (path) => listMergeOf(route.kind.kind, path), now: new Date().toISOString() };
}

/** Record a write other than apply in the object's managedFields (the fields it changed are now the writer's). */
export function withWriter(route: ResourceRoute, exchange: Exchange, old: Resource | undefined, object: Resource): Resource {
  return recordUpdate(old, object, writerOf(route, exchange, false)) as Resource;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The patched object, for every format but apply. */
function patched(route: NamedRoute, type: Exclude<PatchMediaType, "application/apply-patch+yaml">, current: Resource, body: unknown): unknown {
  switch (type) {
    case "application/merge-patch+json":
      if (!isObject(body)) throw new InputError("a merge patch must be a JSON object");
      return applyMergePatch(current, body);
    case "application/json-patch+json":
      return applyJsonPatch(current, parseJsonPatch(body));
    case "application/strategic-merge-patch+json":
      return applyStrategicMergePatch(current, body, (path) => listMergeOf(route.kind.kind, path));
  }
}

/** PATCH of an object in any of the four formats. */
export async function patchObject(deps: PatchDeps, route: NamedRoute, exchange: Exchange): Promise<Reply> {
  const type = requirePatchMediaType(exchange.request);
  const body = await exchange.body();
  const options = { dryRun: dryRunOf(exchange.query) };
  if (type === "application/apply-patch+yaml") return apply(deps, route, exchange, body);
  return retryRaces(async () => {
    const target = writeTargetOf(route, exchange);
    const current = await mustGet(deps.store, route);
    const next = patched(route, type, current, body);
    const admitted = await deps.admission.admitWrite(target, next, current);
    return { pinned: pinsVersion(next, current), write: async () => written(target, 200, await deps.store.update(withWriter(route, exchange, current, admitted), options)) };
  });
}

const PATCH_ATTEMPTS = 5;

/**
 * Read, patch and write again when the write raced (409): a controller writing status between the read and the
 * write must not fail a user's patch. As in Kubernetes, a patch that pins a resourceVersion of its own is not retried.
 */
async function retryRaces(attempt: () => Promise<{ pinned: boolean; write: () => Promise<Reply> }>): Promise<Reply> {
  for (let tries = 1; ; tries += 1) {
    const { pinned, write } = await attempt();
    try {
      return await write();
    } catch (error) {
      if (pinned || !(error instanceof ConflictError) || tries >= PATCH_ATTEMPTS) throw error;
    }
  }
}

/** Does the patched object carry a resourceVersion other than the one it was patched from (the client pinned it)? */
function pinsVersion(next: unknown, current: Resource | undefined): boolean {
  const metadata = isObject(next) && isObject(next["metadata"]) ? next["metadata"] : {};
  const version = metadata["resourceVersion"];
  return current !== undefined && version !== undefined && version !== current.metadata.resourceVersion;
}

/** PATCH of the status subresource: every format but apply (status is the controllers' to write). */
export async function patchStatus(deps: PatchDeps, route: NamedRoute, exchange: Exchange): Promise<Reply> {
  const type = requirePatchMediaType(exchange.request, PATCH_MEDIA_TYPES.filter((t) => t !== "application/apply-patch+yaml"));
  if (type === "application/apply-patch+yaml") throw new InputError("server-side apply is not served on status");
  const body = await exchange.body();
  return retryRaces(async () => {
    const target = writeTargetOf(route, exchange);
    const current = await mustGet(deps.store, route);
    const next = patched(route, type, current, body);
    const admitted = await deps.admission.admitWrite(target, next, current);
    return { pinned: pinsVersion(next, current), write: async () => written(target, 200, await deps.store.updateStatus(admitted, { dryRun: dryRunOf(exchange.query) })) };
  });
}

/** Server-side apply: the applier's intent merged into the live object (or a new one), with field ownership and conflicts. */
async function apply(deps: PatchDeps, route: NamedRoute, exchange: Exchange, body: unknown): Promise<Reply> {
  if (!isObject(body)) throw new InputError("an apply body must be one object (YAML or JSON) with apiVersion, kind and metadata.name");
  const writer = writerOf(route, exchange, true);
  const options = { dryRun: dryRunOf(exchange.query) };
  const intent = withoutStatus(body);
  return retryRaces(async () => {
    const target = writeTargetOf(route, exchange);
    const current = await findObject(deps.store, route);
    if (current === undefined) await mayCreate(deps, route, exchange);
    const merged = serverSideApply(current, intent, writer, booleanParam(exchange.query, "force"));
    const admitted = await deps.admission.admitWrite(target, merged, current);
    const write = async (): Promise<Reply> =>
      current === undefined ? written(target, 201, await deps.store.create(admitted, options)) : written(target, 200, await deps.store.update(admitted, options));
    return { pinned: pinsVersion(intent, current), write };
  });
}

/** An apply that creates needs `create` as well as `patch`, so apply is no way around a role that grants patch only. */
async function mayCreate(deps: PatchDeps, route: NamedRoute, exchange: Exchange): Promise<void> {
  const attributes = { ...resourceAttributes(route, "POST", exchange.query), verb: "create" };
  const decision = await deps.authorizer.authorize(exchange.identity, attributes);
  if (decision.allowed) return;
  throw new ForbiddenError(`user "${exchange.identity.username}" cannot create ${route.kind.plural}: ${route.name} does not exist, and an apply that creates it needs create as well as patch (${decision.reason})`, {
    subject: { kind: route.kind.plural, group: route.kind.group, name: route.name },
  });
}

/** An apply to the object itself does not write its status (the controllers' field). */
function withoutStatus(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== "status"));
}
