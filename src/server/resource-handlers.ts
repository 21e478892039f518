/** The verbs on resource paths: get, list, watch, create, update, patch, delete, and the status subresource. */
import { apiVersionOf, type KindInfo, type ObjectRef, type Resource } from "../api/index.ts";
import { InputError, NotFoundError } from "../errors/index.ts";
import type { DeleteOptions, Store } from "../store/index.ts";
import type { Admission, WriteTarget } from "./admission/index.ts";
import type { Exchange, Outcome, Reply } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { fieldValidationOf, warningHeader } from "./field-validation.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { hasBody, requireMediaType } from "./request-body.ts";
import type { ResourceRoute } from "./route.ts";
import { startWatch } from "./watch-stream.ts";

/** What the resource handlers use. */
export interface ResourceDeps {
  store: Store;
  admission: Admission;
}

/** Serve one request on a resource path: a reply, or a stream for a watch. */
export async function serveResource(deps: ResourceDeps, route: ResourceRoute, exchange: Exchange): Promise<Outcome> {
  const method = exchange.request.method ?? "GET";
  if (route.name === undefined) return serveCollection(deps, route, method, exchange);
  const named = { ...route, name: route.name };
  return route.subresource === "status" ? serveStatus(deps, named, method, exchange) : serveObject(deps, named, method, exchange);
}

type NamedRoute = ResourceRoute & { name: string };

async function serveCollection(deps: ResourceDeps, route: ResourceRoute, method: string, exchange: Exchange): Promise<Outcome> {
  const { query } = exchange;
  if (method === "GET" && isTrue(query.get("watch"))) {
    const labelSelector = query.get("labelSelector") ?? undefined;
    const watch = { kind: route.kind.kind, namespace: route.namespace, labelSelector, resourceVersion: query.get("resourceVersion") ?? undefined };
    return { status: 200, start: (response) => startWatch(deps.store, watch, response) };
  }
  if (method === "GET") return { status: 200, body: await list(deps.store, route, query) };
  if (method === "POST" && (route.namespace !== undefined || !route.kind.namespaced)) {
    requireMediaType(exchange.request, "application/json");
    const target = writeTargetOf(route, exchange);
    const object = await deps.admission.admitWrite(target, await exchange.body(), undefined);
    return written(target, 201, await deps.store.create(object));
  }
  throw notAllowed(method, route, "GET (list, ?watch=true) and, within a namespace, POST");
}

async function list(store: Store, route: ResourceRoute, query: URLSearchParams): Promise<unknown> {
  const labelSelector = query.get("labelSelector");
  const options = { ...(route.namespace === undefined ? {} : { namespace: route.namespace }), ...(labelSelector === null ? {} : { labelSelector }) };
  const result = await store.list(route.kind.kind, options);
  return { apiVersion: apiVersionOf(route.kind), kind: `${route.kind.kind}List`, metadata: { resourceVersion: result.resourceVersion }, items: result.items };
}

async function serveObject(deps: ResourceDeps, route: NamedRoute, method: string, exchange: Exchange): Promise<Reply> {
  const { store, admission } = deps;
  switch (method) {
    case "GET":
      return { status: 200, body: await mustGet(store, route) };
    case "PUT": {
      const target = writeTargetOf(route, exchange);
      requireMediaType(exchange.request, "application/json");
      const body = await exchange.body();
      const old = await mustGet(store, route);
      return written(target, 200, await store.update(await admission.admitWrite(target, body, old)));
    }
    case "PATCH": {
      const target = writeTargetOf(route, exchange);
      const old = await patchTarget(store, route, exchange);
      return written(target, 200, await store.update(await admission.admitWrite(target, old.merged, old.current)));
    }
    case "DELETE":
      return { status: 200, body: await remove(deps, route, exchange) };
    default:
      throw notAllowed(method, route, "GET, PUT, PATCH and DELETE");
  }
}

async function serveStatus(deps: ResourceDeps, route: NamedRoute, method: string, exchange: Exchange): Promise<Reply> {
  const { store, admission } = deps;
  if (method === "GET") return { status: 200, body: await mustGet(store, route) };
  if (method === "PUT") {
    const target = writeTargetOf(route, exchange);
    requireMediaType(exchange.request, "application/json");
    const body = await exchange.body();
    const old = await mustGet(store, route);
    return written(target, 200, await store.updateStatus(await admission.admitWrite(target, body, old)));
  }
  if (method === "PATCH") {
    const target = writeTargetOf(route, exchange);
    const patched = await patchTarget(store, route, exchange);
    return written(target, 200, await store.updateStatus(await admission.admitWrite(target, patched.merged, patched.current)));
  }
  throw notAllowed(method, route, "GET, PUT and PATCH on status");
}

/** Read a merge patch and apply it to the current object; the current resourceVersion makes a racing write a 409. */
async function patchTarget(store: Store, route: NamedRoute, exchange: Exchange): Promise<{ current: Resource; merged: unknown }> {
  requireMediaType(exchange.request, "application/merge-patch+json");
  const patch = await exchange.body();
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) throw new InputError("a merge patch must be a JSON object");
  const current = await mustGet(store, route);
  return { current, merged: applyMergePatch(current, patch) };
}

async function remove(deps: ResourceDeps, route: NamedRoute, exchange: Exchange): Promise<Resource> {
  const options = await deleteOptions(exchange);
  const current = await mustGet(deps.store, route);
  await deps.admission.admitDelete(route.kind, current);
  const deleted = await deps.store.delete(refOf(route), options);
  return deleted ?? current;
}

/** Preconditions from a DeleteOptions body (`preconditions.uid/resourceVersion`) or the query. */
async function deleteOptions(exchange: Exchange): Promise<DeleteOptions> {
  const options: DeleteOptions = {};
  let preconditions: Record<string, unknown> = {};
  if (hasBody(exchange.request)) {
    requireMediaType(exchange.request, "application/json");
    const body = await exchange.body();
    const given = (body as { preconditions?: unknown } | undefined)?.preconditions;
    if (typeof given === "object" && given !== null) preconditions = given as Record<string, unknown>;
  }
  const uid = preconditions["uid"] ?? exchange.query.get("uid") ?? undefined;
  const resourceVersion = preconditions["resourceVersion"] ?? exchange.query.get("resourceVersion") ?? undefined;
  if (typeof uid === "string") options.uid = uid;
  if (typeof resourceVersion === "string") options.resourceVersion = resourceVersion;
  return options;
}

/**
 * Where a write goes, who asks (admission checks that RBAC objects grant nothing the requester lacks), what to do
 * with unknown fields (`?fieldValidation=`), and where admission leaves its warnings.
 */
function writeTargetOf(route: ResourceRoute, exchange: Exchange): WriteTarget & { warnings: string[] } {
  const fieldValidation = fieldValidationOf(exchange.query);
  return { kind: route.kind, namespace: route.namespace, name: route.name, subresource: route.subresource, requester: exchange.identity, fieldValidation, warnings: [] };
}

/** The reply to a write, with admission's warnings in a `Warning` header as the Kubernetes API server sends them. */
function written(target: { warnings: readonly string[] }, status: number, body: Resource): Reply {
  const warning = warningHeader(target.warnings);
  return warning === undefined ? { status, body } : { status, body, headers: { Warning: warning } };
}

function refOf(route: NamedRoute): ObjectRef {
  return route.kind.namespaced ? { kind: route.kind.kind, namespace: route.namespace, name: route.name } : { kind: route.kind.kind, name: route.name };
}

async function mustGet(store: Store, route: NamedRoute): Promise<Resource> {
  if (route.kind.namespaced && route.namespace === undefined) throw new InputError(`${route.kind.plural} are namespaced: address one under /namespaces/{namespace}/`);
  const object = await store.get(refOf(route));
  if (object === undefined) throw notFound(route.kind, route.name, route.namespace);
  return object;
}

function notFound(kind: KindInfo, name: string, namespace: string | undefined): NotFoundError {
  const qualified = kind.group === "" ? kind.plural : `${kind.plural}.${kind.group}`;
  const where = namespace === undefined ? "" : ` in namespace ${namespace}`;
  return new NotFoundError(`${qualified} "${name}" not found${where}`, { subject: { kind: kind.plural, group: kind.group, name } });
}

function notAllowed(method: string, route: ResourceRoute, allowed: string): MethodNotAllowedError {
  return new MethodNotAllowedError(`${method} is not allowed here; ${route.kind.plural} support ${allowed}`, { subject: { kind: route.kind.plural, group: route.kind.group } });
}

function isTrue(value: string | null): boolean {
  return value === "true" || value === "1";
}
